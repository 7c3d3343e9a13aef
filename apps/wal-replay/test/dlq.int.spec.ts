/**
 * Dead letters made operable, on the real Kafka: a consumer on libs/stream whose sink rejects some records for
 * good (they go to `<group>.dlq`), then `wal-replay dlq list`, `show` and, once the cause is fixed, `redrive`
 * as an operator runs them (the CLI as a process). The redriven records reach the sink with their original
 * coordinates in `redrive.*` headers, and a second redrive produces nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { join } from 'node:path';
import pino from 'pino';
import { encodeCdc, keyOfCdc, type CdcRecord } from '@pipeline/events';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { ensureKafka } from '@pipeline/stack';
import { runConsumer, SinkError, type DecodedRecord, type Sink, type StreamConsumer } from '@pipeline/stream';
import { tempDir } from '@pipeline/testing';
import { runCli } from './helpers';

let bootstrap: string;
let admin: Admin;
let producer: Producer;
const tmp = tempDir('wal-replay-dlq');

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'wal-replay-dlq-it' });
  admin = await kafka.admin();
  producer = await kafka.producer();
}, 120_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

const record = (n: number): CdcRecord => ({
  version: '3',
  type: 'e',
  processedAt: 1_700_000_000_000 + n,
  lockAt: 1_700_000_000_000 + n,
  seq: 1_000 + n,
  status: 'CREATED',
  accumulator: 1,
  message: null,
  context: { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'it', requestId: `r${n}` } },
  events: [{ id: `e${n}`, requestId: `r${n}`, type: 'INSERT', version: n, source: `u${n}`, target: n, properties: {} }],
  before: null,
  after: { source: `u${n}`, target: n, active: true, version: n, createdAt: n, deletedAt: null, properties: {} },
});

/** Rejects (not retryable) the records of the sources it is told are bad, until fixed. */
class PickySink implements Sink<CdcRecord> {
  readonly written: DecodedRecord<CdcRecord>[] = [];
  bad = new Set(['u3', 'u7', 'u11']);
  async write(batch: DecodedRecord<CdcRecord>[]) {
    const failed = batch.filter((d) => this.bad.has(String(d.record.after?.source)));
    this.written.push(...batch.filter((d) => !failed.includes(d)));
    return { failed: failed.map((record) => ({ record, error: new SinkError('DOCUMENT_REJECTED', `mapping conflict for ${String(record.record.after?.source)}`, { retryable: false }) })) };
  }
}

describe('wal-replay dlq', () => {
  it('lists, shows and redrives dead letters to their source topic with their original coordinates, once', async () => {
    const topic = uniqueTopic('wr-dlq-src');
    const group = uniqueTopic('wr-dlq-group');
    const dlqTopic = `${group}.dlq`;
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    const records = Array.from({ length: 15 }, (_, i) => record(i));
    await producer.send(topic, records.map((r) => ({ key: keyOfCdc(r), value: encodeCdc(r) })));
    const sink = new PickySink();
    const consumer: StreamConsumer<'cdc'> = await runConsumer({
      kafka: { brokers: [bootstrap], clientId: 'wal-replay-dlq-it' },
      groupId: group,
      topic,
      kind: 'cdc',
      sink,
      batch: { maxRecords: 100, maxBytes: 1 << 20, maxWaitMs: 50 },
      retry: { baseMs: 50, maxMs: 500 },
      logger: pino({ level: 'warn' }),
    });
    try {
      await waitUntil('12 written and 3 dead-lettered', async () => sink.written.length === 12 && [...(await admin.endOffsets(dlqTopic)).values()].reduce((a, b) => a + b, 0n) === 3n, 60_000, 100);
      const env = { KAFKA_BROKERS: bootstrap, DLQ_TOPIC: dlqTopic, STATE_FILE: join(tmp, 'redrive.json') };

      const list = await runCli(['dlq', 'list'], env);
      expect(list.code).toBe(0);
      expect(list.result).toMatchObject({ total: 3, byCode: { DOCUMENT_REJECTED: 3 } });
      const lines = list.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l));
      expect(lines.map((l) => l.key).sort()).toEqual(['u11:11', 'u3:3', 'u7:7']);
      for (const l of lines) {
        expect(l).toMatchObject({ code: 'DOCUMENT_REJECTED', stage: 'sink', group, kind: 'cdc', redriven: false, source: { topic } });
        expect(l.message).toMatch(/mapping conflict/);
      }
      const first = lines[0];
      const show = await runCli(['dlq', 'show', `${first.dlq.partition}:${first.dlq.offset}`], env);
      expect(show.code).toBe(0);
      const shown = JSON.parse(show.stdout);
      expect(shown.source).toEqual(first.source);
      expect(JSON.parse(shown.value).seq).toBe(1_000 + Number(first.key.split(':')[1]));

      const dry = await runCli(['dlq', 'redrive', '--dry-run', 'true'], env);
      expect(dry.result).toMatchObject({ redriven: 0, dryRun: true, byTopic: { [topic]: 3 } });

      // The cause is fixed: the sink takes them now.
      sink.bad.clear();
      const redrive = await runCli(['dlq', 'redrive'], env);
      expect(redrive.code).toBe(0);
      expect(redrive.result).toMatchObject({ redriven: 3, byTopic: { [topic]: 3 } });
      await waitUntil('the 3 redriven records written', () => sink.written.length === 15, 60_000, 100);
      const again = sink.written.slice(12);
      expect(again.map((d) => String(d.record.after?.source)).sort()).toEqual(['u11', 'u3', 'u7']);
      for (const d of again) {
        const original = lines.find((l) => l.key === d.key)!;
        expect(d.headers['redrive.source.topic']?.toString()).toBe(topic);
        expect(d.headers['redrive.source.partition']?.toString()).toBe(String(original.source.partition));
        expect(d.headers['redrive.source.offset']?.toString()).toBe(original.source.offset);
        expect(d.headers['redrive.dlq']?.toString()).toBe(`${dlqTopic}:${original.dlq.partition}:${original.dlq.offset}`);
        expect(d.headers['redrive.error.code']?.toString()).toBe('DOCUMENT_REJECTED');
        // Same key, same partition as the original.
        expect(d.partition).toBe(original.source.partition);
      }

      const twice = await runCli(['dlq', 'redrive'], env);
      expect(twice.result).toMatchObject({ redriven: 0, skippedAlreadyRedriven: 3 });
      const listed = await runCli(['dlq', 'list'], env);
      expect(listed.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l).redriven)).toEqual([true, true, true]);
    } finally {
      await consumer.stop();
    }
  }, 240_000);
});
