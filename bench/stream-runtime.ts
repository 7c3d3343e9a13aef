/**
 * Records/s through the consumer runtime (@pipeline/stream: decode with the event schemas, batching, sink,
 * commit after the sink, metrics) into a sink that reads every record, against Kafka's own Java
 * ConsumerPerformance (org.apache.kafka:kafka-tools: bench/lib/kafka-tools.ts, else the copy tools/stack
 * fetches) on the same topic in the same rounds. Other rows split the gap: the plain JS consumer
 * (@pipeline/kafka, committing after each fetch batch, nothing decoded), the plain consumer plus decodeCdc on
 * every record (or lossless-json on every record), and the runtime with its Kafka consumer on a worker thread
 * (fetchWorker).
 *
 *   npx tsx bench/stream-runtime.ts [--json <file>]
 *
 * Env: BENCH_MESSAGES (default 300000 CDC records, ~0.65 KB each; the fetch worker is a fresh V8 isolate every
 * round whose code warms up while it runs, as the JVM's does, and at 100000 that warm-up was a third of its CPU),
 * BENCH_PARTITIONS (6), BENCH_ROUNDS (3),
 * BENCH_BATCH_MAX_RECORDS (500, StreamEnvSchema's default), BENCH_BATCH_MAX_WAIT_MS (50), BENCH_READERS
 * (comma-separated subset of java,plain,decode,before,lossless,worker,runtime,runtime-worker; default
 * java,plain,decode,runtime,runtime-worker; `none`: the in-process tables only), KAFKA_TOOLS_JAR /
 * KAFKA_TOOLS_CLASSPATH (where the Java tools are; without them the baseline is the plain JS consumer).
 * Each reader is a fresh consumer group from the beginning of the topic; the JS clocks start once it has joined
 * the group and stop at its last record; Java's is its own fetch.nMsg.sec (group join and JVM start excluded).
 * Round 0 warms every reader up and is not counted; the order of the readers rotates every round; ratios are
 * taken per round. Every reader's rate counts every message (heartbeats included). For each JS reader the rounds
 * also give its CPU per message, of the main thread and of the whole process (the fetch worker and V8's helper
 * threads included), and how busy its main event loop was: near 1, the main thread bounds the rate; below, it
 * waited (on the fetch worker, the broker, or the cores being taken by other processes).
 *
 * The in-process decode table, first, times decoding without Kafka (BENCH_DECODE_RECORDS, 10000, records per row
 * and round, BENCH_DECODE_ROUNDS, 25): the JSON.parse path decodeCdc had before LONGs were parsed losslessly,
 * decodeCdc (JSON.parse after a scan for integers that may be beyond 2^53), decodeCdc on records holding LONGs
 * beyond 2^53 (through lossless-json), and every record through lossless-json (what the scan saves; also what
 * decodeCdc did with every CDC record while its scan took the core's 16-digit seq for such an integer).
 *
 * The in-process runtime path table, second, weighs the runtime's own machinery without Kafka (BENCH_PATH_RECORDS,
 * 12000, BENCH_PATH_ROUNDS, 40): the same fetched batches through a plain decodeCdc loop and through the runtime's
 * Pipeline (batching, sink, offsets, commits, metrics), in thread CPU time per record; and what the main thread
 * does with the fetch worker: the same fetches packed as the worker packs them (outside the clock), unpacked and
 * put through the Pipeline. BENCH_READERS=none stops after these two tables.
 *
 * Figures: bench/README.md.
 */
import path from 'node:path';
import pino from 'pino';
import { parse as parseLossless, isInteger } from 'lossless-json';
import { CdcRecordSchema, decodeCdc, encodeCdc, type CdcRecord } from '@pipeline/events';
import { fastCdc, longOf, parseOrThrow } from '@pipeline/events/stages';
import { createKafka } from '@pipeline/kafka';
import { uniqueTopic } from '@pipeline/kafka/testing';
import { runConsumer, workerConsumer, type DecodedRecord, type Sink } from '@pipeline/stream';
import { cdcHeartbeat, cdcValue, keyOf, packBatch, Pipeline, StreamMetrics, unpackBatch } from '@pipeline/stream/testing';
import type { ConsumedMessage, PartitionBatch } from '@pipeline/kafka';
import { Registry } from 'prom-client';
import { ensureKafka, kafkaToolsClasspath as stackKafkaTools } from '@pipeline/stack';
import { consumerPerformance, kafkaToolsClasspath } from './lib/kafka-tools';
import { emitResult, pairedRatios, printLoad, spread, type ResultRow } from './lib/report';

