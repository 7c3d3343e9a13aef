/**
 * The core end to end: HTTP batch requests until the last CDC record is on Kafka, against two baselines
 * measured in the same run:
 *   - the engine alone (same batches, no HTTP, no Kafka; its clock also stops when the relay has
 *     handed the last outbox row on, to a sink that drops it);
 *   - Kafka's own ProducerPerformance (org.apache.kafka:kafka-tools, fetched by tools/stack), acks=all,
 *     records of the WAL records' average size, on a topic with the core's partition count: the
 *     anchor for what the broker takes on this machine at this load.
 * And the core's WAL write path alone: the same batches into a table in ASYNC mode, where the core
 * validates, writes the WAL and answers QUEUED (nothing stored, no CDC): HTTP batch → WAL acknowledged on
 * Kafka, against ProducerPerformance in the same round with records of that side's WAL size.
 * Every side starts fresh each round (new storage, new topics) after the same warm-up, and the order of
 * the sides rotates from round to round, so neither profits from a warm machine or a cold one.
 *
 *   npx tsx bench/core-mutations.ts [--mutations 100000] [--batch 500] [--concurrency 8] [--rounds 3]
 *                                   [--warmup 10] [--no-anchor] [--no-async] [--before <dir>] [--json out.json]
 *
 * BENCH_CORE_NODE_OPTIONS: node options for the cores started here only (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
 *
 * `--before <dir>`: one more side (two with the ASYNC side), the core of another checkout (`<dir>/apps/actionbase/src/main.ts`, e.g. a
 * `git archive` of the commit before a change, with node_modules linked in), run the same way in the same
 * rounds: before and after figures of one run.
 *
 * Prints each round, then min/median/max over rounds and the machine's load; the last line is the JSON
 * result (also written to --json). Clocks:
 *   ackRate   mutations / (first request → last HTTP answer); every answered mutation has its WAL record on Kafka
 *   e2eRate   mutations / (first request → last CDC record acknowledged by Kafka)
 *   drainMs   last HTTP answer → last CDC record on Kafka
 *   perCpuSecond  mutations per CPU-second of the core's process (all threads) over the timed part: on a
 *             shared machine the figure that other work moves least
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createKafka } from '@pipeline/kafka';
import { producerPerformance } from '@pipeline/stack';
import { api, CoreProcess, createLikes, freePort, uniqueName } from '@pipeline/testing';
import { Catalog, CdcRelay, LegacyTableBody, legacySchema, MutationEngine, SinkCdcOutlet, SqliteEdgeStore, type RecordSink } from '@pipeline/actionbase';
import { averageRecordBytes, backlogSampler, cpuSecondsOf, benchKafka, CoreAt, emit, fmtSpread, HttpClient, loadLine, machine, makeWorkload, pct, sendAll, sleep, spread, TopicCounter, type Workload } from './core-common';

const { values } = parseArgs({
  options: {
    mutations: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '10' },
    partitions: { type: 'string', default: '6' },
    'no-anchor': { type: 'boolean', default: false },
    'no-async': { type: 'boolean', default: false },
    before: { type: 'string' },
    json: { type: 'string' },
  },
});
const total = Number(values.mutations);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const rounds = Number(values.rounds);
const warmupBatches = Number(values.warmup);
const partitions = Number(values.partitions);
const tableBody = {
  table: 'likes',
  schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
  direction: 'BOTH',
  indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
};

async function engineOnly(warm: Workload, timed: Workload): Promise<{ rate: number; relayedRate: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-engine-'));
  const store = new SqliteEdgeStore(join(dir, 'core.db'));
  const catalog = await Catalog.open(store, 'bench');
  await catalog.createDatabase('shop', { comment: '' }, 'bench');
  const b = LegacyTableBody.parse(tableBody);
  await catalog.createTable('shop', b.table, { ...legacySchema(b), mode: b.mode, comment: b.comment, storage: b.storage, readOnly: b.readOnly, event: false }, 'bench');
  // Records go nowhere: this side measures the engine and storage alone.
  const noop: RecordSink = { kind: 'log', publishWal: async () => undefined, publishCdc: async () => undefined, close: async () => undefined };
  const relay = new CdcRelay(store, new SinkCdcOutlet(noop), pino({ level: 'silent' }), { batchRows: 20_000, batchBytes: 4 * 1024 * 1024, maxBackoffMs: 5000, maxRecordBytes: 1 << 20, parkDir: join(dir, 'parked') });
  relay.start();
  const engine = new MutationEngine(store, noop, relay, { tenant: 'bench', systemMode: null, recordLimits: { walRecordBytes: 1 << 20, cdcRecordBytes: 1 << 20 } });
  const table = await catalog.resolve('shop', 'likes');
  const opts = { requestMode: null, force: false, actor: 'bench', requestId: 'r' };
  const run = async (w: Workload) => {
    // The same concurrency as the HTTP side: requests interleave at the engine's await points.
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < w.bodies.length) await engine.mutate(table, JSON.parse(w.bodies[next++]!), opts);
      }),
    );
  };
  await run(warm);
  while (relay.backlog() > 0) await sleep(5);
  const t0 = performance.now();
  await run(timed);
  const tDone = performance.now();
  while (relay.backlog() > 0) await sleep(1);
  const tRelayed = performance.now();
  await relay.stop();
  await store.close();
  return { rate: timed.mutations / ((tDone - t0) / 1000), relayedRate: timed.mutations / ((tRelayed - t0) / 1000) };
}

export interface HttpSideResult {
  ackRate: number;
  e2eRate: number;
  drainMs: number;
  /** Highest CDC backlog the core reported while the requests ran (sampled every 250 ms). */
  peakBacklog: number;
  p50Ms: number;
  p99Ms: number;
  walRecordBytes: number;
  cdcRecordBytes: number;
  /** Mutations per CPU-second of the core's process, first request → last record on Kafka. */
  perCpuSecond: number;
}

