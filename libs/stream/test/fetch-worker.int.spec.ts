/**
 * The runtime with its Kafka consumer on a worker thread (fetchWorker), against the real Kafka of tools/stack:
 * the same guarantees as in-thread, through the thread boundary (messages, headers, dead letters, commits,
 * a rebalance between two members, stop).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pino from 'pino';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka } from '@pipeline/stack';
import { createKafka, type Admin, type OutgoingMessage, type Producer } from '@pipeline/kafka';
import { readAll, uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { readDeadLetter, StreamConsumer, type StreamConsumerOptions } from '../src/index';
import { fetchWorkerAvailable } from '../src/worker-consumer';
import { keyOf, walHeartbeat, walValue } from '../src/spec-helpers';
import { MemorySink } from './helpers';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let bootstrap: string;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'stream-worker-int-test' });
  admin = await kafka.admin();
  producer = await kafka.producer();
}, 180_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

function options(topic: string, groupId: string, sink: MemorySink): StreamConsumerOptions<'wal'> {
  return {
    kafka: { brokers: [bootstrap], clientId: 'stream-worker-int-test' },
    groupId,
    topic,
    kind: 'wal',
    sink,
    batch: { maxRecords: 10, maxBytes: 1_048_576, maxWaitMs: 20 },
    retry: { baseMs: 50, maxMs: 300 },
    logger,
    consumer: { sessionTimeoutMs: 6_000, maxWaitMs: 200 },
    fetchWorker: true,
  };
}

describe('stream consumer with the fetch worker against the real Kafka', () => {
  it('is available from the sources', () => {
    expect(fetchWorkerAvailable()).toBe(true);
  });

  it('delivers keys, values and headers, dead-letters the undecodable, commits past everything', async () => {
    const topic = uniqueTopic('stream-worker');
    const group = uniqueTopic('g-worker');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    const garbage = Buffer.from([0x7b, 0x22, 0x76, 0xff, 0xfe]);
    const values: (string | Buffer)[] = [walValue(0), walValue(1), garbage, walValue(3, 'v2'), walHeartbeat(4), walValue(5)];
    const messages: OutgoingMessage[] = values.map((value, i) => ({ key: keyOf(i), value, headers: { 'x-trace': `t-${i}` } }));
    await producer.send(topic, messages);
    await producer.send(topic, [{ key: null, value: walValue(6) }]);

    const sink = new MemorySink();
    const consumer = new StreamConsumer(options(topic, group, sink));
    await consumer.start();
    try {
      await waitUntil('every record', () => sink.items().includes(6));
      expect(sink.items()).toEqual([0, 1, 3, 5, 6]);
      const got = sink.received.map((r) => [r.offset, r.key, r.headers['x-trace']?.toString() ?? null]);
      expect(got).toEqual([
        [0n, keyOf(0), 't-0'],
        [1n, keyOf(1), 't-1'],
        [3n, keyOf(3), 't-3'],
        [5n, keyOf(5), 't-5'],
        [6n, null, null],
      ]);
      expect(Buffer.compare(sink.received[0]!.value, Buffer.from(walValue(0)))).toBe(0);
      await waitUntil('the commit past every record', async () => (await admin.committedOffsets(group, topic)).get(0) === 7n);
      const [dead] = await readAll(bootstrap, consumer.dlqTopic, { count: 1 });
      const letter = readDeadLetter(dead!)!;
      expect([letter.code, letter.source.offset, letter.headers['x-trace']!.toString()]).toEqual(['MALFORMED_JSON', 2n, 't-2']);
      expect(Buffer.compare(letter.value!, garbage)).toBe(0);
    } finally {
      await consumer.stop();
    }
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('a second member joining mid-stream takes over partitions: every record delivered, everything committed', async () => {
    const topic = uniqueTopic('stream-worker-rebalance');
    const group = uniqueTopic('g-worker-rebalance');
    await admin.ensureTopics([{ name: topic, partitions: 4 }]);
    const produce = (from: number, to: number) =>
      producer.send(topic, Array.from({ length: to - from }, (_, i) => ({ key: keyOf(from + i), value: walValue(from + i), partition: (from + i) % 4 })));
    const a = new MemorySink();
    const b = new MemorySink();
    const first = new StreamConsumer(options(topic, group, a));
    await first.start();
    const second = new StreamConsumer(options(topic, group, b));
    try {
      await produce(0, 200);
      await waitUntil('the first member at work', () => a.received.length > 0);
      await second.start();
      await produce(200, 400);
      await waitUntil('both members at work', () => b.received.length > 0, 30_000);
      await waitUntil('every record', () => new Set([...a.items(), ...b.items()]).size === 400, 30_000);
      await waitUntil('everything committed', async () => {
        const [committed, end] = await Promise.all([admin.committedOffsets(group, topic), admin.endOffsets(topic)]);
        return [...end].every(([p, o]) => committed.get(p) === o);
      });
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    await expect(first.done).resolves.toBeUndefined();
    await expect(second.done).resolves.toBeUndefined();
  });
});