const N = Number(process.env['BENCH_MESSAGES'] ?? 300_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAX_RECORDS = Number(process.env['BENCH_BATCH_MAX_RECORDS'] ?? 500);
const MAX_WAIT_MS = Number(process.env['BENCH_BATCH_MAX_WAIT_MS'] ?? 50);
const READERS = new Set((process.env['BENCH_READERS'] ?? 'java,plain,decode,runtime,runtime-worker').split(','));
const DECODE_RECORDS = Number(process.env['BENCH_DECODE_RECORDS'] ?? 10_000);
const DECODE_ROUNDS = Number(process.env['BENCH_DECODE_ROUNDS'] ?? 25);
const PATH_RECORDS = Number(process.env['BENCH_PATH_RECORDS'] ?? 12_000);
const PATH_ROUNDS = Number(process.env['BENCH_PATH_ROUNDS'] ?? 40);
const HEARTBEAT_EVERY = 10_000;

// ---- In-process decode: lossless LONG parsing against the JSON.parse path it replaced -----------------------
const utf8 = new TextDecoder('utf-8', { fatal: true });
/** decodeCdc for native records as it was with JSON.parse (exact only up to 2^53): the same steps otherwise. */
const decodeBefore = (b: Uint8Array): CdcRecord => {
  const text = utf8.decode(b);
  const raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as { version?: unknown } | null;
  if (raw === null || typeof raw !== 'object' || raw.version !== '3') throw new Error('not a native record');
  return fastCdc(raw) ?? parseOrThrow(CdcRecordSchema, raw, 'CDC record');
};
const parseNumber = (t: string): unknown => (isInteger(t) ? longOf(t) : Number(t));
/** Every record through lossless-json: what decodeCdc would cost without the scan that keeps JSON.parse. */
const decodeAllLossless = (b: Uint8Array): CdcRecord => {
  const raw = parseLossless(utf8.decode(b), null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
  return fastCdc(raw) ?? parseOrThrow(CdcRecordSchema, raw, 'CDC record');
};
const typical = Array.from({ length: DECODE_RECORDS }, (_, n) => Buffer.from(cdcValue(n)));
// The same records with 64-bit ids and a ns version: the ones that need the lossless parse.
const withLongs = typical.map((b) => {
  const r = decodeCdc(b) as CdcRecord;
  const big = 9007199254740993n + BigInt(r.events[0]!.target as number);
  const ns = BigInt(r.events[0]!.version as number) * 1_000_000n;
  return Buffer.from(
    encodeCdc({
      ...r,
      events: r.events.map((e) => ({ ...e, target: big, version: ns })),
      after: r.after && { ...r.after, target: big, version: ns },
    }),
  );
});
const decodeRows: Record<string, { fn: (b: Uint8Array) => unknown; input: Buffer[]; rates: number[] }> = {
  'JSON.parse path (before)': { fn: decodeBefore, input: typical, rates: [] },
  decodeCdc: { fn: decodeCdc, input: typical, rates: [] },
  'decodeCdc, records with LONGs > 2^53': { fn: decodeCdc, input: withLongs, rates: [] },
  'lossless-json for every record': { fn: decodeAllLossless, input: typical, rates: [] },
};
const rowList = Object.values(decodeRows);
for (let r = 0; r <= DECODE_ROUNDS; r++) {
  // The order rotates every round: whichever row runs after another pays for its garbage.
  for (let i = 0; i < rowList.length; i++) {
    const row = rowList[(i + r) % rowList.length]!;
    const t0 = performance.now();
    for (const b of row.input) row.fn(b);
    // Round 0 warms the JIT up and is not counted.
    if (r > 0) row.rates.push(row.input.length / ((performance.now() - t0) / 1000));
  }
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const beforeRate = med(decodeRows['JSON.parse path (before)']!.rates);
console.log(`in-process decode, ${DECODE_RECORDS} CDC records (${(typical.reduce((a, b) => a + b.length, 0) / DECODE_RECORDS).toFixed(0)} B each), median of ${DECODE_ROUNDS} rounds:`);
console.log('| decoder | records/s | ratio to before |');
console.log('|---|---:|---:|');
for (const [k, v] of Object.entries(decodeRows)) console.log(`| ${k} | ${Math.round(med(v.rates))} | ${(med(v.rates) / beforeRate).toFixed(2)} |`);
console.log('');
// ---- In-process runtime path: what the runtime costs beyond decoding, without Kafka ------------------------
// The same fetched batches (6 partitions, 1500 messages each, fresh message objects over one buffer per fetch, as
// the Kafka client hands them out) go through a plain loop that decodes every record and yields once per batch
// (the plain reader's commit), and through the runtime's Pipeline (decode, batches of MAX_RECORDS, the sink,
// offsets, commits that yield once, metrics) into a sink that reads every record. Thread CPU time per record,
// so the load of the machine (other processes) weighs less than on a wall clock; ratios per round.
const PATH_PARTITIONS = 6;
const PATH_FETCH = 1_500;
const pathParts = Array.from({ length: PATH_PARTITIONS }, () => [] as { key: Buffer; value: Buffer }[]);
for (let n = 0; n < PATH_RECORDS; n++) {
  const heartbeat = n > 0 && n % HEARTBEAT_EVERY === 0;
  pathParts[n % PATH_PARTITIONS]!.push({ key: Buffer.from(heartbeat ? 'sys:heartbeat' : keyOf(n)), value: Buffer.from(heartbeat ? cdcHeartbeat(n) : cdcValue(n)) });
}
const pathData = pathParts.filter((ms) => ms.length > 0).map((ms) => Buffer.concat(ms.map((m) => m.value)));
function* pathFetches(p: number): Generator<PartitionBatch> {
  const ms = pathParts[p]!;
  let at = 0;
  for (let i = 0; i < ms.length; i += PATH_FETCH) {
    const messages: ConsumedMessage[] = [];
    for (let j = i; j < Math.min(ms.length, i + PATH_FETCH); j++) {
      const len = ms[j]!.value.length;
      messages.push({ topic: 'in-process', partition: p, offset: BigInt(j), key: Buffer.from(ms[j]!.key), value: pathData[p]!.subarray(at, at + len), headers: {}, timestamp: j });
      at += len;
    }
    yield { topic: 'in-process', partition: p, messages, highWatermark: BigInt(ms.length) };
  }
}
const yieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));
const pathPartitions = pathData.map((_, p) => p);
/** The runtime's Pipeline into a sink that reads every record; `fetches(p)` gives partition p's batches. */
async function pipelinePath(fetches: (p: number) => Iterable<PartitionBatch>): Promise<number> {
  let afters = 0;
  const sink: Sink<CdcRecord> = {
    async write(batch) {
      for (const r of batch) afters += r.record.after ? 1 : 0;
    },
  };
  const pipeline = new Pipeline<CdcRecord>({
    groupId: 'in-process',
    topic: 'in-process',
    kind: 'cdc',
    sink,
    batch: { maxRecords: MAX_RECORDS, maxBytes: 5 * 1024 * 1024, maxWaitMs: MAX_WAIT_MS },
    retry: { baseMs: 200, maxMs: 30_000 },
    dlqTopic: 'in-process.dlq',
    consumer: { commit: yieldOnce, pause: () => undefined, resume: () => undefined },
    producer: { send: async () => undefined },
    logger: pino({ level: 'silent' }),
    metrics: new StreamMetrics(new Registry(), { group: 'in-process', topic: 'in-process' }),
  });
  await Promise.all(pathPartitions.map(async (p) => { for (const b of fetches(p)) await pipeline.handle(b); }));
  await pipeline.drain();
  return afters;
}
/**
 * `prepare` runs outside the clock: for the fetch worker's row it packs the fetches as the worker does (its
 * thread's work), so the clock holds what the main thread does with them: unpack, decode, the runtime.
 */
const pathRows: Record<string, { prepare?: () => unknown; run: (prepared: unknown) => Promise<number>; cpu: number[] }> = {
  'plain decodeCdc loop': {
    run: async () => {
      let afters = 0;
      await Promise.all(
        pathPartitions.map(async (p) => {
          for (const b of pathFetches(p)) {
            for (const m of b.messages) if (m.value) afters += (decodeCdc(m.value) as CdcRecord).after ? 1 : 0;
            await yieldOnce();
          }
        }),
      );
      return afters;
    },
    cpu: [],
  },
  'runtime per-batch path (Pipeline)': { run: () => pipelinePath(pathFetches), cpu: [] },
  "runtime per-batch path, fetch worker's main thread (unpack + Pipeline)": {
    prepare: () => pathPartitions.map((p) => [...pathFetches(p)].map((b, i) => structuredClone(packBatch(b, i).packed))),
    run: (packed) =>
      pipelinePath(function* (p) {
        for (const b of (packed as ReturnType<typeof packBatch>['packed'][][])[p]!) yield unpackBatch(b);
      }),
    cpu: [],
  },
};
const pathList = Object.entries(pathRows);
const expectedAfters = PATH_RECORDS - Math.floor((PATH_RECORDS - 1) / HEARTBEAT_EVERY);
for (let r = 0; r <= PATH_ROUNDS; r++) {
  for (let i = 0; i < pathList.length; i++) {
    const [name, row] = pathList[(i + r) % pathList.length]!;
    const prepared = row.prepare?.();
    const c0 = process.threadCpuUsage();
    const afters = await row.run(prepared);
    const c = process.threadCpuUsage(c0);
    if (afters !== expectedAfters) throw new Error(`${name}: read ${afters} records with an after state, expected ${expectedAfters}`);
    if (r > 0) row.cpu.push(PATH_RECORDS / ((c.user + c.system) / 1e6));
  }
}
const plainPath = pathRows['plain decodeCdc loop']!.cpu;
console.log(`in-process runtime path, ${PATH_RECORDS} CDC records over ${PATH_PARTITIONS} partitions, fetches of ${PATH_FETCH}, batches of ${MAX_RECORDS}, ${PATH_ROUNDS} rounds, records per CPU-second of the thread (median, p10–p90):`);
console.log('| path | records per CPU-second | ratio to the plain loop (per round) |');
console.log('|---|---:|---:|');
const pq = (xs: number[], d = 0) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (f: number) => s[Math.min(s.length - 1, Math.floor(s.length * f))]!.toFixed(d);
  return `${at(0.5)} (${at(0.1)}–${at(0.9)})`;
};
for (const [name, row] of pathList) console.log(`| ${name} | ${pq(row.cpu)} | ${row.cpu === plainPath ? '' : pq(pairedRatios(row.cpu, plainPath), 2)} |`);
console.log('');