/**
 * The core over HTTP on fresh topics. `mode` is the table's: SYNC stores every mutation and relays its CDC
 * record; ASYNC only writes the WAL and answers QUEUED (the clock then stops at the last answer, and the
 * CDC topic must hold nothing but the start-up heartbeat).
 */
async function httpKafka(warm: Workload, timed: Workload, bootstrap: string, counter: TopicCounter, mode: 'SYNC' | 'ASYNC', root?: string): Promise<HttpSideResult> {
  const wal = uniqueName('bench.wal');
  const cdc = uniqueName('bench.cdc');
  const env = {
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: wal,
    CDC_TOPIC: cdc,
    WAL_PARTITIONS: String(partitions),
    CDC_PARTITIONS: String(partitions),
    STORAGE_PATH: join(mkdtempSync(join(tmpdir(), 'bench-core-')), 'core.db'),
    // One heartbeat at start (counted below), none during the run.
    HEARTBEAT_INTERVAL_MS: String(3_600_000),
    LOG_LEVEL: 'warn',
    ...(process.env['BENCH_CORE_NODE_OPTIONS'] ? { NODE_OPTIONS: process.env['BENCH_CORE_NODE_OPTIONS'] } : {}),
  };
  const core = root ? new CoreAt(root, env) : new CoreProcess(env);
  await core.start();
  const client = new HttpClient(core.url, concurrency);
  try {
    await createLikes(core.url, 'likes', mode);
    await sendAll(client, warm.bodies, concurrency);
    const sync = mode === 'SYNC';
    const cdcBase = 1 + (sync ? warm.cdcRecords : 0);
    const cdcTotal = cdcBase + (sync ? timed.cdcRecords : 0);
    await counter.until(cdc, cdcBase);
    const pid = core.child!.pid!;
    const sampler = backlogSampler(core.url);
    const cpu0 = cpuSecondsOf(pid);
    const t0 = performance.now();
    const latencies = await sendAll(client, timed.bodies, concurrency);
    const tAck = performance.now();
    const { peak: peakBacklog } = await sampler.stop();
    const tCdc = sync ? await counter.until(cdc, cdcTotal) : tAck;
    const cpu = cpuSecondsOf(pid) - cpu0;
    // What the clocks claim must be on Kafka: every WAL and CDC record, no more.
    const [walN, cdcN] = [await counter.count(wal), await counter.count(cdc)];
    if (walN !== 1 + warm.mutations + timed.mutations || cdcN !== cdcTotal)
      throw new Error(`Kafka holds ${walN} WAL / ${cdcN} CDC records, expected ${1 + warm.mutations + timed.mutations} / ${cdcTotal}`);
    const health = await api(core.url, 'GET', '/graph/health/details');
    if (health.body?.cdcBacklog !== 0) throw new Error(`the core reports a CDC backlog of ${health.body?.cdcBacklog} after the last record was seen on Kafka`);
    return {
      ackRate: timed.mutations / ((tAck - t0) / 1000),
      e2eRate: timed.mutations / ((Math.max(tAck, tCdc) - t0) / 1000),
      drainMs: Math.max(0, tCdc - tAck),
      peakBacklog,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      walRecordBytes: await averageRecordBytes(bootstrap, wal),
      cdcRecordBytes: sync ? await averageRecordBytes(bootstrap, cdc) : 0,
      perCpuSecond: timed.mutations / cpu,
    };
  } catch (err) {
    console.error(`core output (tail):\n${core.output.slice(-3000)}`);
    throw err;
  } finally {
    client.close();
    await core.stop();
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-cleanup' }).admin();
    await admin.deleteTopics([wal, cdc]).catch(() => undefined);
    await admin.close();
  }
}

