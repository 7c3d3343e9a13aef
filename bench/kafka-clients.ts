/**
 * kafkajs@2.2.4 vs @platformatic/kafka@1.35.0 (and this repo's @pipeline/kafka wrapper) against the real
 * Kafka 4 that tools/stack runs. First correctness checks (the features the pipeline needs), then
 * throughput (produce and consume, ~1 KB JSON values in batches). Prints tables and ratios.
 *
 *   npx tsx bench/kafka-clients.ts
 *
 * Env: BENCH_MESSAGES (default 100000), BENCH_BATCH (1000), BENCH_PARTITIONS (6), BENCH_ROUNDS (2),
 *      BENCH_SKIP_CHECKS=1 / BENCH_SKIP_THROUGHPUT=1, KAFKA_PORT (the stack's port).
 * Results of a run on the project machine are in docs/kafka-client.md.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka as KafkaJS, logLevel, Partitioners, type Consumer as KjsConsumer } from 'kafkajs';
import {
  Admin as PltAdmin,
  Consumer as PltConsumer,
  Producer as PltProducer,
  type MessagesStream,
} from '@platformatic/kafka';
import { createKafka, partitionForKey, positiveKeyHash, type Consumer as PipelineConsumer } from '@pipeline/kafka';
import { ensureKafka } from '@pipeline/stack';
import { emitResult, pairedRatios, printLoad, spread } from './lib/report';

const N = Number(process.env['BENCH_MESSAGES'] ?? 100_000);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 1_000);
const PARTITIONS = Number(process.env['BENCH_PARTITIONS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

async function waitFor(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<number> {
  const t0 = now();
  while (!cond()) {
    if (now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
  return now() - t0;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 1;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

// ---------------------------------------------------------------------------------------------------
// The drivers: one small adapter per client, same operations.

interface Msg {
  key: string;
  value: Buffer;
  partition?: number;
}
interface Received {
  partition: number;
  offset: bigint;
  key: string;
}
interface Member {
  received: Received[];
  assignment(): number[];
  /** Per-partition pause where the client has it; else the whole member. */
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  perPartitionPause: boolean;
  close(): Promise<void>;
}
interface Driver {
  name: string;
  createTopic(name: string, partitions: number, retentionMs: number): Promise<void>;
  topicInfo(name: string): Promise<{ partitions: number; retentionMs: string | undefined }>;
  producer(brokers?: string[], tuned?: boolean, libraryPartitioner?: boolean): Promise<{ send(topic: string, msgs: Msg[]): Promise<void>; close(): Promise<void> }>;
  /** A member with the Kafka 4 consumer group protocol (KIP-848), where the client has it. */
  kip848Member?(groupId: string, topic: string): Promise<Member>;
  member(groupId: string, topic: string): Promise<Member>;
  committed(groupId: string, topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

function kafkajsDriver(bootstrap: string): Driver {
  const kafka = new KafkaJS({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let adminReady: Promise<void> | undefined;
  const a = async () => {
    adminReady ??= admin.connect();
    await adminReady;
    return admin;
  };
  return {
    name: 'kafkajs@2.2.4',
    async createTopic(name, partitions, retentionMs) {
      await (await a()).createTopics({
        waitForLeaders: true,
        topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: String(retentionMs) }] }],
      });
    },
    async topicInfo(name) {
      const ad = await a();
      const md = await ad.fetchTopicMetadata({ topics: [name] });
      const cfg = await ad.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name, configNames: ['retention.ms'] }] });
      return {
        partitions: md.topics[0]?.partitions.length ?? 0,
        retentionMs: cfg.resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue,
      };
    },
    async producer(brokers = [bootstrap], tuned = true) {
      // kafkajs 2.x's default partitioner is the Java-compatible one; naming it only silences its warning.
      const k = new KafkaJS({
        clientId: 'bench-kafkajs-producer',
        brokers,
        logLevel: logLevel.NOTHING,
        ...(tuned ? { connectionTimeout: 3_000, requestTimeout: 5_000, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } } : {}),
      });
      const p = k.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      return {
        async send(topic, msgs) {
          await p.send({ topic, acks: -1, messages: msgs.map((m) => ({ key: m.key, value: m.value, ...(m.partition !== undefined ? { partition: m.partition } : {}) })) });
        },
        close: () => p.disconnect(),
      };
    },
    async member(groupId, topic) {
      const c: KjsConsumer = kafka.consumer({ groupId, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 250 });
      const received: Received[] = [];
      let assignment: number[] = [];
      c.on(c.events.GROUP_JOIN, (e) => {
        assignment = [...(e.payload.memberAssignment[topic] ?? [])].sort();
      });
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) received.push({ partition: batch.partition, offset: BigInt(m.offset), key: m.key?.toString() ?? '' });
          if (batch.messages.length) {
            await c.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
          }
        },
      });
      return {
        received,
        assignment: () => assignment,
        perPartitionPause: true,
        pause: (partitions) => c.pause([{ topic, partitions }]),
        resume: (partitions) => c.resume([{ topic, partitions }]),
        close: () => c.disconnect(),
      };
    },
    async committed(groupId, topic) {
      const res = await (await a()).fetchOffsets({ groupId, topics: [topic] });
      const out = new Map<number, bigint>();
      for (const p of res[0]?.partitions ?? []) if (Number(p.offset) >= 0) out.set(p.partition, BigInt(p.offset));
      return out;
    },
    close: async () => {
      if (adminReady) await admin.disconnect();
    },
  };
}

