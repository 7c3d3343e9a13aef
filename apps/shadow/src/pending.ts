/**
 * Keys waiting to be compared, bounded. A key is due SETTLE_MS after its last touch; a new write to a key
 * waiting already moves it back (it must settle again) and clears its failed comparisons. The map is kept in
 * due order (an entry is re-inserted whenever its due time moves, always to now + settle), so a round takes
 * the due keys from the front. Beyond `max` keys a new key is not kept but counted as dropped: memory stays
 * bounded under any load, and the metric says how much went unchecked.
 */
import { keyId, type KeyRef } from './keys';

export interface PendingEntry {
  id: string;
  ref: KeyRef;
  dueAt: number;
  /** Comparisons in a row that found the cores different since the last touch. */
  failures: number;
  /** Bumped on every touch: a round that read the key before the touch must not drop it. */
  generation: number;
}

export class PendingKeys {
  private readonly entries = new Map<string, PendingEntry>();
  dropped = 0;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** A write reached the key: compare it once it has rested `settleMs`. False when the set is full. */
  touch(ref: KeyRef, now: number, settleMs: number): boolean {
    const id = keyId(ref);
    const prev = this.entries.get(id);
    if (!prev && this.entries.size >= this.max) {
      this.dropped++;
      return false;
    }
    this.entries.delete(id);
    this.entries.set(id, { id, ref, dueAt: now + settleMs, failures: 0, generation: (prev?.generation ?? 0) + 1 });
    return true;
  }

  /** The keys due at `now`, oldest first, at most `limit`. They stay in the set until settled or retried. */
  due(now: number, limit: number): PendingEntry[] {
    const out: PendingEntry[] = [];
    for (const e of this.entries.values()) {
      if (e.dueAt > now || out.length >= limit) break;
      out.push({ ...e });
    }
    return out;
  }

  /** Done with the key, unless it was touched since `seen` was taken. */
  settle(seen: PendingEntry): void {
    const cur = this.entries.get(seen.id);
    if (cur && cur.generation === seen.generation) this.entries.delete(seen.id);
  }

  /** Compare again after `settleMs`, one more failure counted (unless touched meanwhile, which starts over). */
  retry(seen: PendingEntry, now: number, settleMs: number, failed: boolean): void {
    const cur = this.entries.get(seen.id);
    if (!cur || cur.generation !== seen.generation) return;
    this.entries.delete(seen.id);
    this.entries.set(seen.id, { ...cur, dueAt: now + settleMs, failures: cur.failures + (failed ? 1 : 0) });
  }
}