// BENCH_READERS=none: the in-process tables only, no Kafka.
if (READERS.has('none')) process.exit(0);

const { bootstrap } = await ensureKafka();
const kafka = createKafka({ brokers: [bootstrap], clientId: 'bench-stream-runtime' });
const admin = await kafka.admin();
const topic = uniqueTopic('bench-stream-runtime');
await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);

// The topic: N CDC records keyed like the core's, with a heartbeat every HEARTBEAT_EVERY (skipped by the runtime).
const producer = await kafka.producer();
let bytes = 0;
let heartbeats = 0;
for (let i = 0; i < N; i += 1_000) {
  const messages = [];
  for (let n = i; n < Math.min(N, i + 1_000); n++) {
    const value = cdcValue(n);
    bytes += value.length;
    messages.push({ key: keyOf(n), value });
    if (n > 0 && n % HEARTBEAT_EVERY === 0) {
      messages.push({ key: 'sys:heartbeat', value: cdcHeartbeat(n) });
      heartbeats++;
    }
  }
  await producer.send(topic, messages);
}
await producer.close();
const total = N + heartbeats;
console.log(`topic ${topic}: ${N} CDC records (${(bytes / N).toFixed(0)} B each) + ${heartbeats} heartbeats over ${PARTITIONS} partitions`);


