/**
 * WAL replay rate: WAL records applied per second by `wal-replay rebuild` into a fresh core, against the
 * same core build's direct mutation rate (HTTP batch requests, WAL and CDC on the real Kafka), same run.
 *   npx tsx bench/wal-replay.ts [--mutations 40000] [--batch 500] [--concurrency 4] [--replay-batches 100,500,1000,2000]
 * The direct path sends the workload with `concurrency` requests in flight; the replay sends one request at a
 * time per partition (per-key order), so its rate is bounded by one request's latency times partitions.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, freePort, repoRoot, tempStorage, uniqueName } from '@pipeline/testing';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '40000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    'replay-batches': { type: 'string', default: '100,500,1000,2000' },
  },
});
const total = Number(values.mutations);
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);
const replayBatches = values['replay-batches'].split(',').map(Number);

const table = {
  table: 'likes',
  schema: {
    source: { type: 'STRING' },
    target: { type: 'LONG' },
    properties: [
      { name: 'created_at', type: 'LONG', nullable: false },
      { name: 'score', type: 'LONG', nullable: true },
    ],
  },
  direction: 'BOTH',
  indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
};

function makeBatches(): { mutations: unknown[] }[] {
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  const out: { mutations: unknown[] }[] = [];
  for (let b = 0; b < total / batch; b++) {
    const mutations = [];
    for (let i = 0; i < batch; i++) {
      const v = b * batch + i + 1;
      const kind = rnd() % 10;
      const type = kind < 6 ? 'INSERT' : kind < 8 ? 'UPDATE' : 'DELETE';
      const properties = type === 'DELETE' ? {} : type === 'UPDATE' ? { score: rnd() % 100 } : { created_at: v, score: rnd() % 100 };
      mutations.push({ type, edge: { version: v, source: `u${rnd() % 20_000}`, target: rnd() % 5_000, properties } });
    }
    out.push({ mutations });
  }
  return out;
}

async function newCore(bootstrap: string): Promise<CoreProcess> {
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: uniqueName('bench.wal'),
    CDC_TOPIC: uniqueName('bench.cdc'),
    STORAGE_PATH: tempStorage(),
    LOG_LEVEL: 'warn',
  });
  await core.start();
  return core;
}

function rebuild(args: string[], env: Record<string, string>): Promise<{ wallSeconds: number; result: { applied: number; seconds: number; recordsPerSec: number } }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'apps/wal-replay/src/main.ts'), 'rebuild', ...args],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`rebuild failed: ${stderr.slice(-2000)}`));
        resolve({ wallSeconds: (performance.now() - t0) / 1000, result: JSON.parse(stdout.trim().split('\n').pop()!) });
      },
    ),
  );
}

async function main(): Promise<void> {
  const { bootstrap } = await ensureKafka();
  const source = await newCore(bootstrap);
  await api(source.url, 'POST', '/graph/v3/databases', { database: 'shop' });
  await api(source.url, 'POST', '/graph/v3/databases/shop/tables', table);
  const batches = makeBatches();

  // Direct path (baseline): the workload as clients send it.
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < batches.length; i = next++) {
        const r = await api(source.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', batches[i]);
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      }
    }),
  );
  const directSeconds = (performance.now() - t0) / 1000;
  const direct = total / directSeconds;
  console.log(`direct mutations: ${total} in ${directSeconds.toFixed(2)} s = ${Math.round(direct)} mutations/s (batch ${batch}, ${concurrency} in flight)`);

  const wal = source.env.WAL_TOPIC!;
  for (const size of replayBatches) {
    const target = await newCore(bootstrap);
    const r = await rebuild(['--wal-topic', wal, '--target-url', target.url, '--source-url', source.url, '--batch-size', String(size), '--state-file', join(tempStorage(), '..', 'state.json')], {
      KAFKA_BROKERS: bootstrap,
    });
    await target.stop();
    console.log(
      `rebuild batch ${String(size).padStart(5)}: ${r.result.applied} WAL records in ${r.result.seconds.toFixed(2)} s = ${r.result.recordsPerSec} records/s ` +
        `(wall ${r.wallSeconds.toFixed(2)} s with process start and group join); replay/direct = ${(r.result.recordsPerSec / direct).toFixed(2)}`,
    );
  }
  await source.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
