/**
 * WAL replay rate: WAL records applied per second by `wal-replay rebuild` into a fresh core, against the
 * same core build's direct mutation rate (HTTP batch requests, WAL and CDC on the real Kafka), same run.
 *   npx tsx bench/wal-replay.ts [--mutations 40000] [--batch 500] [--concurrency 4] [--replay-batches 500,2000] [--rounds 2] [--json <file>]
 * The source core gets the workload as clients send it (--batch, --concurrency; a warm-up, not counted), and its
 * WAL is replayed. For each replay batch size, each round times a rebuild into a fresh core and the direct path
 * with the same request shape into another fresh core: requests of that many mutations, one in flight per WAL
 * partition (the replay's own limit, per-key order). The order alternates by round; ratios are per round.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureKafka } from '@pipeline/stack';
import { TOPICS } from '@pipeline/events';
import { api, CoreProcess, freePort, repoRoot, tempStorage, uniqueName } from '@pipeline/testing';
import { emitResult, pairedRatios, printLoad, spread, type ResultRow } from './lib/report';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '40000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '4' },
    'replay-batches': { type: 'string', default: '500,2000' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds);
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

/** The workload sent as clients would: `size` mutations per request, `inFlight` requests at once, into a fresh core. */
async function direct(bootstrap: string, size: number, inFlight: number, keep = false): Promise<{ rate: number; core: CoreProcess }> {
  const core = await newCore(bootstrap);
  await api(core.url, 'POST', '/graph/v3/databases', { database: 'shop' });
  await api(core.url, 'POST', '/graph/v3/databases/shop/tables', table);
  const all = batches.flatMap((b) => b.mutations);
  const requests: { mutations: unknown[] }[] = [];
  for (let i = 0; i < all.length; i += size) requests.push({ mutations: all.slice(i, i + size) });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < requests.length; i = next++) {
        const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', requests[i]);
        if (r.status !== 200) throw new Error(JSON.stringify(r.body));
      }
    }),
  );
  const rate = total / ((performance.now() - t0) / 1000);
  if (!keep) await core.stop();
  return { rate, core };
}

const batches = makeBatches();

async function main(): Promise<void> {
  const { bootstrap } = await ensureKafka();
  const loadBefore = printLoad('before');
  // The source: the workload as clients send it (batch --batch, --concurrency in flight); its WAL is what every
  // rebuild replays. Not counted: it also warms the machine, the broker and the core build up.
  const { rate: sourceRate, core: source } = await direct(bootstrap, batch, concurrency, true);
  console.log(`source: ${total} mutations at ${Math.round(sourceRate)} mutations/s (batch ${batch}, ${concurrency} in flight; warm-up, not counted)`);
  const wal = source.env.WAL_TOPIC!;
  const partitions = TOPICS.wal.defaultPartitions;
  const rows: ResultRow[] = [];
  for (const size of replayBatches) {
    const replayRates: number[] = [];
    const directRates: number[] = [];
    for (let r = 1; r <= rounds; r++) {
      // The same shapes on both sides: requests of up to `size` mutations, one in flight per WAL partition (how
      // rebuild sends them: per-key order allows no more). The order alternates round by round.
      const sides = r % 2 ? (['replay', 'direct'] as const) : (['direct', 'replay'] as const);
      for (const side of sides) {
        if (side === 'direct') {
          directRates.push((await direct(bootstrap, size, partitions)).rate);
          continue;
        }
        const target = await newCore(bootstrap);
        const res = await rebuild(['--wal-topic', wal, '--target-url', target.url, '--source-url', source.url, '--batch-size', String(size), '--state-file', join(tempStorage(), '..', 'state.json')], {
          KAFKA_BROKERS: bootstrap,
        });
        await target.stop();
        if (res.result.applied !== total) throw new Error(`rebuild applied ${res.result.applied} records, expected ${total}`);
        // The command's own clock: process start and group join are outside it, as the direct side has no such step.
        replayRates.push(res.result.recordsPerSec);
      }
      console.log(`batch ${size}, round ${r}: rebuild ${Math.round(replayRates.at(-1)!)} records/s, direct ${Math.round(directRates.at(-1)!)} mutations/s (${partitions} in flight)`);
    }
    rows.push({ name: `direct, batch ${size}, ${partitions} in flight`, unit: 'mutations/s', value: spread(directRates) });
    rows.push({ name: `rebuild, batch ${size}`, unit: 'records/s', value: spread(replayRates), ratio: spread(pairedRatios(replayRates, directRates)), baseline: `direct, batch ${size}` });
  }
  await source.stop();
  emitResult({ bench: 'wal-replay', rounds, params: { mutations: total, sourceBatch: batch, sourceConcurrency: concurrency, partitions }, load: { before: loadBefore, after: printLoad('after') }, rows });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
