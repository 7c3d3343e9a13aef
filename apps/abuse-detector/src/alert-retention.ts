/**
 * Retention of the alerts index: alerts whose window ended more than ALERT_RETENTION_DAYS ago are deleted, at
 * start and then every ALERT_RETENTION_CHECK_MS. An alert names people (actor, source, target), so it must not
 * outlive the policy any more than the mutation log es-indexer expires.
 *
 * Age is the window's end (event time), not `emittedAt`: the alert is about what happened in that window, and a
 * reprocessing that sends an old alert again must not make it young again.
 */
import type { Client } from '@elastic/elasticsearch';
import { deleteWhere } from '@pipeline/elasticsearch';
import type { Logger } from 'pino';

export const DAY_MS = 86_400_000;

/** Deletes the alerts whose window ended before `now - retentionDays`. A missing index (nothing written yet) is 0. */
export function expireAlerts(client: Client, index: string, retentionDays: number, now = Date.now()): Promise<number> {
  // No refresh first (the detector's role has read and write, not maintenance): what the last refresh interval
  // wrote is young anyway, or goes at the next check.
  return deleteWhere(client, index, { range: { windowEnd: { lt: now - retentionDays * DAY_MS } } }, { refresh: false });
}

/** Runs expireAlerts now and every intervalMs; a failure is logged and retried at the next tick. Returns the stop function. */
export function startAlertRetention(client: Client, index: string, retentionDays: number, intervalMs: number, logger: Logger): () => void {
  const log = logger.child({ component: 'alert-retention' });
  const tick = () =>
    expireAlerts(client, index, retentionDays).then(
      (deleted) => {
        if (deleted) log.info({ deleted, index, retentionDays }, 'deleted expired alerts');
      },
      (err: unknown) => log.warn({ err: { name: (err as Error).name, message: (err as Error).message }, index }, 'alert retention failed; retrying at the next tick'),
    );
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
