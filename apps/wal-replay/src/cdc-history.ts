/**
 * The CDC topic kept per key as a history, so the state of a key can be asked "as of" any committed offset:
 * reconcile compares each sink with the CDC state at the offsets that sink has committed (and accepts a
 * state between those offsets and the end read, since a sink writes before it commits). A key lives in one
 * partition (the message key is the edge), so its history is one list in offset order.
 *
 * States are compared as views (edge-view.ts): what a reader of the sink sees, the same for every sink.
 */
import { decodeCdc, isSystemRecord, isVertexRecord } from '@pipeline/events';
import { edgeKey, stateView } from './edge-view';

export interface HistoryRecord {
  partition: number;
  offset: bigint;
  seq: number;
  /** The edge's view after this record; null when it left the edge inactive. */
  view: string | null;
}

export interface KeyHistory {
  /** The partition of its first record (the stratum for sampling). */
  partition: number;
  records: HistoryRecord[];
}

export interface TableHistory {
  database: string;
  table: string;
  multi: boolean;
  keys: Map<string, KeyHistory>;
}

/** Offsets per partition: the next offset to read (exclusive end of what is covered). */
export type Point = Map<number, bigint>;

export class CdcHistory {
  readonly tables = new Map<string, TableHistory>();
  records = 0;
  undecodable = 0;
  /** Exclusive end of what was read, per partition. */
  readonly ends: Point = new Map();
  private order = 0;

  add(partition: number, offset: bigint, value: Buffer | null): void {
    if (!value) return;
    let r;
    try {
      r = decodeCdc(value);
    } catch {
      this.undecodable++;
      return;
    }
    if (isVertexRecord(r) || isSystemRecord(r) || !r.after) return;
    this.records++;
    const id = `${r.context.database}.${r.context.table}`;
    let t = this.tables.get(id);
    if (!t) this.tables.set(id, (t = { database: r.context.database, table: r.context.table, multi: r.after.edgeId !== undefined, keys: new Map() }));
    const key = edgeKey(r.after, t.multi);
    let h = t.keys.get(key);
    if (!h) t.keys.set(key, (h = { partition, records: [] }));
    h.records.push({ partition, offset, seq: r.seq ?? ++this.order, view: stateView(r.after) });
  }

  markRead(ends: Point): void {
    for (const [p, e] of ends) if ((this.ends.get(p) ?? 0n) < e) this.ends.set(p, e);
  }
}

/** Next offset covered per partition; a partition absent from the point is not covered at all. */
const covered = (point: Point | undefined, r: HistoryRecord): boolean => point === undefined || r.offset < (point.get(r.partition) ?? 0n);

function newest(h: KeyHistory, point: Point | undefined): HistoryRecord | undefined {
  let best: HistoryRecord | undefined;
  for (const r of h.records) if (covered(point, r) && (!best || r.seq > best.seq)) best = r;
  return best;
}

/**
 * The view as of `point` (undefined: everything read): the record with the highest seq among those below
 * the point's offset of their partition (a record the relay sent twice counts once).
 */
export function viewAt(h: KeyHistory | undefined, point: Point | undefined): string | null {
  if (!h) return null;
  return newest(h, point)?.view ?? null;
}

/**
 * The views a sink may hold for this key when it committed `point` and may have written further: the state
 * at the point, or the state after any later record with a higher seq (the sink wrote up to it, not past).
 */
export function acceptableViews(h: KeyHistory | undefined, point: Point | undefined): { expected: string | null; later: Set<string | null> } {
  if (!h) return { expected: null, later: new Set() };
  const at = newest(h, point);
  const later = new Set<string | null>();
  for (const r of h.records) if (!covered(point, r) && (!at || r.seq > at.seq)) later.add(r.view);
  return { expected: at?.view ?? null, later };
}
