/**
 * Records/s through the consumer runtime (@pipeline/stream: decode with the event schemas, batching, sink,
 * commit after the sink, metrics) into a no-op sink, against a plain consumer of the same client
 * (@pipeline/kafka's consumer, committing after each fetch batch, nothing decoded) reading the same topic in
 * the same run. A third row, the plain consumer plus decodeCdc on every record, splits the gap between
 * decoding (which every real app needs) and the runtime's own machinery.
 *
 *   npx tsx bench/stream-runtime.ts
 *
 * Env: BENCH_MESSAGES (default 100000 CDC records, ~0.7 KB each), BENCH_PARTITIONS (6), BENCH_ROUNDS (3,
 * alternating the three readers; medians reported), BENCH_BATCH_MAX_RECORDS (500, StreamEnvSchema's default),
 * BENCH_BATCH_MAX_WAIT_MS (50), BENCH_READERS (comma-separated subset of plain,decode,before,runtime, e.g. to profile one;
 * `none`: the in-process decode table only). Each reader is a fresh consumer group from the beginning of the topic; the clock
 * starts once it has joined the group (kafka.consumer() / runConsumer() resolved) and stops at its last record.
 *
 * Lossless LONGs (libs/events json.ts): the `before` reader decodes as decodeCdc did before LONGs were parsed
 * losslessly (JSON.parse, then the same checks), so `plain + decodeCdc` / `plain + decode before` is the cost in
 * the same run. The in-process decode table, first, splits it without Kafka (BENCH_DECODE_RECORDS, 10000, records
 * per row and round, BENCH_DECODE_ROUNDS, 25, rounds): the native parse, decodeCdc on the same records (the 16-digit scan is all it adds), decodeCdc on
 * records that hold a LONG beyond 2^53 (they go through lossless-json), and every record through lossless-json
 * (what the scan saves).
 *
 * Results on the project machine (2 cores, shared with other test runs), 100000 records, 5 rounds, medians:
 * plain 213794/s, plain + decodeCdc 106171/s (0.50), runtime 104519/s (0.49 of plain, 0.99 of plain +
 * decode). The 0.8 target is out of reach while every record goes through JSON.parse (~3.2 us for a 0.6 KB
 * CDC record, ~95% of decoding); the runtime's own machinery now costs almost nothing beyond decoding
 * (decoding overlaps the sink write, commits merge while one is in flight).
 *
 * Lossless LONGs, same machine under heavy shared load (load average above 20 on 2 cores), so the spread is wide:
 * in-process, decodeCdc ran at 0.81 to 0.92 of the JSON.parse path it replaced (three runs, 25 rotating rounds
 * each); a randomly interleaved micro-run put the scan itself at ~1 us of ~21 us per 0.6 KB record (+2.5%).
 * Records that do hold a LONG beyond 2^53 decode at ~0.3 (lossless-json), as every record would without the
 * scan (0.34). Through Kafka (30000 records, 3 rounds) plain + decodeCdc / plain + decode before was 0.83 to
 * 1.10 (per-round medians 0.80 to 0.99): within the noise of the consumer path.
 */
import pino from 'pino';
import { parse as parseLossless, isInteger } from 'lossless-json';
import { CdcRecordSchema, decodeCdc, encodeCdc, type CdcRecord } from '../libs/events/src/index';
import { parseOrThrow } from '../libs/events/src/errors';
import { fastCdc } from '../libs/events/src/fast-decode';
import { longOf } from '../libs/events/src/long';
import { createKafka } from '../libs/kafka/src/index';
import { uniqueTopic } from '../libs/kafka/src/testing';
import { runConsumer, type DecodedRecord, type Sink } from '../libs/stream/src/index';
import { cdcHeartbeat, cdcValue, keyOf } from '../libs/stream/src/spec-helpers';
import { ensureKafka } from '../tools/stack/src/index';

