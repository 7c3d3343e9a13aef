/**
 * Retention of the alerts index: alerts whose window ended more than ALERT_RETENTION_DAYS ago are deleted, at
 * start and then every ALERT_RETENTION_CHECK_MS. An alert names people (actor, source, target), so it must not
 * outlive the policy any more than the mutation log es-indexer expires.
 *
 * Age is the window's end (event time), not `emittedAt`: the alert is about what happened in that window, and a
 * reprocessing that sends an old alert again must not make it young again.
 *
 * Deletion by search and bulk delete rather than `_delete_by_query`: the Elasticsearch distribution served here has
 * no reindex module, which provides it. es-indexer has the same loop (its delete-where.ts); an app cannot import
 * another, so it lives here too until it moves to @pipeline/elasticsearch.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';

export const DAY_MS = 86_400_000;

/** Deletes the documents the query matches, a batch at a time, each guarded by its seq_no (a rewritten one is left alone). */
async function deleteMatching(client: Client, index: string, query: Record<string, unknown>, batch = 1_000): Promise<number> {
  let deleted = 0;
  let stalls = 0;
  for (;;) {
    // No refresh first (the detector's role has read and write, not maintenance): what the last refresh interval
    // wrote is young anyway, or goes at the next check. The bulk below refreshes, so the next search sees its deletes.
    const res = await client.search({ index, query, size: batch, _source: false, seq_no_primary_term: true, ignore_unavailable: true, allow_no_indices: true });
    const hits = res.hits.hits;
    if (!hits.length) return deleted;
    const bulk = await client.bulk({
      refresh: true,
      operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id!, if_seq_no: h._seq_no!, if_primary_term: h._primary_term! } })),
    });
    let progressed = 0;
    for (const item of bulk.items) {
      const r = item.delete!;
      if (r.status === 200) progressed++;
      else if (r.status !== 404 && r.status !== 409) throw new Error(`deleting ${r._index}/${r._id} failed: ${r.status} ${r.error?.type ?? ''}`);
    }
    deleted += progressed;
    // Every hit was rewritten (409: the same alert sent again) or already gone (404): search again, not forever.
    stalls = progressed === 0 ? stalls + 1 : 0;
    if (stalls >= 3) return deleted;
  }
}

/** Deletes the alerts whose window ended before `now - retentionDays`. A missing index (nothing written yet) is 0. */
export function expireAlerts(client: Client, index: string, retentionDays: number, now = Date.now()): Promise<number> {
  return deleteMatching(client, index, { range: { windowEnd: { lt: now - retentionDays * DAY_MS } } });
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
