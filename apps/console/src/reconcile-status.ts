/**
 * What a scheduled `wal-replay reconcile --every-ms` says about the sinks, read from its gauges: the console shows
 * it as one box, and marks each sink it found divergent.
 */
import { sumOf, type Sample } from './prom-text';

export interface ReconcileStatus {
  status: 'ok' | 'warn' | 'down';
  reasons: string[];
  /** Divergent keys of the last run, over every sink and table. Undefined before the first run. */
  divergent?: number;
  /** Seconds since the last run finished. */
  ageS?: number;
  /** Divergent keys by sink name (`elasticsearch`, `iceberg`, `druid`, `core`), only those above zero. */
  bySink: Map<string, number>;
}

export function reconcileStatus(samples: Sample[], nowMs: number, staleMs: number): ReconcileStatus {
  const out: ReconcileStatus = { status: 'ok', reasons: [], bySink: new Map() };
  const last = sumOf(samples, 'reconcile_last_run_timestamp_seconds');
  if (!last) {
    out.status = 'warn';
    out.reasons.push('no run finished yet');
    return out;
  }
  out.ageS = Math.max(0, nowMs / 1000 - last);
  out.divergent = sumOf(samples, 'reconcile_divergent_keys_total') ?? 0;
  for (const s of samples) {
    if (s.name !== 'reconcile_divergent_keys' || !(s.value > 0)) continue;
    const sink = s.labels.sink ?? '?';
    out.bySink.set(sink, (out.bySink.get(sink) ?? 0) + s.value);
  }
  for (const [sink, n] of out.bySink) out.reasons.push(`${n} divergent keys in ${sink}`);
  if (out.bySink.size > 0 || out.divergent > 0) out.status = 'down';
  if (sumOf(samples, 'reconcile_last_run_success') === 0) {
    out.status = 'down';
    out.reasons.push('the last run failed (its log says why)');
  }
  if (out.ageS * 1000 > staleMs) {
    if (out.status === 'ok') out.status = 'warn';
    out.reasons.push(`the last run finished ${Math.round(out.ageS / 60)} min ago`);
  }
  return out;
}
