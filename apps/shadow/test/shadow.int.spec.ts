/**
 * shadow against the real Kafka of tools/stack, on a fresh topic and group per test: WAL records produced
 * to the topic reach the sink through @pipeline/stream (in this process, then through main.ts as its own
 * process). Replace the assertions on the stub with what the real sink's target shows.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { WalRecord } from '@pipeline/events';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { ensureKafka } from '@pipeline/stack';
import { runConsumer, streamOptionsFromEnv, type DecodedRecord } from '@pipeline/stream';
import { freePort } from '@pipeline/testing';
import { loadConfig } from '../src/config';
import { ShadowSink } from '../src/shadow.sink';
import { encode, eventIdOf, heartbeat, keyOf, record } from '../src/spec-helpers';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const N = 40;
const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

let bootstrap: string;
let admin: Admin;
let producer: Producer;
const topics: string[] = [];

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'shadow-int-test' });
  admin = await kafka.admin();
  producer = await kafka.producer();
}, 180_000);

afterAll(async () => {
  await admin?.deleteTopics(topics).catch(() => undefined);
  await producer?.close();
  await admin?.close();
});

/** A fresh topic with N data records over 3 partitions (keyed like the core's) and a heartbeat in between. */
async function freshTopicWithRecords(): Promise<{ topic: string; group: string; ids: string[] }> {
  const topic = uniqueTopic('shadow');
  const group = uniqueTopic('shadow-g');
  topics.push(topic, `${group}.dlq`);
  await admin.ensureTopics([{ name: topic, partitions: 3 }]);
  const items = Array.from({ length: N }, (_, n) => n);
  const messages = items.map((n) => ({ key: keyOf(n), value: encode(record(n)) }));
  messages.splice(N / 2, 0, { key: 'sys:heartbeat', value: heartbeat(N) });
  await producer.send(topic, messages);
  return { topic, group, ids: items.map((n) => eventIdOf(record(n))) };
}

/** The generated sink, recording what the runtime handed it. */
class RecordingSink extends ShadowSink {
  received: DecodedRecord<WalRecord>[] = [];
  override async write(batch: DecodedRecord<WalRecord>[]): Promise<void> {
    await super.write(batch);
    this.received.push(...batch);
  }
}

describe('shadow on the real Kafka', () => {
  it('hands every WAL record of the topic to the sink (heartbeats skipped) and commits past all of them', async () => {
    const { topic, group, ids } = await freshTopicWithRecords();
    const config = loadConfig({ KAFKA_BROKERS: bootstrap, CONSUMER_GROUP: group, WAL_TOPIC: topic, HTTP_PORT: '0', BATCH_MAX_WAIT_MS: '20' });
    const sink = new RecordingSink(logger);
    const consumer = await runConsumer({
      ...streamOptionsFromEnv(config),
      topic: config.WAL_TOPIC,
      kind: 'wal',
      sink,
      logger,
      consumer: { sessionTimeoutMs: 6_000, maxWaitMs: 200 },
    });
    try {
      await waitUntil(`${N} records in the sink`, () => sink.received.length >= N, 30_000);
      expect(sink.received.map((d) => eventIdOf(d.record)).sort()).toEqual([...ids].sort());
      expect(sink.received.every((d) => d.topic === topic && d.key === keyOf(Number(d.record.event.target)))).toBe(true);
      const ends = await admin.endOffsets(topic);
      await waitUntil('offsets committed up to the end of every partition', async () => {
        const committed = await admin.committedOffsets(group, topic);
        return [...ends].every(([p, end]) => committed.get(p) === end);
      });
    } finally {
      await consumer.stop();
    }
  });

  it('runs as a process (main.ts): ready on /health/readiness, logs every batch, drains and exits 0 on SIGTERM', async () => {
    const { topic, group } = await freshTopicWithRecords();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: { ...process.env, KAFKA_BROKERS: bootstrap, CONSUMER_GROUP: group, WAL_TOPIC: topic, HTTP_PORT: String(port), BATCH_MAX_WAIT_MS: '20', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const logLines = () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, any>);
    const received = () => logLines().filter((l) => l.msg === 'batch received').reduce((sum, l) => sum + Number(l.records), 0);
    try {
      await waitUntil(
        'readiness 200',
        async () => {
          if (child.exitCode !== null) throw new Error(`main.ts exited ${child.exitCode}:\n${output.slice(-2000)}`);
          return (await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined))?.status === 200;
        },
        60_000,
        100,
      );
      await waitUntil(`${N} records logged by the sink`, () => received() >= N, 30_000);
      expect(received()).toBe(N);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(logLines().find((l) => l.msg === 'sink flushed')).toMatchObject({ records: N });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
