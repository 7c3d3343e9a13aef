/**
 * The runtime in this process against the real Kafka 4 of tools/stack: dead letters and a sink outage.
 * A fresh topic and group per test.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pino from 'pino';
// The broker for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka } from '@pipeline/stack';
import { createKafka, type Admin, type OutgoingMessage, type Producer } from '@pipeline/kafka';
import { readAll, uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { DLQ_HEADERS, readDeadLetter, StreamConsumer, type StreamConsumerOptions } from '../src/index';
import { cdcHeartbeat, cdcValue, keyOf, walHeartbeat, walValue } from '../src/spec-helpers';
import { MemorySink } from './helpers';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let bootstrap: string;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'stream-int-test' });
  admin = await kafka.admin();
  producer = await kafka.producer();
}, 180_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

function options(topic: string, groupId: string, sink: MemorySink): StreamConsumerOptions<'wal'> {
  return {
    ...common(topic, groupId, sink),
    kind: 'wal',
  };
}

function common(topic: string, groupId: string, sink: MemorySink) {
  return {
    kafka: { brokers: [bootstrap], clientId: 'stream-int-test' },
    groupId,
    topic,
    sink,
    batch: { maxRecords: 10, maxBytes: 1_048_576, maxWaitMs: 20 },
    retry: { baseMs: 50, maxMs: 300 },
    logger,
    http: { port: 0, host: '127.0.0.1' },
    consumer: { sessionTimeoutMs: 6_000, maxWaitMs: 200 },
  };
}

const get = async (port: number | undefined, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, text: await r.text() };
};

describe('stream consumer against the real Kafka', () => {
  it('dead-letters an undecodable record with its error and coordinates, and goes on with the records after it', async () => {
    const topic = uniqueTopic('stream-poison');
    const group = uniqueTopic('g-poison');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    const garbage = Buffer.from([0x7b, 0x22, 0x76, 0xff, 0xfe]); // `{"v` then bytes that are not UTF-8
    const values: (string | Buffer)[] = [walValue(0), walValue(1), garbage, walValue(3, 'v2'), walHeartbeat(4), '{"version":"3","type":"e"}', walValue(6), walValue(7)];
    const messages: OutgoingMessage[] = values.map((value, i) => ({ key: keyOf(i), value, headers: { 'x-trace': `t-${i}` } }));
    await producer.send(topic, messages);

    const sink = new MemorySink();
    const consumer = new StreamConsumer(options(topic, group, sink));
    await consumer.start();
    try {
      await waitUntil('the records after the poison ones', () => sink.items().includes(7));
      expect(sink.items()).toEqual([0, 1, 3, 6, 7]);
      await waitUntil('the commit past every record', async () => (await admin.committedOffsets(group, topic)).get(0) === 8n);

      const dead = await readAll(bootstrap, consumer.dlqTopic, { count: 2 });
      expect(consumer.dlqTopic).toBe(`${group}.dlq`);
      const letters = dead.map((m) => readDeadLetter(m)!);
      expect(letters.map((l) => [l.code, l.stage, l.source.topic, l.source.partition, l.source.offset])).toEqual([
        ['MALFORMED_JSON', 'decode', topic, 0, 2n],
        ['INVALID_RECORD', 'decode', topic, 0, 5n],
      ]);
      expect(Buffer.compare(letters[0]!.value!, garbage)).toBe(0);
      expect(letters[0]!.key!.toString()).toBe(keyOf(2));
      expect(letters[0]!.headers['x-trace']!.toString()).toBe('t-2');
      expect(letters[0]!.message).toMatch(/UTF-8/);
      expect(letters[1]!.message).toMatch(/invalid WAL record/);
      expect(dead[0]!.headers[DLQ_HEADERS.group]!.toString()).toBe(group);

      expect((await get(consumer.httpPort(), '/health/readiness')).status).toBe(200);
      const metrics = (await get(consumer.httpPort(), '/metrics')).text;
      expect(metrics).toContain(`stream_records_in_total{group="${group}",topic="${topic}"} 8`);
      expect(metrics).toContain(`stream_records_out_total{group="${group}",topic="${topic}"} 5`);
      expect(metrics).toContain(`stream_records_skipped_total{group="${group}",topic="${topic}"} 1`);
      expect(metrics).toContain(`stream_records_dlq_total{group="${group}",topic="${topic}",code="MALFORMED_JSON"} 1`);
      expect(metrics).toContain(`stream_consumer_lag{group="${group}",topic="${topic}",partition="0"} 0`);
    } finally {
      await consumer.stop();
    }
    await expect(consumer.done).resolves.toBeUndefined();
  });

  it('a sink outage pauses the stream, commits nothing past what was written, and it resumes by itself', async () => {
    const topic = uniqueTopic('stream-outage');
    const group = uniqueTopic('g-outage');
    await admin.ensureTopics([{ name: topic, partitions: 2 }]);
    const produce = (from: number, to: number) =>
      producer.send(
        topic,
        Array.from({ length: to - from }, (_, i) => ({ key: keyOf(from + i), value: walValue(from + i), partition: (from + i) % 2 })),
      );
    await produce(0, 40);
    const sink = new MemorySink();
    const consumer = new StreamConsumer(options(topic, group, sink));
    await consumer.start();
    try {
      await waitUntil('the first 40 records', () => sink.received.length >= 40);
      await waitUntil('their commit', async () => [...(await admin.committedOffsets(group, topic)).values()].join() === '20,20');

      sink.down = true;
      await produce(40, 100);
      await waitUntil('a few failed writes', () => sink.failedWrites >= 4);
      const ready = await get(consumer.httpPort(), '/health/readiness');
      expect(ready.status).toBe(503);
      expect(ready.text).toMatch(/retrying/);
      expect((await get(consumer.httpPort(), '/health/liveness')).status).toBe(200);
      // Still in the group and paused, not failed: and nothing committed beyond what the sink took.
      expect(consumer.state).toBe('running');
      for (const [partition, committed] of await admin.committedOffsets(group, topic)) {
        const written = sink.offsets(partition);
        for (let o = 0n; o < committed; o++) expect(written.has(o)).toBe(true);
        expect(committed).toBe(20n);
      }

      sink.down = false;
      await waitUntil('every record after the outage', () => new Set(sink.items()).size === 100, 30_000);
      expect([...new Set(sink.items())].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
      await waitUntil('the commit of everything', async () => [...(await admin.committedOffsets(group, topic)).values()].join() === '50,50');
      await waitUntil('ready again', async () => (await get(consumer.httpPort(), '/health/readiness')).status === 200);
      const metrics = (await get(consumer.httpPort(), '/metrics')).text;
      expect(metrics).toMatch(new RegExp(`stream_retries_total\\{group="${group}",topic="${topic}"\\} [1-9]`));
      expect(metrics).toContain(`stream_sink_up{group="${group}",topic="${topic}"} 1`);
    } finally {
      await consumer.stop();
    }
  });

  it('stop() with the sink down gives up after shutdownTimeoutMs: SHUTDOWN_TIMEOUT, nothing unwritten committed (CDC stream)', async () => {
    const topic = uniqueTopic('stream-stop-down');
    const group = uniqueTopic('g-stop-down');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await producer.send(topic, [0, 1, 2].map((n) => ({ key: keyOf(n), value: n === 1 ? cdcHeartbeat(n) : cdcValue(n) })));
    const sink = new MemorySink();
    const consumer = new StreamConsumer({ ...common(topic, group, sink), kind: 'cdc', shutdownTimeoutMs: 1_000 });
    await consumer.start();
    await waitUntil('the CDC records', () => sink.items().join() === '0,2');
    expect(sink.received[0]!.record).toMatchObject({ status: 'CREATED', accumulator: 1 });
    await waitUntil('their commit', async () => (await admin.committedOffsets(group, topic)).get(0) === 3n);

    sink.down = true;
    await producer.send(topic, [3, 4].map((n) => ({ key: keyOf(n), value: cdcValue(n) })));
    await waitUntil('a failed write', () => sink.failedWrites >= 1);
    const started = Date.now();
    await expect(consumer.stop()).rejects.toMatchObject({ code: 'SHUTDOWN_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(15_000);
    await expect(consumer.done).rejects.toMatchObject({ code: 'SHUTDOWN_TIMEOUT' });
    expect(consumer.state).toBe('failed');
    expect((await admin.committedOffsets(group, topic)).get(0)).toBe(3n);
  });

  it('with retry.maxAttempts, a sink that stays down stops the consumer (RETRIES_EXHAUSTED) without committing', async () => {
    const topic = uniqueTopic('stream-exhausted');
    const group = uniqueTopic('g-exhausted');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await producer.send(topic, [0, 1].map((n) => ({ key: keyOf(n), value: walValue(n) })));
    const sink = new MemorySink();
    sink.down = true;
    const consumer = new StreamConsumer({ ...options(topic, group, sink), retry: { baseMs: 10, maxMs: 50, maxAttempts: 3 } });
    await consumer.start();
    await expect(consumer.done).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED' });
    expect(sink.failedWrites).toBe(3);
    expect(consumer.state).toBe('failed');
    expect(consumer.health()).toMatchObject({ live: false, ready: false });
    expect((await admin.committedOffsets(group, topic)).get(0)).toBeUndefined();
    await expect(consumer.stop()).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED' });
  });

  it('a second member joining mid-stream takes over partitions: every record delivered, everything committed', async () => {
    const topic = uniqueTopic('stream-rebalance');
    const group = uniqueTopic('g-rebalance');
    await admin.ensureTopics([{ name: topic, partitions: 4 }]);
    const produce = (from: number, to: number) =>
      producer.send(topic, Array.from({ length: to - from }, (_, i) => ({ key: keyOf(from + i), value: walValue(from + i), partition: (from + i) % 4 })));
    const a = new MemorySink();
    const b = new MemorySink();
    const first = new StreamConsumer({ ...options(topic, group, a), http: undefined });
    await first.start();
    const second = new StreamConsumer({ ...options(topic, group, b), http: undefined });
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
  });
});