interface Run {
  rate: number;
  seconds: number;
  /**
   * JS readers, over the timed span: CPU per message (µs) of the main thread and of the whole process (the
   * fetch worker's thread and V8's helper threads too), and the main event loop's busy fraction (below 1: the
   * main thread waited).
   */
  main?: { cpuUsPerRecord: number; processCpuUsPerRecord: number; busy: number };
}

/** Starts the CPU and event-loop clocks of a timed span; the function it returns reads them per message. */
function cpuClock(): (messages: number) => NonNullable<Run['main']> {
  const c0 = process.threadCpuUsage();
  const p0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return (messages) => {
    const c = process.threadCpuUsage(c0);
    const pc = process.cpuUsage(p0);
    return { cpuUsPerRecord: (c.user + c.system) / messages, processCpuUsPerRecord: (pc.user + pc.system) / messages, busy: performance.eventLoopUtilization(elu0).utilization };
  };
}

/** The plain consumer: counts messages (optionally decoding each) and commits after each fetch batch. */
async function plain(decode: boolean | ((b: Uint8Array) => unknown), inWorker = false): Promise<Run> {
  const decoder = decode === true ? decodeCdc : decode || undefined;
  const options = { groupId: uniqueTopic('bench-plain'), topics: [topic], fromBeginning: true, maxWaitMs: 100 };
  const consumer = inWorker ? await workerConsumer({ brokers: [bootstrap], clientId: 'bench-stream-runtime' }, options) : await kafka.consumer(options);
  const t0 = performance.now();
  const clock = cpuClock();
  let count = 0;
  let t1 = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const running = consumer.run(async (b) => {
    if (decoder) for (const m of b.messages) if (m.value) decoder(m.value);
    count += b.messages.length;
    const last = b.messages[b.messages.length - 1];
    if (last) await consumer.commit([{ topic: b.topic, partition: b.partition, offset: last.offset + 1n }]);
    if (count >= total && t1 === 0) {
      t1 = performance.now();
      done();
    }
  });
  await finished;
  const main = clock(count);
  await consumer.close();
  await running;
  return { rate: count / ((t1 - t0) / 1000), seconds: (t1 - t0) / 1000, main };
}

