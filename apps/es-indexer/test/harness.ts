/** Shared set-up of the es-indexer integration tests: a real core, real Kafka, real Elasticsearch, the indexer in-process. */
import { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { CoreProcess, createLikes, dataRecords, startCoreOnFreshTopics, uniqueName, waitFor } from '@pipeline/testing';
import { startIndexer, type Indexer } from '../src/indexer';
import { edgesIndex, mutationIndexPattern } from '../src/documents';

export const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'error' });

export const like = (source: string, target: number, version: number, type = 'INSERT') => ({
  type,
  edge: { version, source, target, properties: type === 'DELETE' ? {} : { created_at: version } },
});

/** A mutation request with its X-Request-ID, answered by the core. */
export async function mutate(core: CoreProcess, table: string, requestId: string, mutations: unknown[]): Promise<any> {
  const res = await fetch(`${core.url}/graph/v3/databases/shop/tables/${table}/edges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'x-actor-id': 'support-it' },
    body: JSON.stringify({ mutations }),
  });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`mutation ${requestId}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export async function startCore(bootstrap: string, table = 'likes'): Promise<{ core: CoreProcess; wal: string; cdc: string }> {
  const started = await startCoreOnFreshTopics(bootstrap, 'esi');
  await createLikes(started.core.url, table);
  return started;
}

export const newPrefix = () => `esi-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export async function runIndexer(o: {
  bootstrap: string;
  client: Client;
  prefix: string;
  wal: string;
  cdc: string;
  group?: string;
  retentionDays?: number;
}): Promise<{ indexer: Indexer; registry: Registry; group: string }> {
  const registry = new Registry();
  const group = o.group ?? uniqueName('esi.group');
  const indexer = await startIndexer({
    kafka: { brokers: [o.bootstrap], clientId: group },
    groupId: group,
    walTopic: o.wal,
    cdcTopic: o.cdc,
    client: o.client,
    prefix: o.prefix,
    retentionDays: o.retentionDays ?? 21,
    retentionCheckMs: 3_600_000,
    refreshInterval: '200ms',
    shards: 1,
    replicas: 0,
    batch: { maxRecords: 500, maxBytes: 5 * 1024 * 1024, maxWaitMs: 100 },
    retry: { baseMs: 100, maxMs: 1_000 },
    consumer: { fromBeginning: true },
    shutdownTimeoutMs: 20_000,
    logger,
    registry,
  });
  return { indexer, registry, group };
}

/** Sum of a counter in a registry, filtered by labels. */
export async function counter(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

export async function countDocs(client: Client, index: string): Promise<number> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const r = await client.count({ index, ignore_unavailable: true, allow_no_indices: true });
  return r.count;
}

/** Every document of the prefix's indices: _id -> _source (mutation log and current state). */
export async function allDocs(client: Client, prefix: string): Promise<Map<string, { index: string; version?: number; source: unknown }>> {
  await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true });
  const out = new Map<string, { index: string; version?: number; source: unknown }>();
  for (const index of [mutationIndexPattern(prefix), edgesIndex(prefix)]) {
    const r = await client.search({ index, size: 10_000, version: true, query: { match_all: {} }, ignore_unavailable: true, allow_no_indices: true });
    for (const h of r.hits.hits) out.set(`${h._index}/${h._id}`, { index: h._index, ...(h._version !== undefined ? { version: h._version } : {}), source: h._source });
  }
  return out;
}

/** What the topics hold (sys records left out): the ground truth the indexes are compared with. */
export async function topicRecords(bootstrap: string, wal: string, cdc: string) {
  const [w, c] = await Promise.all([dataRecords(bootstrap, wal), dataRecords(bootstrap, cdc)]);
  return { wal: w.map((r) => r.value), cdc: c.map((r) => r.value) };
}

/** Waits until the mutation log holds one document per WAL and CDC record of the topics. */
export async function waitIndexed(client: Client, prefix: string, expected: number, timeoutMs = 60_000): Promise<void> {
  await waitFor(`${expected} mutation-log documents in ${prefix}`, async () => (await countDocs(client, mutationIndexPattern(prefix))) === expected, timeoutMs);
}

export async function dropPrefix(client: Client, prefix: string): Promise<void> {
  // Wildcard deletes are refused (action.destructive_requires_name): resolve the names first.
  const rows = (await client.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' } as never).catch(() => [])) as unknown as { index: string }[];
  if (rows.length) await client.indices.delete({ index: rows.map((r) => r.index).join(',') }).catch(() => undefined);
  for (const t of ['mutations', 'edges']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${t}` }).catch(() => undefined);
}

export { waitFor };
