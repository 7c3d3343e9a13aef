/**
 * Does the core's cost stay flat as data grows? For each size (10k, 100k, 1M mutations by default) a
 * fresh core on the real Kafka takes that many mutations over HTTP (batches of --batch, --concurrency
 * clients, 90% inserts over a key space that grows with the size), and the run reports:
 *   - mutations/s to the last answer and to the last CDC record on Kafka (end to end), and the CDC
 *     drain after the last answer;
 *   - the rate of the first and of the last tenth of the batches (flat cost: about the same);
 *   - batch latency p50/p99; the core's RSS and peak RSS; the SQLite file (+ its WAL file) size;
 *   - mutations per CPU-second of the core's process (all threads), which other work on the machine moves least.
 * The baseline is the smallest size of the same run: each figure is also given as a ratio to it.
 *
 *   npx tsx bench/core-growth.ts [--sizes 10000,100000,1000000] [--batch 500] [--concurrency 8] [--json out.json]
 *
 * The last line printed is the JSON result (also written to --json).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka } from '@pipeline/kafka';
import { CoreProcess, createLikes, freePort, uniqueName } from '@pipeline/testing';
import { benchKafka, cpuSecondsOf, emit, HttpClient, loadLine, machine, pct, rssOf, SHOP_LIKES_PATH, storageMiB, TopicCounter } from './core-common';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    json: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const batch = Number(values.batch);
const concurrency = Number(values.concurrency);

/** Batch `b` of a run of `size` mutations: 90% inserts, keys over a space that grows with the size. */
function batchBody(size: number, b: number, rnd: () => number): { body: string; keys: number } {
  const users = Math.max(100, Math.floor(size / 10));
  const mutations = [];
  const keys = new Set<string>();
  for (let i = 0; i < batch; i++) {
    const v = b * batch + i + 1;
    const del = rnd() % 10 === 0;
    const source = `u${rnd() % users}`;
    const target = rnd() % 1000;
    keys.add(`${source}:${target}`);
    mutations.push({ type: del ? 'DELETE' : 'INSERT', edge: { version: v, source, target, properties: del ? {} : { created_at: v } } });
  }
  return { body: JSON.stringify({ mutations }), keys: keys.size };
}

interface SizeResult {
  mutations: number;
  load1: number;
  ackRate: number;
  e2eRate: number;
  firstTenthRate: number;
  lastTenthRate: number;
  drainMs: number;
  p50Ms: number;
  p99Ms: number;
  rssMiB: number;
  peakRssMiB: number;
  storageMiB: number;
  secs: number;
  perCpuSecond: number;
}

async function runSize(size: number, bootstrap: string, counter: TopicCounter): Promise<SizeResult> {
  const wal = uniqueName('bench-growth.wal');
  const cdc = uniqueName('bench-growth.cdc');
  const storage = join(mkdtempSync(join(tmpdir(), 'bench-growth-')), 'core.db');
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: wal,
    CDC_TOPIC: cdc,
    STORAGE_PATH: storage,
    HEARTBEAT_INTERVAL_MS: String(3_600_000),
    LOG_LEVEL: 'warn',
  });
  await core.start();
  const client = new HttpClient(core.url, concurrency);
  const load1 = machine().load1;
  try {
    await createLikes(core.url, 'likes');
    let x = 42;
    const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
    const batches = Math.ceil(size / batch);
    const latencies: number[] = [];
    const doneAt: number[] = [];
    let cdcRecords = 0;
    let next = 0;
    const cpu0 = cpuSecondsOf(core.child!.pid!);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < batches) {
          const { body, keys } = batchBody(size, next++, rnd);
          cdcRecords += keys;
          const s = performance.now();
          const r = await client.send('POST', SHOP_LIKES_PATH, body);
          if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 300)}`);
          const e = performance.now();
          latencies.push(e - s);
          doneAt.push(e);
        }
      }),
    );
    const tAck = performance.now();
    const tCdc = await counter.until(cdc, 1 + cdcRecords, 900_000);
    const cpu = cpuSecondsOf(core.child!.pid!) - cpu0;
    const mutations = batches * batch;
    const tenth = Math.max(1, Math.floor(batches / 10));
    // Rate of a tenth: its batches' mutations over the time from the end of the one before it.
    const first = (tenth * batch) / ((doneAt[tenth - 1]! - t0) / 1000);
    const last = (tenth * batch) / ((doneAt[batches - 1]! - doneAt[batches - 1 - tenth]!) / 1000);
    return {
      mutations,
      load1,
      ackRate: Math.round(mutations / ((tAck - t0) / 1000)),
      e2eRate: Math.round(mutations / ((Math.max(tAck, tCdc) - t0) / 1000)),
      firstTenthRate: Math.round(first),
      lastTenthRate: Math.round(last),
      drainMs: Math.round(Math.max(0, tCdc - tAck)),
      p50Ms: Math.round(pct(latencies, 50)),
      p99Ms: Math.round(pct(latencies, 99)),
      ...rssOf(core.child!.pid!),
      storageMiB: storageMiB(storage),
      secs: +((Math.max(tAck, tCdc) - t0) / 1000).toFixed(1),
      perCpuSecond: Math.round(mutations / cpu),
    };
  } catch (err) {
    console.error(`core output (tail):\n${core.output.slice(-3000)}`);
    throw err;
  } finally {
    client.close();
    await core.stop();
    rmSync(dirname(storage), { recursive: true, force: true });
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-cleanup' }).admin();
    await admin.deleteTopics([wal, cdc]).catch(() => undefined);
    await admin.close();
  }
}

const broker = await benchKafka();
const { bootstrap } = broker;
const counter = await TopicCounter.open(bootstrap);
const before = machine();
console.log(`sizes ${sizes.join(', ')} mutations, batches of ${batch}, ${concurrency} clients; ${loadLine()}`);
const results: SizeResult[] = [];
try {
  for (const size of sizes) {
    const r = await runSize(size, bootstrap, counter);
    results.push(r);
    console.log(
      `${r.mutations} (load ${r.load1}): ${r.ackRate}/s acked, ${r.e2eRate}/s end to end (first tenth ${r.firstTenthRate}/s, last tenth ${r.lastTenthRate}/s), ` +
        `CDC drained ${r.drainMs} ms after the last answer, p50 ${r.p50Ms} ms p99 ${r.p99Ms} ms, RSS ${r.rssMiB} MiB (peak ${r.peakRssMiB}), file ${r.storageMiB} MiB, ${r.secs} s, ${r.perCpuSecond} per CPU-second of the core`,
    );
  }
} finally {
  await counter.close();
  await broker.stop();
}
const base = results[0]!;
emit(values.json, {
  bench: 'core-growth',
  machine: { before, after: machine() },
  workload: { sizes, batch, concurrency },
  sizes: results.map((r) => ({ ...r, e2eOverSmallest: +(r.e2eRate / base.e2eRate).toFixed(2), lastOverFirstTenth: +(r.lastTenthRate / r.firstTenthRate).toFixed(2) })),
});