/** The runtime with a sink that does nothing; it reads every record's decoded fields, as a real sink would. */
async function runtime(fetchWorker = false): Promise<Run> {
  let count = 0;
  let t1 = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  let seqs = 0;
  const sink: Sink<CdcRecord> = {
    async write(batch: DecodedRecord<CdcRecord>[]) {
      for (const r of batch) seqs += r.record.after ? 1 : 0;
      count += batch.length;
      if (count >= N && t1 === 0) {
        t1 = performance.now();
        done();
      }
    },
  };
  const group = uniqueTopic('bench-runtime');
  const logger = pino({ level: 'silent' });
  const consumer = await runConsumer({
    kafka: { brokers: [bootstrap], clientId: 'bench-stream-runtime' },
    groupId: group,
    topic,
    kind: 'cdc',
    sink,
    batch: { maxRecords: MAX_RECORDS, maxBytes: 5 * 1024 * 1024, maxWaitMs: MAX_WAIT_MS },
    retry: { baseMs: 200, maxMs: 30_000 },
    logger,
    consumer: { maxWaitMs: 100 },
    fetchWorker,
  });
  const t0 = performance.now();
  const clock = cpuClock();
  await finished;
  const main = clock(total);
  await consumer.stop();
  if (seqs !== N) throw new Error(`runtime sink saw ${seqs} records with an after state, expected ${N}`);
  // Heartbeats are read, decoded and skipped too: the rate counts every message, as the other readers' do.
  return { rate: total / ((t1 - t0) / 1000), seconds: (t1 - t0) / 1000, main };
}

