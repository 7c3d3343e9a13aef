/**
 * The processor's sink: takes the queued WAL records of a batch (mode.queue=true, not `sys`), and applies them
 * through the core with one `POST .../edges/sync?force=true` per table (multi-edges: `.../multi-edges/sync`),
 * the mutations in batch order, so each key's records keep their WAL (partition) order.
 *
 * Failure handling (libs/stream decides retry vs DLQ from the error):
 *  - core down, 5xx, timeout, 401/408/429: a retryable SinkError; the stream pauses and writes the whole batch
 *    again. Tables already applied are applied again: harmless, the transition makes replays IDLE.
 *  - 4xx naming `mutations[i]`: that record is dead-lettered, the rest of the table's records are sent again.
 *  - 413 or a 4xx naming no item: the table's records are split in halves until the bad one is alone.
 *  - other 4xx (unknown table 404, read-only 403): the table's records are dead-lettered.
 *  - a key the core answered ERROR for (every event rejected by the transition, e.g. a missing
 *    non-nullable field): its records are dead-lettered; the core's CDC carries the message.
 */
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { WalRecord } from '@pipeline/events';
import { SinkError, type DecodedRecord, type FailedRecord, type Sink, type SinkResult } from '@pipeline/stream';
import { CoreError, isMultiEdgeRecord, resultKey, resultKeyOfRecord, walToMutation, type CoreClient, type MutationResult } from '@pipeline/core-api';
import { tableKey, type KeepNewestRule } from './config';
import type { KeepNewest } from './keep-newest';
import { isQueued } from './queue-mode';
import type { RateLimiter } from './token-bucket';

type Rec = DecodedRecord<WalRecord>;

/** What the sink reads of a final answer: a CoreError, or a key the core answered ERROR for (status 200). */
type Rejection = Pick<CoreError, 'code' | 'detail' | 'field'> & { status: number | null };

interface TableGroup {
  database: string;
  table: string;
  multi: boolean;
  records: Rec[];
}

export interface WalApplySinkOptions {
  core: CoreClient;
  limiter: RateLimiter;
  keepNewest: KeepNewest;
  rules: Map<string, KeepNewestRule>;
  concurrency: number;
  /** Leave items whose resolved mode was IGNORE unapplied (see isQueued). */
  skipIgnored?: boolean;
  logger: Logger;
  registry: Registry;
  /** Called after each request the core accepted (before the batch resolves, so before its commit). */
  onApplied?: () => void;
}

export class WalApplySink implements Sink<WalRecord> {
  private readonly log: Logger;
  private readonly applied: Counter<'table' | 'status'>;
  private readonly dead: Counter<'table' | 'code'>;
  private readonly trimmed: Counter<'table'>;
  private readonly delay: Histogram<'table'>;
  private readonly limiterWait: Counter;