const N = Number(process.env['BENCH_MESSAGES'] ?? 100_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MAX_RECORDS = Number(process.env['BENCH_BATCH_MAX_RECORDS'] ?? 500);
const MAX_WAIT_MS = Number(process.env['BENCH_BATCH_MAX_WAIT_MS'] ?? 50);
const READERS = new Set((process.env['BENCH_READERS'] ?? 'plain,decode,before,runtime').split(','));
const DECODE_RECORDS = Number(process.env['BENCH_DECODE_RECORDS'] ?? 10_000);
const DECODE_ROUNDS = Number(process.env['BENCH_DECODE_ROUNDS'] ?? 25);
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
// BENCH_READERS=none: the decode table only, no Kafka.
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
}

/** The plain consumer: counts messages (optionally decoding each) and commits after each fetch batch. */
async function plain(decode: boolean | ((b: Uint8Array) => unknown)): Promise<Run> {
  const decoder = decode === true ? decodeCdc : decode || undefined;
  const consumer = await kafka.consumer({ groupId: uniqueTopic('bench-plain'), topics: [topic], fromBeginning: true, maxWaitMs: 100 });
  const t0 = performance.now();
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
  await consumer.close();
  await running;
  return { rate: count / ((t1 - t0) / 1000), seconds: (t1 - t0) / 1000 };
}

/** The runtime with a sink that does nothing. */
async function runtime(): Promise<Run> {
  let count = 0;
  let t1 = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const sink: Sink<CdcRecord> = {
    async write(batch: DecodedRecord<CdcRecord>[]) {
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
  });
  const t0 = performance.now();
  await finished;
  await consumer.stop();
  return { rate: N / ((t1 - t0) / 1000), seconds: (t1 - t0) / 1000 };
}

const rows = { plain: [] as Run[], 'plain + decodeCdc': [] as Run[], 'plain + decode before': [] as Run[], runtime: [] as Run[] };
for (let r = 1; r <= ROUNDS; r++) {
  if (READERS.has('plain')) rows.plain.push(await plain(false));
  if (READERS.has('decode')) rows['plain + decodeCdc'].push(await plain(true));
  if (READERS.has('before')) rows['plain + decode before'].push(await plain((b) => decodeBefore(b)));
  if (READERS.has('runtime')) rows.runtime.push(await runtime());
  console.log(
    `round ${r}: ` +
      Object.entries(rows)
        .filter(([, v]) => v.length > 0)
        .map(([k, v]) => `${k} ${Math.round(v.at(-1)!.rate)}/s`)
        .join(', '),
  );
}
await admin.deleteTopics([topic]).catch(() => undefined);
await admin.close();

const median = med;
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v.map((x) => x.rate))])) as Record<keyof typeof rows, number>;
console.log(`\nmedian of ${ROUNDS} rounds, ${N} records, batch ${MAX_RECORDS} records / ${MAX_WAIT_MS} ms:`);
console.log('| reader | records/s | ratio to plain |');
console.log('|---|---:|---:|');
for (const [k, v] of Object.entries(m)) console.log(`| ${k} | ${Math.round(v)} | ${(v / m.plain).toFixed(2)} |`);
// Ratios within each round as well: on a loaded 2-core machine the rounds drift together, the pairs less.
const paired = (a: Run[], b: Run[]) => median(a.map((x, i) => (b[i] ? x.rate / b[i]!.rate : NaN)));
console.log(
  `\nruntime / plain consumer = ${(m.runtime / m.plain).toFixed(2)} (target >= 0.8; median of per-round ratios ${paired(rows.runtime, rows.plain).toFixed(2)}); ` +
    `runtime / (plain + decode) = ${(m.runtime / m['plain + decodeCdc']).toFixed(2)} (per round ${paired(rows.runtime, rows['plain + decodeCdc']).toFixed(2)}); ` +
    `lossless decode / decode before = ${(m['plain + decodeCdc'] / m['plain + decode before']).toFixed(2)} (per round ${paired(rows['plain + decodeCdc'], rows['plain + decode before']).toFixed(2)})`,
);
process.exit(0);