function platformaticDriver(bootstrap: string): Driver {
  const admin = new PltAdmin({ clientId: 'bench-plt-admin', bootstrapBrokers: [bootstrap] });
  return {
    name: '@platformatic/kafka@1.35.0',
    async createTopic(name, partitions, retentionMs) {
      await admin.createTopics({ topics: [name], partitions, replicas: 1, configs: [{ name: 'retention.ms', value: String(retentionMs) }] });
    },
    async topicInfo(name) {
      const md = await admin.metadata({ topics: [name] });
      const cfg = await admin.describeConfigs({ resources: [{ resourceType: 2, resourceName: name, configurationKeys: ['retention.ms'] }] });
      return {
        partitions: md.topics.get(name)?.partitionsCount ?? 0,
        retentionMs: cfg[0]?.configs.find((c) => c.name === 'retention.ms')?.value ?? undefined,
      };
    },
    async producer(brokers = [bootstrap], tuned = true, libraryPartitioner = false) {
      const p = new PltProducer({
        clientId: 'bench-plt-producer',
        bootstrapBrokers: brokers,
        idempotent: true,
        // The library's default partitioner (murmur2 >>> 0) is not the Java one; this is.
        ...(libraryPartitioner ? {} : { partitioner: (_m: unknown, key: Buffer | undefined) => (key ? positiveKeyHash(key) : 0) }),
        ...(tuned ? { connectTimeout: 3_000, timeout: 5_000, retries: 2, retryDelay: 250 } : {}),
      });
      return {
        async send(topic, msgs) {
          await p.send({ messages: msgs.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value, ...(m.partition !== undefined ? { partition: m.partition } : {}) })) });
        },
        close: () => p.close(),
      };
    },
    async member(groupId, topic) {
      const c = new PltConsumer({
        clientId: 'bench-plt-consumer',
        bootstrapBrokers: [bootstrap],
        groupId,
        sessionTimeout: 10_000,
        rebalanceTimeout: 10_000,
        heartbeatInterval: 500,
        maxWaitTime: 250,
        autocommit: false,
      });
      const received: Received[] = [];
      let assignment: number[] = [];
      c.on('consumer:group:join', (p) => {
        assignment = [...(p.assignments?.find((x) => x.topic === topic)?.partitions ?? [])].sort();
      });
      const stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> = await c.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      const toCommit = new Map<number, bigint>();
      stream.on('data', (m) => {
        received.push({ partition: m.partition, offset: m.offset, key: m.key?.toString() ?? '' });
        toCommit.set(m.partition, m.offset + 1n);
      });
      stream.on('error', () => undefined);
      let closed = false;
      const committer = (async () => {
        while (!closed) {
          await sleep(50);
          if (!toCommit.size) continue;
          const offsets = [...toCommit].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 }));
          toCommit.clear();
          await c.commit({ offsets }).catch(() => undefined);
        }
      })();
      return {
        received,
        assignment: () => assignment,
        perPartitionPause: false,
        pause: () => stream.pause(),
        resume: () => stream.resume(),
        async close() {
          closed = true;
          await committer;
          await stream.close();
          await c.close();
        },
      };
    },
    async kip848Member(groupId, topic) {
      const c = new PltConsumer({
        clientId: 'bench-plt-kip848',
        bootstrapBrokers: [bootstrap],
        groupId,
        groupProtocol: 'consumer',
        maxWaitTime: 250,
        autocommit: false,
      });
      const received: Received[] = [];
      let assignment: number[] = [];
      c.on('consumer:group:join', (p) => {
        assignment = [...(p.assignments?.find((x) => x.topic === topic)?.partitions ?? [])].sort();
      });
      const stream = await c.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      stream.on('data', (m) => {
        received.push({ partition: m.partition, offset: m.offset, key: m.key?.toString() ?? '' });
        void m.commit();
      });
      stream.on('error', () => undefined);
      return {
        received,
        assignment: () => assignment,
        perPartitionPause: false,
        pause: () => stream.pause(),
        resume: () => stream.resume(),
        async close() {
          await stream.close();
          await c.close();
        },
      };
    },
    async committed(groupId, topic) {
      const res = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const out = new Map<number, bigint>();
      for (const t of res[0]?.topics ?? []) {
        if (t.name !== topic) continue;
        for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset);
      }
      return out;
    },
    close: () => admin.close(),
  };
}

