/**
 * Index templates (explicit mappings, generated from the record schemas) and the retention of the time-based
 * mutation log. The minimal Elasticsearch distribution has no ILM and no data streams, so the app creates daily
 * indices through a template (auto-created by the first bulk write of a day) and deletes the expired ones itself.
 */
import type { Client } from '@elastic/elasticsearch';
import { deleteWhere } from '@pipeline/elasticsearch';
import type { Logger } from 'pino';
import { currentStateMappings, mutationLogMappings } from './mappings';
import { DAY_MS, dayOfMutationIndex, edgesIndex, mutationIndexPattern } from './documents';

export interface IndexSettings {
  prefix: string;
  /** index.refresh_interval: how soon a write is searchable (freshness) against indexing cost. */
  refreshInterval: string;
  shards: number;
  replicas: number;
}

export async function ensureIndices(client: Client, s: IndexSettings): Promise<void> {
  const settings = { number_of_shards: s.shards, number_of_replicas: s.replicas, refresh_interval: s.refreshInterval };
  await client.indices.putIndexTemplate({
    name: `${s.prefix}-mutations`,
    index_patterns: [mutationIndexPattern(s.prefix)],
    priority: 200,
    template: { settings, mappings: mutationLogMappings() },
    _meta: { owner: 'es-indexer', what: 'mutation log: one document per WAL and per CDC record, one index per UTC day' },
  });
  await client.indices.putIndexTemplate({
    name: `${s.prefix}-edges`,
    index_patterns: [edgesIndex(s.prefix)],
    priority: 200,
    template: { settings, mappings: currentStateMappings() },
    _meta: { owner: 'es-indexer', what: 'current state: one document per edge, versioned on the CDC seq' },
  });
  const exists = await client.indices.exists({ index: edgesIndex(s.prefix) });
  if (!exists) {
    await client.indices.create({ index: edgesIndex(s.prefix) }).catch((err: unknown) => {
      // Two indexer replicas starting together: the loser finds the index there.
      if ((err as { body?: { error?: { type?: string } } }).body?.error?.type !== 'resource_already_exists_exception') throw err;
    });
  }
}

/** Deletes the daily mutation-log indices whose whole day is older than the retention. Returns the names deleted. */
export async function deleteExpiredIndices(client: Client, prefix: string, retentionDays: number, now = Date.now()): Promise<string[]> {
  const cutoff = now - retentionDays * DAY_MS;
  const rows = await client.cat.indices({ index: mutationIndexPattern(prefix), format: 'json', h: 'index' } as never);
  const names = (rows as unknown as { index?: string }[]).map((r) => r.index).filter((n): n is string => typeof n === 'string');
  // An index holds one UTC day: it expires once the end of that day is past the cutoff.
  const expired = names.filter((n) => {
    const day = dayOfMutationIndex(prefix, n);
    return day !== undefined && day + DAY_MS <= cutoff;
  });
  if (expired.length) await client.indices.delete({ index: expired.join(',') });
  return expired;
}

/** Runs deleteExpiredIndices now and every intervalMs; failures are logged and retried at the next tick. */
export function startRetention(client: Client, prefix: string, retentionDays: number, intervalMs: number, logger: Logger): () => void {
  const log = logger.child({ component: 'retention' });
  const tick = () =>
    deleteExpiredIndices(client, prefix, retentionDays).then(
      (deleted) => {
        if (deleted.length) log.info({ deleted, retentionDays }, 'deleted expired mutation-log indices');
      },
      (err: unknown) => log.warn({ err }, 'retention check failed; retrying at the next tick'),
    );
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Removes current-state tombstones (deleted edges, `active: false`) whose last change is older than the retention,
 * so a deleted edge's endpoints and times do not stay in the index forever. Returns how many were deleted.
 *
 * Why tombstones exist at all: they keep the CDC seq of the delete so a late, older record cannot resurrect the
 * edge. Such records come from the CDC topic, so a retention longer than the topic's (7 days by default) keeps that
 * guarantee for every record Kafka can still deliver.
 */
export async function expireTombstones(client: Client, prefix: string, retentionDays: number, now = Date.now()): Promise<number> {
  // The edge's current seq_no guards each delete: an edge liked again since the search is not touched.
  return deleteWhere(client, edgesIndex(prefix), { bool: { filter: [{ term: { active: false } }, { range: { updatedAt: { lt: now - retentionDays * DAY_MS } } }] } });
}

/** Runs expireTombstones now and every intervalMs; failures are logged and retried at the next tick. */
export function startTombstoneExpiry(client: Client, prefix: string, retentionDays: number, intervalMs: number, logger: Logger): () => void {
  const log = logger.child({ component: 'retention' });
  const tick = () =>
    expireTombstones(client, prefix, retentionDays).then(
      (deleted) => {
        if (deleted) log.info({ deleted, retentionDays }, 'deleted expired tombstones from the current state');
      },
      (err: unknown) => log.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'tombstone expiry failed; retrying at the next tick'),
    );
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
