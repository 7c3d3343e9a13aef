/**
 * es-indexer against the real core, Kafka and Elasticsearch (the stack's, on 127.0.0.1:9200).
 *   npx tsx bench/es-indexer.ts [--mutations 20000] [--rate 500,2000] [--seconds 15] [--refresh 1s] [--wait 200]
 *
 * 1. Throughput: the core writes --mutations mutations (not timed); then the indexer (two stream consumers,
 *    per-item bulk handling) indexes both topics from the beginning, timed until every document is in. Baseline,
 *    same run: the raw client's bulk helper (client.helpers.bulk) sending the same documents (built by the same
 *    functions from the same records, read once from Kafka beforehand) into a fresh prefix. Prints documents/s of
 *    both and the ratio (target >= 0.8x).
 * 2. Freshness: the indexer live, the core driven at each --rate (mutations/s) for --seconds; for sampled requests, the
 *    time from the core's answer (mutation acknowledged) to the moment a search finds its CDC document. p50/p99.
 */
import { parseArgs } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { decodeRecord, isSystemRecord, type CdcRecord, type WalRecord } from '@pipeline/events';
import { readAll } from '@pipeline/kafka/testing';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import type { DecodedRecord } from '@pipeline/stream';
import { CoreProcess, createLikes, freePort, tempStorage, uniqueName } from '@pipeline/testing';
import { cdcDocument, edgeDocument, mutationIndexPattern, walDocument, type BulkDoc } from '../apps/es-indexer/src/documents';
import { ensureIndices } from '../apps/es-indexer/src/indices';
import { startIndexer } from '../apps/es-indexer/src/indexer';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500,2000' },
    seconds: { type: 'string', default: '15' },
    refresh: { type: 'string', default: '1s' },
    wait: { type: 'string', default: '200' },
  },
});
const total = Number(values.mutations);
const rates = values.rate.split(',').map(Number);
const seconds = Number(values.seconds);
const logger = pino({ level: 'error' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const { bootstrap } = await ensureKafka();
const { url } = await ensureElasticsearch();
const client = new Client({ node: url });
const wal = uniqueName('bench.esi.wal');
const cdc = uniqueName('bench.esi.cdc');
const core = new CoreProcess({
  PORT: String(await freePort()),
  KAFKA_BROKERS: bootstrap,
  WAL_TOPIC: wal,
  CDC_TOPIC: cdc,
  STORAGE_PATH: tempStorage(),
  LOG_LEVEL: 'warn',
});
await core.start();
await createLikes(core.url, 'likes');

let reqNo = 0;
async function post(mutations: unknown[]): Promise<string> {
  const requestId = `bench-${reqNo++}`;
  const res = await fetch(`${core.url}/graph/v3/databases/shop/tables/likes/edges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ mutations }),
  });
  if (res.status !== 200) throw new Error(`core answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  return requestId;
}
let seq = 0;
const mutation = () => {
  const n = seq++;
  const del = n % 5 === 4;
  return { type: del ? 'DELETE' : 'INSERT', edge: { version: 1_000 + n, source: `u${n % 5_000}`, target: n % 50_000, properties: del ? {} : { created_at: n } } };
};

const prefixes: string[] = [];
async function dropPrefix(prefix: string) {
  const rows = (await client.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' } as never)) as unknown as { index: string }[];
  if (rows.length) await client.indices.delete({ index: rows.map((r) => r.index).join(',') });
  for (const t of ['mutations', 'edges']) await client.indices.deleteIndexTemplate({ name: `${prefix}-${t}` }).catch(() => undefined);
}
async function count(prefix: string): Promise<number> {
  await client.indices.refresh({ index: `${prefix}-*`, allow_no_indices: true });
  return (await client.count({ index: `${prefix}-*`, allow_no_indices: true, ignore_unavailable: true })).count;
}

try {
  // ---- 1. throughput -------------------------------------------------------------------------------------
  const batch = 200;
  for (let sent = 0; sent < total; sent += batch) await post(Array.from({ length: Math.min(batch, total - sent) }, mutation));
  const [walMsgs, cdcMsgs] = await Promise.all([readAll(bootstrap, wal, { timeoutMs: 60_000 }), readAll(bootstrap, cdc, { timeoutMs: 60_000 })]);
  const docs: BulkDoc[] = [];
  const prefixBase = `bench-esi-${Date.now().toString(36)}`;
  const basePrefix = `${prefixBase}-raw`;
  for (const [kind, msgs] of [['wal', walMsgs], ['cdc', cdcMsgs]] as const) {
    for (const m of msgs) {
      const record = decodeRecord(kind, m.value!);
      if (isSystemRecord(record)) continue;
      const d = { kind, record, topic: m.topic, partition: m.partition, offset: m.offset, key: m.key?.toString() ?? null, timestamp: 0, value: m.value!, headers: {} };
      if (kind === 'wal') docs.push(walDocument(basePrefix, d as DecodedRecord<WalRecord>));
      else {
        const e = edgeDocument(basePrefix, d as DecodedRecord<CdcRecord>);
        if (e) docs.push(e);
        docs.push(cdcDocument(basePrefix, d as DecodedRecord<CdcRecord>));
      }
    }
  }
  const expected = docs.length;
  const edgeIds = new Set(docs.filter((d) => d.version !== undefined).map((d) => d.id)).size;
  const stored = expected - (docs.filter((d) => d.version !== undefined).length - edgeIds);
  console.log(`workload: ${total} mutations -> ${walMsgs.length} WAL + ${cdcMsgs.length} CDC records -> ${expected} bulk documents (${stored} stored)`);

  const settings = { refreshInterval: values.refresh, shards: 1, replicas: 0 };
  // Baseline: the raw client's bulk helper, same documents, same index settings and versioning.
  prefixes.push(basePrefix);
  await ensureIndices(client, { prefix: basePrefix, ...settings });
  let t = performance.now();
  const stats = await client.helpers.bulk({
    datasource: docs,
    flushBytes: 5 * 1024 * 1024,
    concurrency: 2,
    onDocument: (d: BulkDoc) => [
      { index: { _index: d.index, _id: d.id, ...(d.version !== undefined ? { version: d.version, version_type: 'external_gte' as const } : {}) } },
      d.body,
    ],
    onDrop: () => undefined,
  });
  const baseMs = performance.now() - t;
  const baseRate = (expected / baseMs) * 1000;
  console.log(`bulk helper:  ${expected} docs in ${(baseMs / 1000).toFixed(2)} s = ${baseRate.toFixed(0)} docs/s (failed ${stats.failed}, stored ${await count(basePrefix)})`);

  const appPrefix = `${prefixBase}-app`;
  prefixes.push(appPrefix);
  const registry = new Registry();
  t = performance.now();
  const indexer = await startIndexer({
    kafka: { brokers: [bootstrap], clientId: 'bench-esi' },
    groupId: uniqueName('bench.esi'),
    walTopic: wal,
    cdcTopic: cdc,
    client,
    prefix: appPrefix,
    retentionDays: 21,
    retentionCheckMs: 3_600_000,
    ...settings,
    batch: { maxRecords: 2_000, maxBytes: 8 * 1024 * 1024, maxWaitMs: Number(values.wait) },
    retry: { baseMs: 100, maxMs: 2_000 },
    consumer: { fromBeginning: true },
    logger,
    registry,
  });
  const written = async () => {
    const m = registry.getSingleMetric('es_indexer_documents_total');
    const c = registry.getSingleMetric('es_indexer_version_conflicts_total');
    const sum = async (x: typeof m) => (x ? (await x.get()).values.reduce((s, v) => s + v.value, 0) : 0);
    return (await sum(m)) + (await sum(c));
  };
  let firstAt: number | undefined;
  for (let w = await written(); w < expected; w = await written()) {
    if (firstAt === undefined && w > 0) firstAt = performance.now();
    await sleep(20);
  }
  const appMs = performance.now() - t;
  // Without start-up (joining two consumer groups, first fetch): from the first document written to the last.
  const steadyMs = performance.now() - (firstAt ?? t);
  const appRate = (expected / appMs) * 1000;
  console.log(`es-indexer:   ${expected} docs in ${(appMs / 1000).toFixed(2)} s = ${appRate.toFixed(0)} docs/s (stored ${await count(appPrefix)}; includes joining two consumer groups)`);
  const steadyRate = (expected / steadyMs) * 1000;
  console.log(`es-indexer after start-up: ${steadyRate.toFixed(0)} docs/s (first to last document)`);
  console.log(`ratio app/bulk helper: ${(appRate / baseRate).toFixed(2)}x with start-up, ${(steadyRate / baseRate).toFixed(2)}x after start-up (target >= 0.8x)`);

  // ---- 2. freshness at ~rate mutations/s ----------------------------------------------------------------
  for (const rate of rates) {
  const perRequest = 20;
  const requestsPerSec = rate / perRequest;
  const samples: number[] = [];
  const walSamples: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  let sentMutations = 0;
  const deadline = start + seconds * 1000;
  let i = 0;
  while (performance.now() < deadline) {
    const due = start + (i * 1000) / requestsPerSec;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const sample = i % 10 === 0;
    const p = post(Array.from({ length: perRequest }, mutation)).then(async (requestId) => {
      sentMutations += perRequest;
      if (!sample) return;
      const acked = performance.now();
      // Searchable = a search (no forced refresh) finds the request's CDC outcome (and, for comparison, its WAL
      // record: the core awaits the WAL before answering, while CDC goes through its outbox relay after commit).
      const seen = async (kind: string) => {
        for (;;) {
          const r = await client.count({ index: mutationIndexPattern(appPrefix), query: { bool: { filter: [{ term: { requestIds: requestId } }, { term: { kind } }] } } });
          if (r.count > 0) return performance.now() - acked;
          await sleep(25);
        }
      };
      const [c, w] = await Promise.all([seen('cdc'), seen('wal')]);
      samples.push(c);
      walSamples.push(w);
    });
    pending.push(p);
    i++;
  }
  await Promise.all(pending);
  const achieved = (sentMutations / (performance.now() - start)) * 1000;
  console.log(
    `freshness at ${achieved.toFixed(0)} mutations/s (target ${rate}), ${samples.length} sampled requests: ` +
      `p50 ${pct(samples, 50).toFixed(0)} ms, p99 ${pct(samples, 99).toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms (target p99 <= 2000 ms; refresh_interval ${values.refresh}, batch wait ${values.wait} ms)`,
  );
  console.log(`  (WAL record of the same requests: p50 ${pct(walSamples, 50).toFixed(0)} ms, p99 ${pct(walSamples, 99).toFixed(0)} ms)`);
  }
  await indexer.stop();
} finally {
  await core.stop('SIGKILL');
  for (const p of prefixes) await dropPrefix(p).catch(() => undefined);
  await client.close();
}