// ---------------------------------------------------------------------------------------------------
// Correctness checks

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

async function runChecks(d: Driver): Promise<Check[]> {
  const results: Check[] = [];
  const topic = `bench-check-${d.name.replace(/[^a-z]/gi, '')}-${randomUUID().slice(0, 8)}`;
  const group = `${topic}-g`;
  const step = async (check: string, fn: () => Promise<string>) => {
    const t0 = now();
    try {
      const detail = await fn();
      results.push({ check, ok: true, detail: `${detail} (${Math.round(now() - t0)} ms)` });
    } catch (err) {
      results.push({ check, ok: false, detail: (err as Error).message.split('\n')[0]!.slice(0, 160) });
    }
  };
  const keyed = (n: number, prefix: string): Msg[] => Array.from({ length: n }, (_, i) => ({ key: `${prefix}-${i}`, value: Buffer.from(JSON.stringify({ i, prefix })) }));

  await step('createTopics: 3 partitions + retention.ms', async () => {
    await d.createTopic(topic, 3, 3_600_000);
    const info = await d.topicInfo(topic);
    if (info.partitions !== 3 || info.retentionMs !== '3600000') throw new Error(`got ${JSON.stringify(info)}`);
    return `partitions=3 retention.ms=${info.retentionMs}`;
  });
  const producer = await d.producer();
  await step('idempotent producer, acks=all: 300 keyed records', async () => {
    await producer.send(topic, keyed(300, 'a'));
    return 'acknowledged';
  });
  let m1: Member | undefined;
  await step('consumer group join + manual commit after each batch', async () => {
    m1 = await d.member(group, topic);
    await waitFor('300 records', () => m1!.received.length >= 300);
    await sleep(300);
    const committed = await d.committed(group, topic);
    const sum = [...committed.values()].reduce((s, o) => s + o, 0n);
    if (sum !== 300n) throw new Error(`committed offsets sum to ${sum}, not 300: ${JSON.stringify([...committed].map(([p, o]) => [p, String(o)]))}`);
    return `read 300, committed offsets per partition ${[...committed].map(([p, o]) => `${p}:${o}`).join(' ')}`;
  });
  await step('keys land where the Java partitioner puts them', async () => {
    const wrong = m1!.received.filter((r) => r.key.startsWith('a-') && r.partition !== partitionForKey(r.key, 3));
    if (wrong.length) throw new Error(`${wrong.length}/300 keys in another partition than Java's (e.g. ${wrong[0]!.key} in ${wrong[0]!.partition})`);
    return '300/300 match';
  });
  await step("the library's default partitioner vs Java's", async () => {
    const t2 = `${topic}-defpart`;
    await d.createTopic(t2, 3, 3_600_000);
    const p = await d.producer(undefined, true, true);
    await p.send(t2, keyed(300, 'p'));
    await p.close();
    const m = await d.member(`${t2}-g`, t2);
    try {
      await waitFor('300 records', () => m.received.length >= 300);
      const same = m.received.filter((r) => r.partition === partitionForKey(r.key, 3)).length;
      return `${same}/300 keys where Java puts them${same === 300 ? '' : ' (NOT Java-compatible: needs a custom partitioner)'}`;
    } finally {
      await m.close();
    }
  });
  await step('Kafka 4 consumer group protocol (KIP-848, group.protocol=consumer)', async () => {
    if (!d.kip848Member) throw new Error('not in the API (classic protocol only)');
    const m = await d.kip848Member(`${group}-kip848`, topic);
    try {
      await waitFor('300 records', () => m.received.length >= 300);
      // Per-message commits (message.commit()); give them up to 5 s to land.
      let sum = 0n;
      const t0 = now();
      while (now() - t0 < 5_000) {
        sum = [...(await d.committed(`${group}-kip848`, topic)).values()].reduce((a, b) => a + b, 0n);
        if (sum === 300n) break;
        await sleep(200);
      }
      if (sum !== 300n) throw new Error(`read ${m.received.length}, but committed offsets sum to ${sum}, not 300`);
      return `joined, read ${m.received.length}, committed offsets sum to 300`;
    } finally {
      await m.close();
    }
  });
  await step('resume from the committed offset after close/reopen', async () => {
    await m1!.close();
    m1 = undefined;
    await producer.send(topic, keyed(50, 'b'));
    const m = await d.member(group, topic);
    try {
      await waitFor('50 new records', () => m.received.length >= 50);
      await sleep(500);
      const old = m.received.filter((r) => r.key.startsWith('a-')).length;
      if (old || m.received.length !== 50) throw new Error(`re-read ${old} old records, got ${m.received.length}`);
      return 'read exactly the 50 new records';
    } finally {
      await m.close();
    }
  });
  await step('two members of one group rebalance (join, then leave)', async () => {
    const A = await d.member(group, topic);
    await waitFor('A owns 3 partitions', () => A.assignment().length === 3);
    const t0 = now();
    const B = await d.member(group, topic);
    try {
      await waitFor('A and B share the 3 partitions', () => {
        const a = A.assignment();
        const b = B.assignment();
        return a.length > 0 && b.length > 0 && new Set([...a, ...b]).size === 3 && a.length + b.length === 3;
      });
      const split = `A=${A.assignment().join(',')} B=${B.assignment().join(',')} after ${Math.round(now() - t0)} ms`;
      const msgs = Array.from({ length: 90 }, (_, i) => ({ key: `c-${i}`, value: Buffer.from('{}'), partition: i % 3 }));
      await producer.send(topic, msgs);
      await waitFor('90 records across both', () => new Set([...A.received, ...B.received].filter((r) => r.key.startsWith('c-')).map((r) => r.key)).size === 90);
      const t1 = now();
      await B.close();
      await waitFor('A owns 3 partitions again', () => A.assignment().length === 3);
      return `${split}; 90/90 read; after B left A owns 3 in ${Math.round(now() - t1)} ms`;
    } finally {
      await A.close();
    }
  });
  await step('pause/resume', async () => {
    const M = await d.member(group, topic);
    try {
      await waitFor('assignment', () => M.assignment().length === 3);
      await sleep(300);
      M.pause([0]);
      const before = M.received.length;
      await producer.send(topic, Array.from({ length: 30 }, (_, i) => ({ key: `d-${i}`, value: Buffer.from('{}'), partition: i % 3 })));
      await sleep(1_500);
      const during = M.received.slice(before);
      const fromPaused = during.filter((r) => r.partition === 0).length;
      if (fromPaused) throw new Error(`${fromPaused} records of the paused partition arrived`);
      if (M.perPartitionPause && during.length !== 20) throw new Error(`expected the 20 records of partitions 1,2 while 0 is paused, got ${during.length}`);
      M.resume([0]);
      await waitFor('all 30 after resume', () => M.received.slice(before).length >= 30);
      return M.perPartitionPause
        ? 'partition 0 paused: 20 of 1,2 arrived, 0 of 0; after resume all 30'
        : 'no per-partition pause in the API: stream.pause() stops all; after resume all 30';
    } finally {
      await M.close();
    }
  });
  await producer.close();

  const deadPort = await closedPort();
  for (const tuned of [true, false]) {
    await step(`send to a closed port fails (${tuned ? 'tuned timeouts/retries' : 'library defaults'})`, async () => {
      const t0 = now();
      let p: Awaited<ReturnType<Driver['producer']>> | undefined;
      const attempt = (async () => {
        p = await d.producer([`127.0.0.1:${deadPort}`], tuned);
        await p.send(topic, keyed(1, 'x'));
      })();
      const outcome = await Promise.race([
        attempt.then(
          () => 'sent?!',
          (e: Error) => `failed after ${Math.round(now() - t0)} ms: ${(e.message || e.name).split('\n')[0]!.slice(0, 80)}`,
        ),
        sleep(30_000).then(() => 'no answer within 30 s (still retrying)'),
      ]);
      void p?.close().catch(() => undefined);
      if (!outcome.startsWith('failed')) throw new Error(outcome);
      return outcome;
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------
// Throughput

/** ~1 KB JSON values, deterministic so every client sends the same bytes. */
function makeValues(n: number): Buffer[] {
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const word = () => Math.floor(rnd() * 36 ** 8).toString(36).padStart(8, '0');
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const props: Record<string, string> = {};
    for (let j = 0; j < 40; j++) props[`p${j}`] = `${word()}${word()}`;
    const v = { type: 'EDGE', op: 'INSERT', version: 1_700_000_000_000 + i, source: `user:${i % 5000}`, target: `item:${Math.floor(rnd() * 1e6)}`, props };
    out.push(Buffer.from(JSON.stringify(v)));
  }
  return out;
}

interface Row {
  client: string;
  phase: 'produce' | 'consume';
  round: number;
  msgs: number;
  ms: number;
  joinMs?: number;
  /** CPU time (user + system) of this process, i.e. of the client, during the phase. */
  cpuUs: number;
}

type ProduceFn = (topic: string, values: Buffer[]) => Promise<void>;
type ConsumeFn = (topic: string, count: number) => Promise<{ ms: number; joinMs: number }>;

interface Contender {
  name: string;
  produce: ProduceFn;
  consume: ConsumeFn;
}

function batches(values: Buffer[]): Msg[][] {
  const out: Msg[][] = [];
  for (let i = 0; i < values.length; i += BATCH) out.push(values.slice(i, i + BATCH).map((value, j) => ({ key: `edge:${(i + j) % 5000}`, value })));
  return out;
}

function kafkajsContender(bootstrap: string): Contender {
  const kafka = new KafkaJS({ clientId: 'bench-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  return {
    name: 'kafkajs',
    async produce(topic, values) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await p.connect();
      for (const b of batches(values)) await p.send({ topic, acks: -1, messages: b });
      await p.disconnect();
    },
    async consume(topic, count) {
      const t0 = now();
      let joinMs = 0;
      let n = 0;
      const c = kafka.consumer({ groupId: `${topic}-kjs-${randomUUID().slice(0, 6)}`, maxWaitTimeInMs: 250, maxBytesPerPartition: 1_048_576 });
      c.on(c.events.GROUP_JOIN, () => (joinMs ||= now() - t0));
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          n += batch.messages.length;
          for (const m of batch.messages) if (!m.value) throw new Error('empty');
          await c.commitOffsets([{ topic, partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }]);
        },
      });
      await waitFor(`${count} consumed`, () => n >= count, 300_000);
      const ms = now() - t0;
      await c.disconnect();
      return { ms, joinMs };
    },
  };
}

