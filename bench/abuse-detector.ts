/**
 * Records/s through abuse-detector (libs/stream + the detector sink: rules, windows, the SQLite store saved with
 * the offsets every batch, alerts to Kafka and Elasticsearch) against plain consumers of the same topic in the
 * same run: @pipeline/kafka's consumer counting and committing (plain), and libs/stream with a sink that does
 * nothing (runtime, i.e. what any consumer app pays before its own work).
 *
 *   npx tsx bench/abuse-detector.ts
 *
 * Env: BENCH_MESSAGES (default 50000 CDC records), BENCH_PARTITIONS (6), BENCH_ROUNDS (3, alternating the readers;
 * medians reported), BENCH_BATCH_MAX_RECORDS (500, StreamEnvSchema's default), BENCH_ACTORS (5000 humans; 1% of the
 * records come from 10 bots). The rules are the shipped apps/abuse-detector/rules.json. Each reader is a fresh
 * consumer group from the beginning of the topic (the detector also a fresh state file, alerts topic and index);
 * the clock starts once it joined and stops at its last record.
 *
 * Results on the project machine (2 cores shared with other test runs, load average 19-25), 50000 records, medians
 * of 3 rounds: plain 98666/s, runtime 26669/s (0.27 of plain), detector 4593/s (0.17 of runtime, per-round ratio
 * 0.17), 3 alerts (the 3 flapping bots; the other bots stay under the shipped limits at this rate). In process,
 * without Kafka, the same records split the detector's time about 60% rules and windows (five rules touch each
 * record), 40% saving each batch's changes in its SQLite transaction. With one row per changed entry instead of
 * one row per batch, saving took 70% and the detector ran at 0.07-0.08 of the runtime; `synchronous = NORMAL`
 * instead of FULL saves little (~15%): the cost is rows and JSON, not fsyncs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { encodeCdc, kafkaKey, type CdcRecord } from '@pipeline/events';
import { createKafka } from '@pipeline/kafka';
import { uniqueTopic } from '@pipeline/kafka/testing';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { runConsumer, type DecodedRecord, type Sink } from '@pipeline/stream';
import { AbuseDetectorSink, DetectorMetrics, KafkaEsAlertOutput, KafkaPartitionOffsets, loadRulesFile } from '@pipeline/abuse-detector';
import { cdc, seededRandom } from '@pipeline/abuse-detector/testing';

const N = Number(process.env['BENCH_MESSAGES'] ?? 50_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAX_RECORDS = Number(process.env['BENCH_BATCH_MAX_RECORDS'] ?? 500);
const ACTORS = Number(process.env['BENCH_ACTORS'] ?? 5_000);
const T0 = Date.UTC(2026, 0, 1);
const logger = pino({ level: 'silent' });

const { bootstrap } = await ensureKafka();
const { url: esUrl } = await ensureElasticsearch();
const es = new Client({ node: esUrl });
const kafka = createKafka({ brokers: [bootstrap], clientId: 'bench-abuse-detector' });
const admin = await kafka.admin();
const topic = uniqueTopic('bench-abuse-detector');
await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
const cleanup = { topics: [topic], indices: [] as string[] };

// Humans act now and then; 1% of the records are 10 bots hammering (bursts, fan-out, flapping on one edge).
// Event time moves 5 ms per record, so the 60 s windows of the shipped rules open and close along the topic.
const rnd = seededRandom(3);
const producer = await kafka.producer();
let bytes = 0;
for (let i = 0; i < N; i += 1_000) {
  const messages = [];
  for (let n = i; n < Math.min(N, i + 1_000); n++) {
    const bot = rnd() < 0.01 ? Math.floor(rnd() * 10) : -1;
    const actor = bot >= 0 ? `bot-${bot}` : `user-${Math.floor(rnd() * ACTORS)}`;
    const target = bot >= 0 && bot < 3 ? 777 : Math.floor(rnd() * 50_000);
    const status = bot >= 0 && bot < 3 ? (n % 2 === 0 ? 'CREATED' : 'DELETED') : rnd() < 0.8 ? 'CREATED' : 'DELETED';
    const record: CdcRecord = cdc({ at: T0 + n * 5, actor, source: actor, target, status });
    const value = encodeCdc(record);
    bytes += value.length;
    messages.push({ key: kafkaKey(actor, target), value });
  }
  await producer.send(topic, messages);
}
await producer.close();
console.log(`topic ${topic}: ${N} CDC records (${(bytes / N).toFixed(0)} B each) over ${PARTITIONS} partitions, ${ACTORS} humans + 10 bots`);

interface Run {
  rate: number;
  alerts?: number;
}

async function plain(): Promise<Run> {
  const consumer = await kafka.consumer({ groupId: uniqueTopic('bench-plain'), topics: [topic], fromBeginning: true, maxWaitMs: 100 });
  const t0 = performance.now();
  let count = 0;
  let t1 = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const running = consumer.run(async (b) => {
    count += b.messages.length;
    const last = b.messages[b.messages.length - 1];
    if (last) await consumer.commit([{ topic: b.topic, partition: b.partition, offset: last.offset + 1n }]);
    if (count >= N && t1 === 0) {
      t1 = performance.now();
      done();
    }
  });
  await finished;
  await consumer.close();
  await running;
  return { rate: count / ((t1 - t0) / 1000) };
}

/** libs/stream with `sink`, timed until `count()` reaches N. */
async function throughStream(sink: Sink<CdcRecord>, count: () => number, group: string): Promise<number> {
  let t1 = 0;
  const consumer = await runConsumer({
    kafka: { brokers: [bootstrap], clientId: 'bench-abuse-detector' },
    groupId: group,
    topic,
    kind: 'cdc',
    sink,
    batch: { maxRecords: MAX_RECORDS, maxBytes: 5 * 1024 * 1024, maxWaitMs: 50 },
    retry: { baseMs: 200, maxMs: 30_000 },
    logger,
    consumer: { maxWaitMs: 100 },
  });
  cleanup.topics.push(`${group}.dlq`);
  const t0 = performance.now();
  while (count() < N) await new Promise((r) => setTimeout(r, 5));
  t1 = performance.now();
  await consumer.stop();
  return N / ((t1 - t0) / 1000);
}