let tools = READERS.has('java') ? kafkaToolsClasspath() : {};
if (READERS.has('java') && !tools.classpath) {
  // Else the tools tools/stack fetches (as the core benches' ProducerPerformance): $STACK_DIR/kafka-tools-<version>/lib.
  try {
    tools = { classpath: path.join(await stackKafkaTools(), '*') };
  } catch (err) {
    tools = { why: `${tools.why}; tools/stack could not provide them either: ${(err as Error).message}` };
  }
}
if (READERS.has('java') && !tools.classpath) console.log(`Java ConsumerPerformance left out: ${tools.why}`);
const readers: Record<string, () => Promise<Run>> = {};
if (tools.classpath) {
  const cp = tools.classpath;
  readers['Java ConsumerPerformance'] = async () => {
    const r = await consumerPerformance(cp, bootstrap, topic, total);
    return { rate: r.fetchRate, seconds: r.messages / r.fetchRate };
  };
}
if (READERS.has('plain')) readers['plain JS consumer'] = () => plain(false);
if (READERS.has('decode')) readers['plain + decodeCdc'] = () => plain(true);
if (READERS.has('before')) readers['plain + decode before'] = () => plain((b) => decodeBefore(b));
// What decodeCdc did with these records while its scan sent every 16-digit seq to the lossless parser.
if (READERS.has('lossless')) readers['plain + lossless-json decode'] = () => plain((b) => decodeAllLossless(b));
if (READERS.has('runtime')) readers['runtime (decode included)'] = () => runtime(false);
if (READERS.has('worker')) readers['plain, fetch worker + decodeCdc'] = () => plain(true, true);
if (READERS.has('runtime-worker')) readers['runtime, fetch worker (decode included)'] = () => runtime(true);
const names = Object.keys(readers);
const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
const cpu: Record<string, { main: number[]; process: number[]; busy: number[] }> = Object.fromEntries(names.map((n) => [n, { main: [], process: [], busy: [] }]));
const loadBefore = printLoad('before the Kafka rounds');
// Round 0 warms every reader up (JIT, broker page cache, JVM class loading) and is not counted; then the order
// rotates each round, so no reader always runs first on a cold broker or last on a hot machine.
for (let r = 0; r <= ROUNDS; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]!);
  const line: string[] = [];
  for (const name of order) {
    const run = await readers[name]!();
    if (r > 0) rates[name]!.push(run.rate);
    if (r > 0 && run.main) {
      cpu[name]!.main.push(run.main.cpuUsPerRecord);
      cpu[name]!.process.push(run.main.processCpuUsPerRecord);
      cpu[name]!.busy.push(run.main.busy);
    }
    line.push(`${name} ${Math.round(run.rate)}/s${run.main ? ` (CPU per record: main thread ${run.main.cpuUsPerRecord.toFixed(1)} µs, whole process ${run.main.processCpuUsPerRecord.toFixed(1)} µs; main event loop busy ${run.main.busy.toFixed(2)})` : ''}`);
  }
  console.log(`${r === 0 ? 'warm-up' : `round ${r}`}: ${line.join(', ')}`);
}
const loadAfter = printLoad('after');
await admin.deleteTopics([topic]).catch(() => undefined);
await admin.close();

const baseline = tools.classpath ? 'Java ConsumerPerformance' : 'plain JS consumer';
const rows: ResultRow[] = names.map((name) => ({
  name,
  unit: 'records/s',
  value: spread(rates[name]!),
  ...(name !== baseline && rates[baseline] && { ratio: spread(pairedRatios(rates[name]!, rates[baseline]!)), baseline }),
  ...(name.startsWith('runtime') && tools.classpath && { target: 0.8 }),
}));
// Where the time went, per JS reader: a main thread near 1 busy bounds the rate; below, it waited (on the fetch
// worker, the broker, or another process's turn on the cores).
const cpuRows: ResultRow[] = names
  .filter((name) => cpu[name]!.main.length)
  .flatMap((name): ResultRow[] => [
    { name: `${name}: main thread CPU per message`, unit: 'µs', value: spread(cpu[name]!.main) },
    { name: `${name}: process CPU per message`, unit: 'µs', value: spread(cpu[name]!.process) },
    { name: `${name}: main event loop busy`, unit: 'fraction', value: spread(cpu[name]!.busy) },
  ]);
const decodeRow = (name: string, rs: number[]): ResultRow => ({ name: `in-process: ${name}`, unit: 'records/s', value: spread(rs), ratio: spread(pairedRatios(rs, decodeRows['JSON.parse path (before)']!.rates)), baseline: 'JSON.parse path' });
emitResult({
  bench: 'stream-runtime',
  rounds: ROUNDS,
  params: { messages: N, partitions: PARTITIONS, recordBytes: Math.round(bytes / N), maxRecords: MAX_RECORDS, maxWaitMs: MAX_WAIT_MS },
  load: { before: loadBefore, after: loadAfter },
  rows: [
    ...rows,
    ...cpuRows,
    ...Object.entries(decodeRows).map(([k, v]) => decodeRow(k, v.rates)),
    ...pathList.map(([name, row]): ResultRow => ({
      name: `in-process: ${name}`,
      unit: 'records per CPU-second',
      value: spread(row.cpu),
      ...(row.cpu !== plainPath && { ratio: spread(pairedRatios(row.cpu, plainPath)), baseline: 'plain decodeCdc loop' }),
    })),
  ],
  notes: tools.why ? [`no Java anchor: ${tools.why}`] : [],
});
process.exit(0);
