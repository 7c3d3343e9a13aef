/**
 * es-indexer against the real core, Kafka and Elasticsearch (the stack's, on 127.0.0.1:9200).
 *   npx tsx bench/es-indexer.ts [--mutations 20000] [--rate 500,2000] [--seconds 15] [--refresh 1s] [--wait 200] [--rounds 3] [--json <file>]
 *
 * 1. Throughput: the core writes --mutations mutations (not timed); then, each round, the indexer (two stream
 *    consumers, per-item bulk handling) indexes both topics from the beginning into a fresh prefix, timed until
 *    every document is in. Baseline, same rounds: the raw client's bulk helper (client.helpers.bulk) sending the
 *    same documents (built by the same functions from the same records, read once from Kafka beforehand) into a
 *    fresh prefix of its own. Round 0 warms both up and is not counted; the order alternates round by round.
 *    Both sides are timed twice: with start-up (index creation; for the indexer also joining two groups) and
 *    after it (from the first document acknowledged to the last, counting only the documents after the first
 *    acknowledgement). Per-round ratios, min/median/max (target >= 0.8x).
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
import { cdcDocument, edgeDocument, ensureIndices, mutationIndexPattern, startIndexer, walDocument, type BulkDoc } from '@pipeline/es-indexer';
import { emitResult, pairedRatios, printLoad, spread, type BenchResult, type ResultRow } from './lib/report';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '500,2000' },
    seconds: { type: 'string', default: '15' },
    refresh: { type: 'string', default: '1s' },
    wait: { type: 'string', default: '200' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
let result: BenchResult | undefined;
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
  type Side = { rate: number; steadyRate: number; stored: number };

  /** Baseline: the raw client's bulk helper, same documents (rewritten to the round's prefix), same index settings and versioning. */
  async function baseline(prefix: string): Promise<Side> {
    prefixes.push(prefix);
    const t = performance.now();
    await ensureIndices(client, { prefix, ...settings });
    let acked = 0;
    let firstAt: number | undefined;
    let firstCount = 0;
    const stats = await client.helpers.bulk({
      datasource: docs.map((d) => ({ ...d, index: d.index.replace(basePrefix, prefix) })),
      flushBytes: 5 * 1024 * 1024,
      concurrency: 2,
      // The bench's versions are millisecond stamps, within 2^53: the client's type is a number.
      onDocument: (d: BulkDoc) => [
        { index: { _index: d.index, _id: d.id, ...(d.version !== undefined ? { version: d.version as number, version_type: 'external_gte' as const } : {}) } },
        d.body,
      ],
      onSuccess: () => {
        acked++;
        if (firstAt !== undefined) return;
        firstAt = performance.now();
        // The first response's documents are acknowledged in one go: count them as the indexer's first batch is.
        setImmediate(() => (firstCount = acked));
      },
      onDrop: () => {
        acked++;
      },
    });
    const end = performance.now();
    if (stats.failed > 0 && stats.failed !== docs.length - stored) console.log(`  bulk helper: ${stats.failed} dropped (version conflicts of superseded edge documents are expected)`);
    return { rate: (expected / (end - t)) * 1000, steadyRate: ((expected - firstCount) / (end - (firstAt ?? t))) * 1000, stored: await count(prefix) };
  }

  let indexer: Awaited<ReturnType<typeof startIndexer>> | undefined;
  let livePrefix = '';
  /** es-indexer: two stream consumers from the beginning of both topics; running on after the last round for the freshness part. */
  async function app(prefix: string, keep: boolean): Promise<Side> {
    prefixes.push(prefix);
    const registry = new Registry();
    const t = performance.now();
    const started = await startIndexer({
      kafka: { brokers: [bootstrap], clientId: 'bench-esi' },
      groupId: uniqueName('bench.esi'),
      walTopic: wal,
      cdcTopic: cdc,
      client,
      prefix,
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
    let firstCount = 0;
    for (let w = await written(); w < expected; w = await written()) {
      if (firstAt === undefined && w > 0) {
        firstAt = performance.now();
        firstCount = w;
      }
      await sleep(20);
    }
    const end = performance.now();
    if (keep) {
      indexer = started;
      livePrefix = prefix;
    }
    else await started.stop();
    return { rate: (expected / (end - t)) * 1000, steadyRate: ((expected - firstCount) / (end - (firstAt ?? t))) * 1000, stored: await count(prefix) };
  }

  // Round 0 warms both sides up (a freshly started Elasticsearch is much slower on its first indices) and is not
  // counted; then the order alternates, so neither side always meets the other's merges and refreshes.
  const sides = { 'bulk helper': [] as Side[], 'es-indexer': [] as Side[] };
  const loadBefore = printLoad('before the throughput rounds');
  for (let r = 0; r <= rounds; r++) {
    const order = r % 2 === 0 ? (['bulk helper', 'es-indexer'] as const) : (['es-indexer', 'bulk helper'] as const);
    const line: string[] = [];
    for (const side of order) {
      const prefix = `${prefixBase}-r${r}-${side === 'bulk helper' ? 'raw' : 'app'}`;
      const res = side === 'bulk helper' ? await baseline(prefix) : await app(prefix, r === rounds);
      if (res.stored !== stored) throw new Error(`${side} stored ${res.stored} documents, expected ${stored}`);
      if (r > 0) sides[side].push(res);
      line.push(`${side} ${res.rate.toFixed(0)} docs/s (${res.steadyRate.toFixed(0)} after start-up)`);
      // The last round's indexer stays up for the freshness part, with its indices.
      if (prefix !== livePrefix) await dropPrefix(prefix).catch(() => undefined);
    }
    console.log(`${r === 0 ? 'warm-up' : `round ${r}`}: ${line.join(', ')}`);
  }
  const loadAfter = printLoad('after');
  const rowsOut: ResultRow[] = [];
  for (const [what, key] of [['with start-up', 'rate'], ['after start-up', 'steadyRate']] as const) {
    const base = sides['bulk helper'].map((x) => x[key]);
    const ours = sides['es-indexer'].map((x) => x[key]);
    rowsOut.push({ name: `bulk helper, ${what}`, unit: 'docs/s', value: spread(base) });
    rowsOut.push({ name: `es-indexer, ${what}`, unit: 'docs/s', value: spread(ours), ratio: spread(pairedRatios(ours, base)), baseline: `bulk helper, ${what}`, target: 0.8 });
  }
  result = { bench: 'es-indexer', rounds, params: { mutations: total, documents: expected, refresh: values.refresh, batchWaitMs: Number(values.wait) }, load: { before: loadBefore, after: loadAfter }, rows: rowsOut, notes: [] };

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
          const r = await client.count({ index: mutationIndexPattern(livePrefix), query: { bool: { filter: [{ term: { requestIds: requestId } }, { term: { kind } }] } } });
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
  result?.rows.push({ name: `CDC freshness p99 at ${achieved.toFixed(0)} mutations/s`, unit: 'ms', value: spread([pct(samples, 99)]) });
  }
  await indexer?.stop();
} finally {
  await core.stop('SIGKILL');
  for (const p of prefixes) await dropPrefix(p).catch(() => undefined);
  await client.close();
}
if (result) emitResult(result);
