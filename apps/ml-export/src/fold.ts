/**
 * The point-in-time fold: turns changes, taken in event-time order, into labelled examples whose features are
 * the counts as they stood just before the example's change, then applies the change.
 *
 * Why it cannot look ahead: features are read from the running counts before the change is applied, and the
 * counts hold only changes already folded, which are the ones earlier in `eventOrder`. Callers must feed changes
 * in that order; `fold` refuses a change that comes before the last one folded instead of silently mixing
 * orders (the hour folders arrive in time order and each hour is sorted, see export.ts).
 *
 * Counts follow the CDC `before`/`after` states: an active `before` leaves its (source OUT, target IN) counts, an
 * active `after` joins them. That is the core's own rule (docs/model.md: a multi-edge whose ends move on UPDATE
 * moves its counts), so at the end the counts are the core's.
 */
import type { Change, EdgeSide } from './changelog';
import { Rng } from './rng';

export type Label = 'active' | 'removed' | 'negative';

export interface Example {
  user: string;
  item: string;
  edgeId: string | null;
  label: Label;
  eventTimeMs: number;
  seq: bigint | null;
  /** The edge's version (the client's ordering stamp) after the change; null for sampled negatives. */
  edgeVersion: number | null;
  /** The item's IN count just before the change. */
  itemInCount: number;
  /** The user's OUT count just before the change. */
  userOutCount: number;
}

/** Event-time order: processedAt, then the core's commit sequence, then the Kafka coordinates. */
export function eventOrder(a: Change, b: Change): number {
  if (a.processedAtMs !== b.processedAtMs) return a.processedAtMs - b.processedAtMs;
  const sa = a.seq ?? -1n;
  const sb = b.seq ?? -1n;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  return a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0;
}

export interface FoldOptions {
  /** Sampled negatives per `active` example (0: none). */
  negatives: number;
  seed: number;
}

export interface FoldStats {
  changes: number;
  examples: Record<Label, number>;
  /** Negatives asked for but not found (too few items the user had no edge to). */
  negativesShort: number;
  /** A `before` the fold's state does not hold (a count would go below zero): the change log misses history. */
  inconsistencies: number;
}

const edgeKey = (s: EdgeSide) => (s.edgeId !== null ? `id:${s.edgeId}` : `st:${s.source}\u0000${s.target}`);

export class PointInTimeFold {
  readonly inCount = new Map<string, number>();
  readonly outCount = new Map<string, number>();
  /** Active edges now: key -> the ordering value of the change that made them so (seq, or processedAt without one). */
  readonly active = new Map<string, { source: string; target: string; order: bigint }>();
  readonly stats: FoldStats = { changes: 0, examples: { active: 0, removed: 0, negative: 0 }, negativesShort: 0, inconsistencies: 0 };
  /** Items with an active edge at some point so far, in first-seen order: the pool negatives are drawn from. */
  private readonly items: string[] = [];
  private readonly knownItems = new Set<string>();
  /** Per user, active edges per item now (multi-edges may hold several); kept only when sampling. */
  private readonly userItems = new Map<string, Map<string, number>>();
  private readonly rng: Rng;
  private last: Change | undefined;

  constructor(private readonly opts: FoldOptions) {
    this.rng = new Rng(opts.seed);
  }

  /** Folds one change; returns its examples (none when the change leaves the edge's activity as it was). */
  fold(c: Change): Example[] {
    if (this.last && eventOrder(this.last, c) > 0) {
      throw new Error(`changes out of event-time order: ${c.processedAtMs}/${c.seq} after ${this.last.processedAtMs}/${this.last.seq}`);
    }
    this.last = c;
    this.stats.changes++;
    const was = c.before?.active ? c.before : null;
    const now = c.after?.active ? c.after : null;
    const out: Example[] = [];
    if ((was === null) !== (now === null)) {
      const s = (now ?? was)!;
      // Read before anything below changes the counts: this is the "as of just before" of every feature.
      out.push({
        user: s.source,
        item: s.target,
        edgeId: s.edgeId,
        label: now ? 'active' : 'removed',
        eventTimeMs: c.processedAtMs,
        seq: c.seq,
        edgeVersion: c.after?.version ?? c.before?.version ?? null,
        itemInCount: this.inCount.get(s.target) ?? 0,
        userOutCount: this.outCount.get(s.source) ?? 0,
      });
      if (now && this.opts.negatives > 0) out.push(...this.sampleNegatives(c, s));
    }
    if (was) this.leave(was);
    if (now) this.join(now, c);
    for (const e of out) this.stats.examples[e.label]++;
    return out;
  }

  /**
   * Up to `negatives` distinct items drawn uniformly from those that had an active edge before this change, leaving
   * out the positive item and every item the user has an active edge to at this time. Bounded: at most 20 draws
   * per negative asked for.
   */
  private sampleNegatives(c: Change, positive: EdgeSide): Example[] {
    const taken = this.userItems.get(positive.source);
    const chosen = new Set<string>();
    const out: Example[] = [];
    const pool = this.items.length;
    for (let draws = 0; out.length < this.opts.negatives && draws < this.opts.negatives * 20 && pool > 0; draws++) {
      const item = this.items[this.rng.below(pool)]!;
      if (item === positive.target || chosen.has(item) || (taken?.get(item) ?? 0) > 0) continue;
      chosen.add(item);
      out.push({
        user: positive.source,
        item,
        edgeId: null,
        label: 'negative',
        eventTimeMs: c.processedAtMs,
        seq: c.seq,
        edgeVersion: null,
        itemInCount: this.inCount.get(item) ?? 0,
        userOutCount: this.outCount.get(positive.source) ?? 0,
      });
    }
    this.stats.negativesShort += this.opts.negatives - out.length;
    return out;
  }

  private leave(s: EdgeSide): void {
    const inN = (this.inCount.get(s.target) ?? 0) - 1;
    const outN = (this.outCount.get(s.source) ?? 0) - 1;
    if (inN < 0 || outN < 0 || !this.active.has(edgeKey(s))) this.stats.inconsistencies++;
    this.setCount(this.inCount, s.target, Math.max(0, inN));
    this.setCount(this.outCount, s.source, Math.max(0, outN));
    this.active.delete(edgeKey(s));
    const items = this.userItems.get(s.source);
    if (items) {
      const n = (items.get(s.target) ?? 0) - 1;
      if (n > 0) items.set(s.target, n);
      else items.delete(s.target);
    }
  }

  private join(s: EdgeSide, c: Change): void {
    this.setCount(this.inCount, s.target, (this.inCount.get(s.target) ?? 0) + 1);
    this.setCount(this.outCount, s.source, (this.outCount.get(s.source) ?? 0) + 1);
    this.active.set(edgeKey(s), { source: s.source, target: s.target, order: c.seq ?? BigInt(c.processedAtMs) });
    if (!this.knownItems.has(s.target)) {
      this.knownItems.add(s.target);
      this.items.push(s.target);
    }
    if (this.opts.negatives > 0) {
      let items = this.userItems.get(s.source);
      if (!items) this.userItems.set(s.source, (items = new Map()));
      items.set(s.target, (items.get(s.target) ?? 0) + 1);
    }
  }

  private setCount(m: Map<string, number>, k: string, n: number): void {
    if (n === 0) m.delete(k);
    else m.set(k, n);
  }
}
