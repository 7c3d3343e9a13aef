/**
 * Bounded reads (readRange), offsets by time and the consumer's seek against the real broker of tools/stack.
 * Every test uses its own topic.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
// The broker for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka } from '@pipeline/stack';
import { createKafka, type Admin, type ConsumedMessage, type Producer, type RangeBatch, type ReadRangeOptions } from '../src/index';
import { uniqueTopic, waitUntil } from '../src/testing';

let bootstrap: string;
let admin: Admin;
let producer: Producer;
const kafka = () => createKafka({ brokers: [bootstrap], clientId: 'kafka-range-test' });

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  admin = await kafka().admin();
  producer = await kafka().producer();
}, 180_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

/** `n` records `<prefix>-<i>`, one send per `perSend`, spread over partitions by key. */
async function produce(topic: string, prefix: string, n: number, perSend = n): Promise<void> {
  for (let i = 0; i < n; i += perSend) {
    const msgs = Array.from({ length: Math.min(perSend, n - i) }, (_, j) => ({ key: `k${(i + j) % 7}`, value: `${prefix}-${i + j}` }));
    await producer.send(topic, msgs);
  }
}

async function collect(opts: ReadRangeOptions): Promise<{ batches: RangeBatch[]; messages: ConsumedMessage[] }> {
  const batches: RangeBatch[] = [];
  for await (const b of kafka().readRange(opts)) batches.push(b);
  return { batches, messages: batches.flatMap((b) => b.messages) };
}

const values = (ms: ConsumedMessage[]) => ms.map((m) => m.value!.toString()).sort();
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`).sort();

describe('readRange', () => {
  it('reads every partition up to the end offsets taken at its start, and a resume from `next` reads the rest', async () => {
    const topic = uniqueTopic('int-range');
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, 'a', 60);
    const iter = kafka().readRange({ topic })[Symbol.asyncIterator]();
    const first = await iter.next();
    // Written after the read started: beyond its end offsets, so not read.
    await produce(topic, 'b', 30);
    const rest: RangeBatch[] = [];
    for (let r = await iter.next(); !r.done; r = await iter.next()) rest.push(r.value);
    const batches = [first.value as RangeBatch, ...rest];
    expect(values(batches.flatMap((b) => b.messages))).toEqual(names('a', 60));
    for (const b of batches) {
      expect(b.next).toBeLessThanOrEqual(b.end);
      for (let i = 1; i < b.messages.length; i++) expect(b.messages[i]!.offset).toBeGreaterThan(b.messages[i - 1]!.offset);
    }

    const positions = new Map<number, bigint>();
    for (const b of batches) positions.set(b.partition, b.next);
    const resumed = await collect({ topic, from: { offsets: positions } });
    expect(values(resumed.messages)).toEqual(names('b', 30));
  }, 60_000);

  it('reads only the partitions and offsets it is given', async () => {
    const topic = uniqueTopic('int-range-part');
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, 'a', 90);
    const ends = await admin.endOffsets(topic);
    const p = [...ends].find(([, e]) => e >= 4n)![0];
    const { messages } = await collect({ topic, from: { offsets: new Map([[p, 1n]]) }, to: new Map([[p, 3n]]) });
    expect(messages.map((m) => [m.partition, m.offset])).toEqual([
      [p, 1n],
      [p, 2n],
    ]);
    await expect(collect({ topic, to: new Map([[9, 1n]]) })).rejects.toThrow(/no partition 9/);
  }, 60_000);

  it('starts at a time: the first record at or after it in each partition, as offsetsForTime finds it', async () => {
    const topic = uniqueTopic('int-range-time');
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await produce(topic, 'old', 40);
    const sentBefore = Date.now();
    await waitUntil('the clock to pass the last old record', () => Date.now() > sentBefore);
    const at = Date.now();
    await produce(topic, 'new', 40);

    const { messages } = await collect({ topic, from: { time: at } });
    expect(values(messages)).toEqual(names('new', 40));
    for (const m of messages) expect(m.timestamp).toBeGreaterThanOrEqual(at);

    const offsets = await admin.offsetsForTime(topic, at);
    const ends = await admin.endOffsets(topic);
    const newPerPartition = new Map<number, number>();
    for (const m of messages) newPerPartition.set(m.partition, (newPerPartition.get(m.partition) ?? 0) + 1);
    for (const [p, end] of ends) expect(end - offsets.get(p)!).toBe(BigInt(newPerPartition.get(p) ?? 0));
    // No record that recent: the end offset, and a range from there is empty.
    expect(await admin.offsetsForTime(topic, Date.now() + 3_600_000)).toEqual(ends);
    expect((await collect({ topic, from: { time: Date.now() + 3_600_000 } })).messages).toEqual([]);
  }, 60_000);

  it('hands out bounded batches, one fetch at a time, and stops cleanly when the caller breaks off', async () => {
    const topic = uniqueTopic('int-range-bounded');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await produce(topic, 'x', 400, 10); // 40 record batches of 10
    // One byte per partition and fetch: the broker still returns one whole record batch (never less), no more.
    const { batches, messages } = await collect({ topic, maxBytesPerPartition: 1 });
    expect(values(messages)).toEqual(names('x', 400));
    expect(batches.length).toBeGreaterThanOrEqual(40);
    expect(Math.max(...batches.map((b) => b.messages.length))).toBeLessThanOrEqual(10);

    let read = 0;
    for await (const b of kafka().readRange({ topic, maxBytesPerPartition: 1 })) {
      read += b.messages.length;
      if (read >= 20) break;
    }
    expect(read).toBe(20);
  }, 60_000);

  it('an aborted read rejects with the signal reason', async () => {
    const topic = uniqueTopic('int-range-abort');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await produce(topic, 'x', 5);
    // An end offset above the log's end: the read waits for records that never come, until aborted.
    const ac = new AbortController();
    const reading = collect({ topic, to: new Map([[0, 100n]]), signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop reading')), 300);
    await expect(reading).rejects.toThrow('stop reading');
  }, 30_000);
});

describe('consumer seek', () => {
  it('moves an assigned partition back to an offset; its next batch starts there', async () => {
    const topic = uniqueTopic('int-seek');
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await produce(topic, 'x', 50); // one send: one record batch, so the first batch holds offsets 0..49
    const consumer = await kafka().consumer({ groupId: `${topic}-g`, topics: [topic] });
    const seen: bigint[] = [];
    let first = true;
    const done = consumer.run(async (batch) => {
      for (const m of batch.messages) seen.push(m.offset);
      if (first) {
        first = false;
        consumer.seek(topic, 0, 10n);
      }
    });
    try {
      await waitUntil('offsets 10..49 read again after the seek', () => seen.length >= 90, 20_000);
      expect(seen).toEqual([...Array.from({ length: 50 }, (_, i) => BigInt(i)), ...Array.from({ length: 40 }, (_, i) => BigInt(i + 10))]);
      expect(await admin.committedOffsets(`${topic}-g`, topic)).toEqual(new Map());
    } finally {
      await consumer.close();
      await done;
    }
  }, 60_000);
});
