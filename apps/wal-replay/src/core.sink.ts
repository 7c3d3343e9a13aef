/**
 * Applies WAL records to a target core: every data record, queued or not (a rebuild applies all), through
 * `POST .../edges/sync?force=true` (multi-edges `.../multi-edges/sync?force=true`). Records are grouped per
 * table in the order read and sent in chunks, one chunk at a time, so one key's records reach the core in
 * WAL order (a key lives in one partition, and a partition's batches come one after the other).
 */
import type { Logger } from 'pino';
import { decodeWal, isSystemRecord, isVertexRecord, type DecodedWal } from '@pipeline/events';
import type { ConsumedMessage } from '@pipeline/kafka';
import { CoreError, walToMutation, type CoreClient, type MutationItem } from '@pipeline/core-api';
import { backoffDelay, sleep } from '@pipeline/errors';

export interface ApplyCounters {
  read: number;
  applied: number;
  system: number;
  undecodable: number;
  /** Vertex records: the core keeps no vertex tables, so none is replayed. */
  vertex: number;
  /** Items the core refused (a 4xx for the item alone) or answered ERROR (the transition rejected them). */
  rejected: number;
  requests: number;
}

export const emptyCounters = (): ApplyCounters => ({ read: 0, applied: 0, system: 0, undecodable: 0, vertex: 0, rejected: 0, requests: 0 });

export interface CoreSinkOptions {
  maxBatch: number;
  retries: number;
  retryBaseMs: number;
}

export class CoreSink {
  /** Kind of each table (`db.table` -> multi-edge?); filled from the schema. */
  readonly multi = new Map<string, boolean>();

  constructor(
    private readonly core: CoreClient,
    private readonly opts: CoreSinkOptions,
    private readonly logger: Logger,
    readonly counters: ApplyCounters = emptyCounters(),
  ) {}

  async write(messages: ConsumedMessage[]): Promise<void> {
    const byTable = new Map<string, { db: string; table: string; items: MutationItem[] }>();
    for (const m of messages) {
      this.counters.read++;
      let r: DecodedWal;
      try {
        r = decodeWal(m.value ?? Buffer.alloc(0));
      } catch (err) {
        this.counters.undecodable++;
        this.logger.warn({ partition: m.partition, offset: m.offset.toString(), err: String(err) }, 'undecodable WAL record skipped');
        continue;
      }
      if (isVertexRecord(r)) {
        this.counters.vertex++;
        continue;
      }
      if (isSystemRecord(r)) {
        this.counters.system++;
        continue;
      }
      const id = `${r.context.database}.${r.context.table}`;
      const g = byTable.get(id) ?? { db: r.context.database, table: r.context.table, items: [] };
      g.items.push(walToMutation(r));
      byTable.set(id, g);
    }
    for (const [id, g] of byTable) {
      const multi = this.multi.get(id) ?? g.items.some((i) => i.edge.id !== undefined);
      for (let i = 0; i < g.items.length; i += this.opts.maxBatch) await this.send(g.db, g.table, multi, g.items.slice(i, i + this.opts.maxBatch));
    }
  }

  /** Sends items; transient failures are retried, a 4xx is narrowed down item by item (one bad item must not drop its batch). */
  async send(db: string, table: string, multi: boolean, items: MutationItem[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.counters.requests++;
        const results = await this.core.mutateForced(db, table, multi, items);
        const errors = results.filter((x) => x.status === 'ERROR').length;
        this.counters.rejected += errors;
        this.counters.applied += items.length;
        return;
      } catch (err) {
        if (err instanceof CoreError && !err.retryable) {
          if (items.length === 1) {
            this.counters.rejected++;
            this.logger.warn({ db, table, item: items[0], err: err.message }, 'the core refused a WAL item; skipped');
            return;
          }
          for (const it of items) await this.send(db, table, multi, [it]);
          return;
        }
        if (attempt > this.opts.retries) throw err;
        // Retry n waits up to retryBaseMs * 2^n, at most 256 times retryBaseMs.
        const delay = backoffDelay(attempt + 1, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryBaseMs * 256 });
        this.logger.warn({ db, table, attempt, delayMs: delay, err: String(err) }, 'core unavailable; retrying');
        await sleep(delay);
      }
    }
  }
}