async function anchor(bootstrap: string, records: number, recordSize: number): Promise<number> {
  const topic = uniqueName('bench.anchor');
  const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-anchor' }).admin();
  try {
    await admin.ensureTopics([{ name: topic, partitions }]);
    const r = await producerPerformance({ bootstrap, topic, records, recordSize, props: { acks: 'all' } });
    return r.recordsPerSec;
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close();
  }
}

{
  const broker = await benchKafka();
const { bootstrap } = broker;
  const counter = await TopicCounter.open(bootstrap);
  const warm = makeWorkload(7, warmupBatches * batchSize, batchSize);
  const timed = makeWorkload(42, total, batchSize);
  const before = machine();
  console.log(`workload: ${timed.mutations} edge mutations (${timed.cdcRecords} CDC records) in batches of ${batchSize}, ${concurrency} concurrent clients, ${rounds} rounds, warm-up ${warm.mutations} on every side; ${loadLine()}`);
  // The anchor's record size is the WAL's, measured on the first HTTP side; until then the 600 bytes.
  let walBytes = 600;
  const withAsync = !values['no-async'];
  const sides = [
    'engine',
    'http',
    ...(withAsync ? ['async'] : []),
    ...(values.before ? ['before', ...(withAsync ? ['beforeAsync'] : [])] : []),
    ...(values['no-anchor'] ? [] : ['anchor']),
  ];
  type Row = {
    round: number;
    order: string[];
    load1: number;
    engine?: { rate: number; relayedRate: number };
    http?: HttpSideResult;
    async?: HttpSideResult;
    before?: HttpSideResult;
    beforeAsync?: HttpSideResult;
    anchor?: number;
  };
  const perRound: Row[] = [];
  const line = (h: HttpSideResult, sync: boolean) =>
    sync
      ? `HTTP acked ${Math.round(h.ackRate)}/s, end to end ${Math.round(h.e2eRate)}/s, CDC drained ${Math.round(h.drainMs)} ms after the last answer (peak backlog ${h.peakBacklog}), p50 ${Math.round(h.p50Ms)} ms p99 ${Math.round(h.p99Ms)} ms, ${Math.round(h.perCpuSecond)} per CPU-second of the core`
      : `WAL acked ${Math.round(h.ackRate)}/s, p50 ${Math.round(h.p50Ms)} ms p99 ${Math.round(h.p99Ms)} ms, ${Math.round(h.perCpuSecond)} per CPU-second of the core`;
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    const row: Row = { round: r + 1, order, load1: machine().load1 };
    for (const side of order) {
      if (side === 'engine') row.engine = await engineOnly(warm, timed);
      else if (side === 'http') {
        row.http = await httpKafka(warm, timed, bootstrap, counter, 'SYNC');
        walBytes = row.http.walRecordBytes;
      } else if (side === 'async') row.async = await httpKafka(warm, timed, bootstrap, counter, 'ASYNC');
      else if (side === 'before') row.before = await httpKafka(warm, timed, bootstrap, counter, 'SYNC', values.before);
      else if (side === 'beforeAsync') row.beforeAsync = await httpKafka(warm, timed, bootstrap, counter, 'ASYNC', values.before);
      else row.anchor = await anchor(bootstrap, Math.min(timed.mutations, 500_000), walBytes);
    }
    perRound.push(row);
    console.log(
      `round ${r + 1} [${order.join(' → ')}] load ${row.load1}: engine ${Math.round(row.engine!.rate)}/s; SYNC ${line(row.http!, true)}` +
        (row.anchor ? `; ProducerPerformance ${Math.round(row.anchor)}/s` : ''),
    );
    if (row.async) console.log(`  ASYNC: ${line(row.async, false)}`);
    if (row.before) console.log(`  before, SYNC: ${line(row.before, true)}`);
    if (row.beforeAsync) console.log(`  before, ASYNC: ${line(row.beforeAsync, false)}`);
  }
  await counter.close();
  await broker.stop();
  const of = (f: (x: Row) => number | undefined, digits = 0) => spread(perRound.map(f).filter((x): x is number => x !== undefined), digits);
  const noAnchor = values['no-anchor'];
  const result = {
    bench: 'core-mutations',
    machine: { before, after: machine() },
    workload: { mutations: timed.mutations, cdcRecords: timed.cdcRecords, batch: batchSize, concurrency, rounds, warmup: warm.mutations, partitions },
    walRecordBytes: walBytes,
    asyncWalRecordBytes: perRound[0]?.async?.walRecordBytes,
    cdcRecordBytes: perRound[0]?.http?.cdcRecordBytes,
    engineRate: of((x) => x.engine?.rate),
    engineRelayedRate: of((x) => x.engine?.relayedRate),
    ackRate: of((x) => x.http?.ackRate),
    e2eRate: of((x) => x.http?.e2eRate),
    drainMs: of((x) => x.http?.drainMs),
    peakBacklog: of((x) => x.http?.peakBacklog),
    p50Ms: of((x) => x.http?.p50Ms),
    p99Ms: of((x) => x.http?.p99Ms),
    perCpuSecond: of((x) => x.http?.perCpuSecond),
    anchorRate: noAnchor ? undefined : of((x) => x.anchor),
    // Ratios are taken inside each round (same machine state), then spread over rounds.
    e2eOverEngine: of((x) => x.http && x.engine && x.http.e2eRate / x.engine.relayedRate, 3),
    ackOverEngine: of((x) => x.http && x.engine && x.http.ackRate / x.engine.rate, 3),
    /** The SYNC path's acknowledged rate over the anchor: bounded by the store, not by the WAL write. */
    walOverAnchor: noAnchor ? undefined : of((x) => x.http && x.anchor && x.http.ackRate / x.anchor, 3),
    async: withAsync
      ? {
          walRate: of((x) => x.async?.ackRate),
          p50Ms: of((x) => x.async?.p50Ms),
          p99Ms: of((x) => x.async?.p99Ms),
          perCpuSecond: of((x) => x.async?.perCpuSecond),
          /** The WAL write path alone (ASYNC: validate, WAL acknowledged, QUEUED) over the anchor. */
          walOverAnchor: noAnchor ? undefined : of((x) => x.async && x.anchor && x.async.ackRate / x.anchor, 3),
        }
      : undefined,
    before: values.before
      ? {
          root: values.before,
          ackRate: of((x) => x.before?.ackRate),
          e2eRate: of((x) => x.before?.e2eRate),
          drainMs: of((x) => x.before?.drainMs),
          peakBacklog: of((x) => x.before?.peakBacklog),
          perCpuSecond: of((x) => x.before?.perCpuSecond),
          walOverAnchor: noAnchor ? undefined : of((x) => x.before && x.anchor && x.before.ackRate / x.anchor, 3),
          e2eOverBefore: of((x) => x.http && x.before && x.http.e2eRate / x.before.e2eRate, 3),
          perCpuSecondOverBefore: of((x) => x.http && x.before && x.http.perCpuSecond / x.before.perCpuSecond, 3),
          async: withAsync
            ? {
                walRate: of((x) => x.beforeAsync?.ackRate),
                perCpuSecond: of((x) => x.beforeAsync?.perCpuSecond),
                walOverAnchor: noAnchor ? undefined : of((x) => x.beforeAsync && x.anchor && x.beforeAsync.ackRate / x.anchor, 3),
                walOverBefore: of((x) => x.async && x.beforeAsync && x.async.ackRate / x.beforeAsync.ackRate, 3),
                perCpuSecondOverBefore: of((x) => x.async && x.beforeAsync && x.async.perCpuSecond / x.beforeAsync.perCpuSecond, 3),
              }
            : undefined,
        }
      : undefined,
    rounds: perRound,
  };
  console.log(`\nover ${rounds} rounds (median, min, max); ${loadLine()}`);
  console.log(`engine only:             ${fmtSpread(result.engineRate, '/s')}`);
  console.log(`SYNC table, HTTP acked (WAL on Kafka): ${fmtSpread(result.ackRate, '/s')}`);
  console.log(`SYNC table, end to end (CDC on Kafka): ${fmtSpread(result.e2eRate, '/s')}; ${fmtSpread(result.perCpuSecond)} per CPU-second of the core`);
  console.log(`CDC drain after last answer: ${fmtSpread(result.drainMs, ' ms')}; peak backlog during the run ${fmtSpread(result.peakBacklog)}`);
  console.log(`batch latency: p50 ${fmtSpread(result.p50Ms, ' ms')}, p99 ${fmtSpread(result.p99Ms, ' ms')}`);
  if (result.async)
    console.log(
      `ASYNC table, the WAL write path (HTTP batch → WAL acked, QUEUED): ${fmtSpread(result.async.walRate, '/s')}; ${fmtSpread(result.async.perCpuSecond)} per CPU-second of the core; p50 ${fmtSpread(result.async.p50Ms, ' ms')}, p99 ${fmtSpread(result.async.p99Ms, ' ms')}`,
    );
  if (result.anchorRate) {
    console.log(`ProducerPerformance (acks=all, ${walBytes} B): ${fmtSpread(result.anchorRate, '/s')}`);
    console.log(`  SYNC acked / anchor (bounded by the store): ${fmtSpread(result.walOverAnchor!)}`);
    if (result.async) console.log(`  ASYNC WAL write / anchor (the WAL write path): ${fmtSpread(result.async.walOverAnchor!)}`);
  }
  console.log(`end to end / engine only: ${fmtSpread(result.e2eOverEngine)}`);
  if (result.before) {
    const b = result.before;
    console.log(`before (${b.root}), SYNC: acked ${fmtSpread(b.ackRate, '/s')}, end to end ${fmtSpread(b.e2eRate, '/s')}, CDC drain ${fmtSpread(b.drainMs, ' ms')}, peak backlog ${fmtSpread(b.peakBacklog)}`);
    console.log(`  SYNC end to end, after / before (same round): ${fmtSpread(b.e2eOverBefore)}; per CPU-second ${fmtSpread(b.perCpuSecondOverBefore)}`);
    if (b.async)
      console.log(`  ASYNC WAL write, after / before (same round): ${fmtSpread(b.async.walOverBefore)}; per CPU-second ${fmtSpread(b.async.perCpuSecondOverBefore)}`);
  }
  emit(values.json, result);
}