  constructor(private readonly o: WalApplySinkOptions) {
    this.log = o.logger.child({ component: 'wal-apply.sink' });
    const registers = [o.registry];
    this.applied = new Counter({ name: 'async_processor_mutations_total', help: 'Queued mutations applied, by the status the core answered', labelNames: ['table', 'status'], registers });
    this.dead = new Counter({ name: 'async_processor_rejected_total', help: 'Queued mutations the core rejected (dead-lettered)', labelNames: ['table', 'code'], registers });
    this.trimmed = new Counter({ name: 'async_processor_trimmed_total', help: 'Edges deleted by keep-newest-N', labelNames: ['table'], registers });
    this.delay = new Histogram({
      name: 'async_processor_delay_seconds',
      help: 'From the WAL record (the core took the request) to the core applying it',
      labelNames: ['table'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.limiterWait = new Counter({ name: 'async_processor_rate_limit_wait_seconds_total', help: 'Time spent waiting on the rate limiter', registers });
  }

  async write(batch: Rec[]): Promise<SinkResult<WalRecord>> {
    const groups = groupByTable(batch.filter((d) => isQueued(d.record, this.o.skipIgnored)));
    if (groups.length === 0) return {};
    const failed: FailedRecord<WalRecord>[] = [];
    // Tables are independent: a few at a time. Within a table, one request keeps each key's order.
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        const g = groups[next++]!;
        failed.push(...(await this.applyTable(g)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, groups.length) }, worker));
    return { failed };
  }

  private async applyTable(g: TableGroup): Promise<FailedRecord<WalRecord>[]> {
    const failed = await this.send(g, g.records);
    const rule = this.o.rules.get(tableKey(g.database, g.table));
    if (rule && !g.multi) {
      const bad = new Set(failed.map((f) => f.record));
      const sources = new Set(g.records.filter((r) => !bad.has(r)).map((r) => r.record.event.source));
      try {
        const t = await this.o.keepNewest.trim(rule, sources);
        if (t.deleted) this.trimmed.inc({ table: tableKey(g.database, g.table) }, t.deleted);
      } catch (err) {
        if (err instanceof CoreError && !err.retryable) {
          // A misconfigured rule (unknown index) must not stop the applying; it is loud in the log instead.
          this.log.error({ err, rule }, 'keep-newest: cannot scan the index; views are applied but not trimmed');
        } else {
          throw err;
        }
      }
    }
    return failed;
  }

  /** Sends `records` of one table as one request; narrows down on a rejection. */
  private async send(g: TableGroup, records: Rec[]): Promise<FailedRecord<WalRecord>[]> {
    if (records.length === 0) return [];
    const waited = await this.o.limiter.take(records.length);
    if (waited > 0) this.limiterWait.inc(waited / 1000);
    const label = tableKey(g.database, g.table);
    let results: MutationResult[];
    try {
      results = await this.o.core.mutateForced(
        g.database,
        g.table,
        g.multi,
        records.map((d) => walToMutation(d.record)),
        records.map((d) => d.record.event.requestId || d.record.context.request.requestId),
      );
    } catch (err) {
      // Outages and answers a retry can change are thrown on: the stream pauses and writes the batch again.
      if (!(err instanceof CoreError) || err.retryable) throw err;
      return this.narrow(g, records, err);
    }
    this.o.onApplied?.();
    const now = Date.now();
    const errorKeys = new Set<string>();
    for (const res of results) {
      this.applied.inc({ table: label, status: res.status }, res.count);
      if (res.status === 'ERROR') errorKeys.add(resultKey(res));
    }
    for (const d of records) this.delay.observe({ table: label }, Math.max(0, now - d.record.processedAt) / 1000);
    return records
      .filter((d) => errorKeys.has(resultKeyOfRecord(d.record)))
      .map((d) => this.fail(label, d, { status: 200, code: 'MUTATION_REJECTED', detail: 'the core answered ERROR for this key (see its CDC message)', field: null }));
  }

  /** A final rejection: the item it names is dead-lettered, or the records split in halves, or all dead-lettered. */
  private async narrow(g: TableGroup, records: Rec[], rej: Rejection): Promise<FailedRecord<WalRecord>[]> {
    const label = tableKey(g.database, g.table);
    const at = /^mutations\[(\d+)\]/.exec(rej.field ?? '');
    const index = at ? Number(at[1]) : -1;
    if (index >= 0 && index < records.length) {
      const bad = records[index]!;
      return [this.fail(label, bad, rej), ...(await this.send(g, records.filter((_, i) => i !== index)))];
    }
    if (records.length > 1 && (rej.status === 413 || rej.status === 400)) {
      const mid = records.length >> 1;
      return [...(await this.send(g, records.slice(0, mid))), ...(await this.send(g, records.slice(mid)))];
    }
    return records.map((d) => this.fail(label, d, rej));
  }

  private fail(label: string, d: Rec, rej: Rejection): FailedRecord<WalRecord> {
    const code = rej.status === 200 ? rej.code : `CORE_${rej.status}_${rej.code}`;
    this.dead.inc({ table: label, code });
    const rejection = { status: rej.status, code: rej.code, message: rej.detail, field: rej.field };
    this.log.warn({ table: label, partition: d.partition, offset: String(d.offset), rejection }, 'the core rejected a queued mutation: dead-lettered');
    return {
      record: d,
      error: new SinkError(code, `${rej.detail}${rej.field ? ` (${rej.field})` : ''}`, { retryable: false }),
    };
  }
}

/** Groups by (database, table, edge kind), keeping batch order inside each group. */
export function groupByTable(records: Rec[]): TableGroup[] {
  const groups = new Map<string, TableGroup>();
  for (const d of records) {
    const { database, table } = d.record.context;
    const multi = isMultiEdgeRecord(d.record);
    const key = JSON.stringify([database, table, multi]);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { database, table, multi, records: [] }));
    g.records.push(d);
  }
  return [...groups.values()];
}
