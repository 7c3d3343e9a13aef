/**
 * The CDC topic kept per key as a history, so the state of a key can be asked "as of" any committed offset:
 * reconcile compares each sink with the CDC state at the offsets that sink has committed (and accepts a
 * state between those offsets and the end read, since a sink writes before it commits). A key lives in one
 * partition (the message key is the edge), so its history is one list in offset order.
 *
 * States are compared as views (edge-view.ts): what a reader of the sink sees, the same for every sink.
 */
import { decodeCdc, isSystemRecord } from '@pipeline/events';
import { edgeKey, stateView } from './edge-view';

export interface HistoryRecord {
  offset: bigint;
  seq: number;
  /** The edge's view after this record; null when it left the edge inactive. */
  view: string | null;
}

export interface KeyHistory {
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
    if (isSystemRecord(r) || !r.after) return;
    this.records++;
    const id = `${r.context.database}.${r.context.table}`;
    let t = this.tables.get(id);
    if (!t) this.tables.set(id, (t = { database: r.context.database, table: r.context.table, multi: r.after.edgeId !== undefined, keys: new Map() }));
    const key = edgeKey(r.after, t.multi);
    let h = t.keys.get(key);
    if (!h) t.keys.set(key, (h = { partition, records: [] }));
    h.records.push({ offset, seq: r.seq ?? ++this.order, view: stateView(r.after) });
  }

  markRead(ends: Point): void {
    for (const [p, e] of ends) if ((this.ends.get(p) ?? 0n) < e) this.ends.set(p, e);
  }
}

/** The view of the record with the highest seq below `offset` (a relay that sent a record twice counts once). */
export function viewAt(h: KeyHistory | undefined, offset: bigint): string | null {
  if (!h) return null;
  let best: HistoryRecord | undefined;
  for (const r of h.records) if (r.offset < offset && (!best || r.seq > best.seq)) best = r;
  return best?.view ?? null;
}

/**
 * The views a sink may hold for this key when it committed `from` and may have written further: the state
 * at `from`, or after any later record read. `from` undefined: the end of what was read (the core).
 */
export function acceptableViews(h: KeyHistory | undefined, from: bigint | undefined): { expected: string | null; later: Set<string | null> } {
  if (!h) return { expected: null, later: new Set() };
  const at = from ?? h.records.reduce((m, r) => (r.offset + 1n > m ? r.offset + 1n : m), 0n);
  const later = new Set<string | null>();
  // Later records in seq order: each of them may be the last one the sink wrote.
  for (const r of h.records) if (r.offset >= at) later.add(viewAt(h, r.offset + 1n));
  return { expected: viewAt(h, at), later };
}