async function runtime(): Promise<Run> {
  let count = 0;
  const sink: Sink<CdcRecord> = {
    async write(batch: DecodedRecord<CdcRecord>[]) {
      count += batch.length;
    },
  };
  return { rate: await throughStream(sink, () => count, uniqueTopic('bench-runtime')) };
}

async function detector(): Promise<Run> {
  const group = uniqueTopic('bench-detector');
  const alertsTopic = uniqueTopic('bench-alerts');
  const index = `bench-abuse-${Date.now().toString(36)}-alerts`;
  cleanup.topics.push(alertsTopic);
  cleanup.indices.push(index);
  const registry = new Registry();
  let count = 0;
  let alerts = 0;
  const output = new KafkaEsAlertOutput({ kafka, topic: alertsTopic, es, index });
  const publish = output.publish.bind(output);
  output.publish = async (a) => {
    alerts += a.length;
    await publish(a);
  };
  const inner = new AbuseDetectorSink({
    rules: loadRulesFile(new URL('../apps/abuse-detector/rules.json', import.meta.url).pathname),
    limits: { maxKeys: 200_000, graceMs: 5_000 },
    ignoredActors: [],
    statePath: join(mkdtempSync(join(tmpdir(), 'bench-abuse-')), 'state.db'),
    offsets: new KafkaPartitionOffsets(kafka, group),
    output,
    metrics: new DetectorMetrics(registry),
    logger,
    groupCheckMs: 10_000,
  });
  const sink: Sink<CdcRecord> = {
    start: () => inner.start(),
    close: () => inner.close(),
    async write(batch) {
      await inner.write(batch);
      count += batch.length;
    },
  };
  return { rate: await throughStream(sink, () => count, group), alerts };
}

const rows = { plain: [] as Run[], runtime: [] as Run[], detector: [] as Run[] };
for (let r = 1; r <= ROUNDS; r++) {
  rows.plain.push(await plain());
  rows.runtime.push(await runtime());
  rows.detector.push(await detector());
  console.log(
    `round ${r}: plain ${Math.round(rows.plain.at(-1)!.rate)}/s, runtime ${Math.round(rows.runtime.at(-1)!.rate)}/s, ` +
      `detector ${Math.round(rows.detector.at(-1)!.rate)}/s (${rows.detector.at(-1)!.alerts} alerts)`,
  );
}
await admin.deleteTopics(cleanup.topics).catch(() => undefined);
await es.indices.delete({ index: cleanup.indices, ignore_unavailable: true }).catch(() => undefined);
await admin.close();
await es.close();

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, med(v.map((x) => x.rate))])) as Record<keyof typeof rows, number>;
console.log(`\nmedian of ${ROUNDS} rounds, ${N} records, batch ${MAX_RECORDS} records:`);
console.log('| reader | records/s | ratio to plain | ratio to runtime |');
console.log('|---|---:|---:|---:|');
for (const [k, v] of Object.entries(m)) console.log(`| ${k} | ${Math.round(v)} | ${(v / m.plain).toFixed(2)} | ${(v / m.runtime).toFixed(2)} |`);
const paired = med(rows.detector.map((d, i) => d.rate / rows.runtime[i]!.rate));
console.log(`detector / runtime, median of the per-round ratios: ${paired.toFixed(2)}`);