function platformaticContender(bootstrap: string): Contender {
  return {
    name: 'platformatic',
    async produce(topic, values) {
      const p = new PltProducer({
        clientId: 'bench-plt',
        bootstrapBrokers: [bootstrap],
        idempotent: true,
        partitioner: (_m, key) => (key ? positiveKeyHash(key) : 0),
      });
      for (const b of batches(values)) await p.send({ messages: b.map((m) => ({ topic, key: Buffer.from(m.key), value: m.value })) });
      await p.close();
    },
    async consume(topic, count) {
      const t0 = now();
      let joinMs = 0;
      let n = 0;
      const c = new PltConsumer({
        clientId: 'bench-plt',
        bootstrapBrokers: [bootstrap],
        groupId: `${topic}-plt-${randomUUID().slice(0, 6)}`,
        maxWaitTime: 250,
        maxBytesPerPartition: 1_048_576,
        autocommit: false,
      });
      c.on('consumer:group:join', () => (joinMs ||= now() - t0));
      const stream = await c.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
      const toCommit = new Map<number, bigint>();
      let done = false;
      stream.on('data', (m) => {
        n++;
        if (!m.value) throw new Error('empty');
        toCommit.set(m.partition, m.offset + 1n);
      });
      // Manual commits, like the pipeline: once per fetched batch (~every 50 ms), not per message.
      const committer = (async () => {
        while (!done) {
          await sleep(50);
          if (!toCommit.size) continue;
          const offsets = [...toCommit].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 }));
          toCommit.clear();
          await c.commit({ offsets });
        }
      })();
      await waitFor(`${count} consumed`, () => n >= count, 300_000);
      const ms = now() - t0;
      done = true;
      await committer;
      await stream.close();
      await c.close();
      return { ms, joinMs };
    },
  };
}

