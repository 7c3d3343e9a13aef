/**
 * Mirrors the primary's WAL into the target core, then hands the touched keys to the comparer.
 *
 * Which records: every data record the primary applied when it wrote it (mode.queue=false), sent through
 * `POST .../edges/sync?force=true` (`multi-edges/sync?force=true`), so the target applies it whatever its own
 * table or system mode. Queued records (mode.queue=true: ASYNC, or IGNORE) are skipped: the primary did not
 * apply them. When the async processor applies one later, it does so through a forced sync call on the
 * primary, which writes a WAL record of its own with queue=false, and that one is mirrored, at its place in
 * the WAL. So the target gets what the primary applied, in the order it applied it, and an IGNORE'd record the
 * primary never applies is never applied on the target. `sys` records (heartbeats, schema changes) and vertex
 * records are skipped as well (the runtime already leaves them out).
 *
 * Order: one write at a time, per partition in offset order (libs/stream), and within a batch per table in
 * the order read, one request at a time: a key lives in one partition, so its records reach the target in WAL
 * order. Delivery is at least once (restart, kill -9): re-applied records are harmless, the transition is
 * idempotent. A core that does not answer, or answers 5xx, throws a retryable CoreError: the runtime pauses and
 * writes the batch again. A 4xx is not retryable: the runtime splits the batch until the refused records are
 * isolated and dead-lettered.
 */
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { isSystemRecord, isVertexRecord, type WalRecord } from '@pipeline/events';
import { isMultiEdgeRecord, walToMutation, type CoreClient, type MutationItem, type TableBody } from '@pipeline/core-api';
import { SinkError, type DecodedRecord, type FailedRecord, type Sink, type SinkResult } from '@pipeline/stream';
import type { Comparer } from './comparer';
import type { KeyRef } from './keys';

export interface ShadowSinkOptions {
  /** Items per forced sync request. */
  maxBatch: number;
  /** Share of touched unique edges whose counts are compared too. */
  countSampleRate: number;
  /** For tests: a number in [0, 1). */
  random?: () => number;
}

/** Items per request: the core takes up to 500 mutations in one request. */
export const DEFAULT_MAX_BATCH = 500;

export class ShadowSink implements Sink<WalRecord> {
  /** `db.table` -> its descriptor on the primary. */
  private readonly tables = new Map<string, TableBody>();
  private readonly m;

  constructor(
    private readonly primary: CoreClient,
    private readonly target: CoreClient,
    private readonly comparer: Comparer,
    private readonly o: ShadowSinkOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.m = {
      applied: new Counter({ name: 'shadow_records_applied_total', help: 'WAL records mirrored into the target', registers: [registry] }),
      skipped: new Counter({ name: 'shadow_records_skipped_total', help: 'WAL records not mirrored, by reason', labelNames: ['reason'], registers: [registry] }),
      itemErrors: new Counter({ name: 'shadow_item_errors_total', help: 'Mirrored items the target answered ERROR (a transition it rejected)', registers: [registry] }),
    };
  }

  /** The target gets the primary's schema (databases, tables, aliases) before any record. */
  async start(): Promise<void> {
    await this.syncSchema();
  }

  private async syncSchema(): Promise<void> {
    const schema = await this.primary.schema();
    const { created } = await this.target.applySchema(schema);
    this.tables.clear();
    for (const t of schema.tables) this.tables.set(`${t.database}.${t.table}`, t);
    if (created.length > 0) this.logger.info({ created }, 'schema copied from the primary to the target');
  }

  async write(batch: DecodedRecord<WalRecord>[]): Promise<SinkResult<WalRecord> | void> {
    const byTable = new Map<string, { db: string; table: string; items: MutationItem[]; requestIds: string[]; refs: KeyRef[] }>();
    const failed: FailedRecord<WalRecord>[] = [];
    let newest: number | null = null;
    let schemaRead = false;
    for (const d of batch) {
      const r = d.record;
      if (isVertexRecord(r) || isSystemRecord(r)) {
        this.m.skipped.inc({ reason: 'system' });
        continue;
      }
      if (r.mode.queue === true) {
        this.m.skipped.inc({ reason: 'queued' });
        continue;
      }
      const id = `${r.context.database}.${r.context.table}`;
      if (!this.tables.has(id) && !schemaRead) {
        // A table created after start: copy the schema again (once per batch).
        schemaRead = true;
        await this.syncSchema();
      }
      let item: MutationItem;
      try {
        item = walToMutation(r);
      } catch (err) {
        failed.push({ record: d, error: new SinkError('UNMIRRORABLE_RECORD', (err as Error).message, { retryable: false, cause: err }) });
        continue;
      }
      const g = byTable.get(id) ?? { db: r.context.database, table: r.context.table, items: [], requestIds: [], refs: [] };
      g.items.push(item);
      g.requestIds.push(r.context.request.requestId ?? '');
      g.refs.push(...this.refsOf(r, item));
      byTable.set(id, g);
      if (newest === null || r.processedAt > newest) newest = r.processedAt;
    }
    for (const [id, g] of byTable) {
      const desc = this.tables.get(id);
      const multi = desc ? desc.type === 'MULTI_EDGE' : g.items.some((i) => i.edge.id !== undefined);
      for (let i = 0; i < g.items.length; i += this.o.maxBatch) {
        const results = await this.target.mutateForced(g.db, g.table, multi, g.items.slice(i, i + this.o.maxBatch), g.requestIds.slice(i, i + this.o.maxBatch));
        const errors = results.filter((x) => x.status === 'ERROR').length;
        if (errors > 0) this.m.itemErrors.inc(errors);
      }
      this.m.applied.inc(g.items.length);
    }
    // Touched only once applied: a key compared before its write reached the target would only look divergent.
    for (const g of byTable.values()) this.comparer.touched(g.refs, null);
    this.comparer.touched([], newest);
    return failed.length > 0 ? { failed } : undefined;
  }

  /** The keys a record touches: its edge, and for a sample its source's OUT and target's IN counts. */
  private refsOf(r: WalRecord, item: MutationItem): KeyRef[] {
    const db = r.context.database;
    const table = r.context.table;
    if (isMultiEdgeRecord(r)) return [{ kind: 'multi', db, table, id: item.edge.id! }];
    const source = item.edge.source!;
    const target = item.edge.target!;
    const refs: KeyRef[] = [{ kind: 'edge', db, table, source, target }];
    if ((this.o.random ?? Math.random)() < this.o.countSampleRate) {
      const direction = this.tables.get(`${db}.${table}`)?.direction ?? 'BOTH';
      if (direction !== 'IN') refs.push({ kind: 'count', db, table, direction: 'OUT', start: source });
      if (direction !== 'OUT') refs.push({ kind: 'count', db, table, direction: 'IN', start: target });
    }
    return refs;
  }
}
