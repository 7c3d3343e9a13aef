/**
 * Which CDC offsets a Kafka supervisor has ingested, from its status: what `wal-replay reconcile` waits on
 * before it compares Druid with the core.
 */
import type { SupervisorStatus } from './client';

/** Next offset per partition (exclusive end of what is covered), as bigint like Kafka offsets elsewhere. */
export type IngestedOffsets = Map<number, bigint>;

/**
 * Per partition, the offset below which every record is in rows Druid can query: the reading tasks'
 * `currentOffsets` (the lowest among replicas of a partition, since a query may reach any replica); a
 * partition no reading task reports yet falls back to its publishing task's offsets (read, being handed off,
 * still queryable), then to the reading task's starting offsets (what earlier tasks published).
 */
export function ingestedOffsets(status: Pick<SupervisorStatus, 'tasks'>): IngestedOffsets {
  const reading = new Map<number, bigint>();
  const publishing = new Map<number, bigint>();
  const starting = new Map<number, bigint>();
  const lowest = (m: Map<number, bigint>, p: number, o: bigint) => m.set(p, m.has(p) ? (m.get(p)! < o ? m.get(p)! : o) : o);
  const highest = (m: Map<number, bigint>, p: number, o: bigint) => m.set(p, m.has(p) && m.get(p)! > o ? m.get(p)! : o);
  for (const t of status.tasks) {
    for (const [p, o] of Object.entries(t.currentOffsets)) {
      if (t.type === 'ACTIVE') lowest(reading, Number(p), BigInt(o));
      else highest(publishing, Number(p), BigInt(o));
    }
    if (t.type === 'ACTIVE') for (const [p, o] of Object.entries(t.startingOffsets)) lowest(starting, Number(p), BigInt(o));
  }
  const out: IngestedOffsets = new Map(starting);
  for (const [p, o] of publishing) highest(out, p, o);
  for (const [p, o] of reading) out.set(p, o);
  return out;
}

/** Records still to ingest to reach `target` (0 when every partition is there). */
export function recordsBehind(ingested: IngestedOffsets, target: Map<number, bigint>): number {
  let n = 0n;
  for (const [p, end] of target) {
    const at = ingested.get(p) ?? 0n;
    if (end > at) n += end - at;
  }
  return Number(n);
}
