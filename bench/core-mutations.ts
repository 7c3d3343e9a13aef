/**
 * Core mutation throughput: HTTP batch requests with WAL and CDC on the real Kafka, against the same
 * mutations applied straight to the engine with no Kafka and no HTTP (baseline, same run).
 *   npx tsx bench/core-mutations.ts [--mutations 200000] [--batch 500] [--concurrency 8]
 * Prints mutations/s of both paths, their ratio, and p50/p99 request latency of the HTTP path.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ensureKafka } from '@pipeline/stack';
import { Catalog } from '../apps/actionbase/src/catalog/catalog';
import { LegacyTableBody, legacySchema } from '../apps/actionbase/src/catalog/schema-bodies';
import { MutationEngine } from '../apps/actionbase/src/engine/mutation-engine';
import { CdcRelay } from '../apps/actionbase/src/publish/cdc-relay';
import type { RecordSink } from '../apps/actionbase/src/publish/record-sink';
import { SqliteEdgeStore } from '../apps/actionbase/src/storage/sqlite-store';
import { api, CoreProcess, createLikes, freePort, uniqueName } from '@pipeline/testing';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
  },
});
const total = Number(values.mutations);
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);
const tableBody = {
  table: 'likes',
  schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
  direction: 'BOTH',
  indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
};

/** Deterministic workload: 20% deletes, users and products drawn over a wide key space. */
function makeBatches(seed: number): unknown[] {
  const batches: unknown[] = [];
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  for (let b = 0; b < total / batch; b++) {
    const mutations = [];
    for (let i = 0; i < batch; i++) {
      const v = b * batch + i + 1;
      const del = rnd() % 5 === 0;
      mutations.push({ type: del ? 'DELETE' : 'INSERT', edge: { version: v, source: `u${rnd() % 50_000}`, target: rnd() % 20_000, properties: del ? {} : { created_at: v } } });
    }
    batches.push({ mutations });
  }
  return batches;
}

async function engineOnly(batches: unknown[]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const store = new SqliteEdgeStore(join(dir, 'core.db'));
  const catalog = await Catalog.open(store, 'bench');
  await catalog.createDatabase('shop', { comment: '' }, 'bench');
  const b = LegacyTableBody.parse(tableBody);
  await catalog.createTable('shop', b.table, { ...legacySchema(b), mode: b.mode, comment: b.comment, storage: b.storage, readOnly: b.readOnly, event: false }, 'bench');
  // Records go nowhere: this path measures the engine and storage alone.
  const noop: RecordSink = { kind: 'log', publishWal: async () => undefined, publishCdc: async () => undefined, close: async () => undefined };
  const relay = new CdcRelay(store, noop, pino({ level: 'silent' }), { batchSize: 2000, maxBackoffMs: 5000, maxRecordBytes: 1 << 20, parkDir: join(dir, 'parked') });
  relay.start();
  const engine = new MutationEngine(store, noop, relay, { tenant: 'bench', systemMode: null, recordLimits: { walRecordBytes: 1 << 20, cdcRecordBytes: 1 << 20 } });
  const table = catalog.resolve('shop', 'likes');
  const t0 = performance.now();
  for (const body of batches) await engine.mutate(table, body, { requestMode: null, force: false, actor: 'bench', requestId: 'r' });
  const secs = (performance.now() - t0) / 1000;
  await relay.stop();
  await store.close();
  return total / secs;
}

async function httpKafka(batches: unknown[], bootstrap: string): Promise<{ rate: number; p50: number; p99: number; cdcLagMs: number }> {
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: uniqueName('bench.wal'),
    CDC_TOPIC: uniqueName('bench.cdc'),
    STORAGE_PATH: join(mkdtempSync(join(tmpdir(), 'bench-core-')), 'core.db'),
    LOG_LEVEL: 'warn',
  });
  await core.start();
  try {
    await createLikes(core.url, 'likes');
    const path = '/graph/v3/databases/shop/tables/likes/edges';
    await api(core.url, 'POST', path, batches[0]); // warm-up (JIT, connections)
    const latencies: number[] = [];
    let next = 1;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches.length) {
          const body = batches[next++];
          const s = performance.now();
          const r = await api(core.url, 'POST', path, body);
          if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${JSON.stringify(r.body)}`);
          latencies.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    // CDC relay catch-up after the last acknowledged request
    const c0 = performance.now();
    for (;;) {
      const r = await api(core.url, 'GET', '/graph/health/readiness');
      if (r.body.cdcBacklog === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    return { rate: ((batches.length - 1) * batch) / secs, p50: q(0.5), p99: q(0.99), cdcLagMs: performance.now() - c0 };
  } catch (err) {
    console.error(`core output (tail):\n${core.output.slice(-3000)}`);
    throw err;
  } finally {
    await core.stop();
  }
}

const { bootstrap } = await ensureKafka();
const batches = makeBatches(42);
console.log(`workload: ${total} edge mutations in batches of ${batch}, ${concurrency} concurrent HTTP clients`);
const base = await engineOnly(batches);
console.log(`engine only (SQLite, no Kafka, no HTTP): ${Math.round(base)} mutations/s`);
const http = await httpKafka(batches, bootstrap);
console.log(`HTTP + WAL/CDC on Kafka:                 ${Math.round(http.rate)} mutations/s`);
console.log(`request latency (batch of ${batch}): p50 ${http.p50.toFixed(1)} ms, p99 ${http.p99.toFixed(1)} ms; CDC relay drained ${http.cdcLagMs.toFixed(0)} ms after the last answer`);
console.log(`ratio HTTP+Kafka / engine-only: ${(http.rate / base).toFixed(2)}x`);
