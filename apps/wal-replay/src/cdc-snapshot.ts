/**
 * The state accumulated from CDC (docs/records.md, "CDC record"): the latest `after` per (table, key) is the current
 * snapshot; the sum of `accumulator` per start and direction gives counts. "Latest" is by the core's `seq`
 * (assigned at commit), never by Kafka offset: a relay that sent a batch twice, or a topic mirrored out of
 * order, must not roll a key back.
 */
import { decodeCdc, isSystemRecord, stringifyJson, isVertexRecord, type CdcRecord, type CdcState, type DecodedCdc } from '@pipeline/events';

export interface KeyedState {
  state: CdcState;
  seq: number;
  processedAt: number;
}

export interface TableSnapshot {
  database: string;
  table: string;
  multi: boolean;
  /** Key -> latest state: JSON [source, target] for edges, JSON id for multi-edges. */
  keys: Map<string, KeyedState>;
  /** `OUT|<JSON start>` -> sum of accumulators (unique edges only; see README for multi-edges). */
  accumulated: Map<string, number>;
}

export const stateKey = (s: { source: unknown; target: unknown; edgeId?: unknown }): string =>
  s.edgeId !== undefined ? stringifyJson(s.edgeId) : stringifyJson([s.source, s.target]);
export const countKey = (direction: 'OUT' | 'IN', start: unknown): string => `${direction}|${stringifyJson(start)}`;

export class CdcSnapshot {
  readonly tables = new Map<string, TableSnapshot>();
  /** Highest processedAt folded in: the snapshot's cut. */
  cut = 0;
  records = 0;
  skipped = 0;
  /** Keys whose CDC history restarted (a record without `before` after earlier ones: a rebuilt core). */
  restarts = 0;
  private order = 0;
  /** Vertex records left out: the core keeps no vertex tables. */
  vertex = 0;
  /** seqs folded already: a record the relay sent twice must not count twice. */
  private readonly seen = new Set<number>();

  constructor(private readonly until?: number) {}

  /** Folds one raw CDC message; answers false when it was left out (sys, undecodable, after the cut). */
  add(value: Buffer | string): boolean {
    let r: DecodedCdc;
    try {
      r = decodeCdc(value);
    } catch {
      this.skipped++;
      return false;
    }
    if (isVertexRecord(r)) {
      this.vertex++;
      return false;
    }
    if (isSystemRecord(r)) return false;
    if (this.until !== undefined && r.processedAt > this.until) return false;
    this.fold(r);
    return true;
  }

  fold(r: CdcRecord): void {
    if (r.seq !== undefined) {
      if (this.seen.has(r.seq)) return;
      this.seen.add(r.seq);
    }
    this.records++;
    if (r.processedAt > this.cut) this.cut = r.processedAt;
    const s = r.after ?? r.before;
    if (!s) return;
    const id = `${r.context.database}.${r.context.table}`;
    let t = this.tables.get(id);
    if (!t) {
      t = { database: r.context.database, table: r.context.table, multi: s.edgeId !== undefined, keys: new Map(), accumulated: new Map() };
      this.tables.set(id, t);
    }
    // Without a seq (v2 records), read order stands in for it.
    const seq = r.seq ?? ++this.order;
    const k = stateKey(s);
    const prev = t.keys.get(k);
    // A record without `before` for a key that has a history starts a new history: a core keeps a deleted
    // edge as a tombstone, so only a core rebuilt from the WAL (an empty store) sends it, with CREATED (+1)
    // for edges the lost core had counted already. The accumulated count restarts there, so the sum stays the
    // count of one history, not of both.
    let delta: number = r.accumulator;
    if (!t.multi && prev && seq > prev.seq && !r.before) {
      if (prev.state.active) delta -= 1;
      this.restarts++;
    }
    if (r.after && (!prev || seq > prev.seq)) t.keys.set(k, { state: r.after, seq, processedAt: r.processedAt });
    if (!t.multi && delta !== 0) {
      for (const [dir, start] of [['OUT', s.source], ['IN', s.target]] as const) {
        const ck = countKey(dir, start);
        t.accumulated.set(ck, (t.accumulated.get(ck) ?? 0) + delta);
      }
    }
  }
}