function pipelineContender(bootstrap: string): Contender {
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'bench-pipeline' });
  return {
    name: '@pipeline/kafka',
    async produce(topic, values) {
      const p = await kafka.producer();
      for (const b of batches(values)) await p.send(topic, b);
      await p.close();
    },
    async consume(topic, count) {
      const t0 = now();
      let n = 0;
      const c: PipelineConsumer = await kafka.consumer({ groupId: `${topic}-pipe-${randomUUID().slice(0, 6)}`, topics: [topic], fromBeginning: true, maxBytesPerPartition: 1_048_576 });
      const joinMs = now() - t0;
      const running = c.run(async (batch) => {
        n += batch.messages.length;
        const last = batch.messages[batch.messages.length - 1];
        if (last) await c.commit([{ topic, partition: batch.partition, offset: last.offset + 1n }]);
      });
      await waitFor(`${count} consumed`, () => n >= count, 300_000);
      const ms = now() - t0;
      await c.close();
      await running;
      return { ms, joinMs };
    },
  };
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main() {
  const loadBefore = printLoad('before');
  const t0 = now();
  const { bootstrap } = await ensureKafka({ onProgress: (m) => console.log(`kafka: ${m}`) });
  console.log(`broker ${bootstrap} (ready after ${Math.round(now() - t0)} ms); node ${process.version}\n`);

  if (process.env['BENCH_SKIP_CHECKS'] !== '1') {
    for (const make of [kafkajsDriver, platformaticDriver]) {
      const d = make(bootstrap);
      console.log(`== correctness: ${d.name}`);
      const results = await runChecks(d);
      await d.close();
      console.log(table(['check', 'ok', 'detail'], results.map((r) => [r.check, r.ok ? 'yes' : 'NO', r.detail])) + '\n');
    }
  }
  if (process.env['BENCH_SKIP_THROUGHPUT'] === '1') return;

  const admin = new PltAdmin({ clientId: 'bench-admin', bootstrapBrokers: [bootstrap] });
  const values = makeValues(N);
  const avg = values.reduce((s, v) => s + v.length, 0) / values.length;
  console.log(`== throughput: ${fmt(N)} messages of ~${Math.round(avg)} B JSON, batches of ${BATCH}, ${PARTITIONS} partitions, ${ROUNDS} rounds; idempotent acks=all, one send in flight; consume = new group from earliest with a manual commit per batch (time includes the group join)`);
  const contenders = [kafkajsContender(bootstrap), platformaticContender(bootstrap), pipelineContender(bootstrap)];
  const rows: Row[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const topic = `bench-tp-${c.name.replace(/[^a-z]/gi, '')}-${randomUUID().slice(0, 8)}`;
      await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
      await sleep(300);
      const t = now();
      let cpu = process.cpuUsage();
      await c.produce(topic, values);
      const produced = process.cpuUsage(cpu);
      rows.push({ client: c.name, phase: 'produce', round, msgs: N, ms: now() - t, cpuUs: produced.user + produced.system });
      cpu = process.cpuUsage();
      const { ms, joinMs } = await c.consume(topic, N);
      const consumed = process.cpuUsage(cpu);
      rows.push({ client: c.name, phase: 'consume', round, msgs: N, ms, joinMs, cpuUs: consumed.user + consumed.system });
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      console.log(`  round ${round} ${c.name}: produce ${fmt((N / rows.at(-2)!.ms) * 1000)} msg/s (${(rows.at(-2)!.cpuUs / N).toFixed(1)} µs CPU/msg), consume ${fmt((N / ms) * 1000)} msg/s (${(rows.at(-1)!.cpuUs / N).toFixed(1)} µs CPU/msg)`);
    }
  }
  await admin.close();

  const best = (client: string, phase: Row['phase']) => Math.max(...rows.filter((r) => r.client === client && r.phase === phase).map((r) => (r.msgs / r.ms) * 1000));
  const median = (client: string, phase: Row['phase']) => {
    const xs = rows.filter((r) => r.client === client && r.phase === phase).map((r) => (r.msgs / r.ms) * 1000).sort((a, b) => a - b);
    return xs[Math.floor((xs.length - 1) / 2)]!;
  };
  console.log(
    '\n' +
      table(
        ['client', 'produce msg/s (best)', 'produce MB/s', 'consume msg/s (best)', 'consume MB/s', 'produce median', 'consume median'],
        contenders.map((c) => [
          c.name,
          fmt(best(c.name, 'produce')),
          ((best(c.name, 'produce') * avg) / 1e6).toFixed(1),
          fmt(best(c.name, 'consume')),
          ((best(c.name, 'consume') * avg) / 1e6).toFixed(1),
          fmt(median(c.name, 'produce')),
          fmt(median(c.name, 'consume')),
        ]),
      ),
  );
  const cpuPerMsg = (client: string, phase: Row['phase']) => {
    const xs = rows.filter((r) => r.client === client && r.phase === phase).map((r) => r.cpuUs / r.msgs).sort((a, b) => a - b);
    return xs[Math.floor((xs.length - 1) / 2)]!;
  };
  console.log(
    '\nclient CPU per message (median; user+system of the bench process, independent of broker load):\n' +
      table(
        ['client', 'produce µs/msg', 'consume µs/msg', 'produce: kafkajs ÷ this', 'consume: kafkajs ÷ this'],
        contenders.map((c) => [
          c.name,
          cpuPerMsg(c.name, 'produce').toFixed(1),
          cpuPerMsg(c.name, 'consume').toFixed(1),
          `${(cpuPerMsg('kafkajs', 'produce') / cpuPerMsg(c.name, 'produce')).toFixed(2)}x`,
          `${(cpuPerMsg('kafkajs', 'consume') / cpuPerMsg(c.name, 'consume')).toFixed(2)}x`,
        ]),
      ),
  );
  const base = 'kafkajs';
  console.log(
    '\nratios (msg/s relative to kafkajs):\n' +
      table(
        ['client', 'produce (best)', 'consume (best)', 'produce (median)', 'consume (median)'],
        contenders.map((c) => [
          c.name,
          `${(best(c.name, 'produce') / best(base, 'produce')).toFixed(2)}x`,
          `${(best(c.name, 'consume') / best(base, 'consume')).toFixed(2)}x`,
          `${(median(c.name, 'produce') / median(base, 'produce')).toFixed(2)}x`,
          `${(median(c.name, 'consume') / median(base, 'consume')).toFixed(2)}x`,
        ]),
      ),
  );
  const ratesOf = (client: string, phase: Row['phase']) => rows.filter((r) => r.client === client && r.phase === phase).sort((a, b) => a.round - b.round).map((r) => (r.msgs / r.ms) * 1000);
  emitResult({
    bench: 'kafka-clients',
    rounds: ROUNDS,
    params: { messages: N, batch: BATCH, partitions: PARTITIONS, valueBytes: Math.round(avg) },
    load: { before: loadBefore, after: printLoad('after') },
    rows: (['produce', 'consume'] as const).flatMap((phase) =>
      contenders.map((c) => ({
        name: `${c.name}, ${phase}`,
        unit: 'msg/s',
        value: spread(ratesOf(c.name, phase)),
        ...(c.name !== base && { ratio: spread(pairedRatios(ratesOf(c.name, phase), ratesOf(base, phase))), baseline: `${base}, ${phase}` }),
      })),
    ),
  });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
