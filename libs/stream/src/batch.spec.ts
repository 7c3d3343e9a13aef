import { describe, it, expect } from '@jest/globals';
import type { ConsumedMessage } from '@pipeline/kafka';
import { Accumulator, commitOffsets, messageBytes, type Entry } from './batch';

const msg = (partition: number, offset: number, valueBytes: number, keyBytes = 0): ConsumedMessage => ({
  topic: 't',
  partition,
  offset: BigInt(offset),
  key: keyBytes ? Buffer.alloc(keyBytes, 'k') : null,
  value: Buffer.alloc(valueBytes, 'v'),
  headers: {},
  timestamp: 0,
});
const skip = (m: ConsumedMessage): Entry<never> => ({ type: 'skip', msg: m, bytes: messageBytes(m) });

/** Fills an accumulator the way the pipeline does: write (take) whenever the next entry would overflow. */
function batchesOf(limits: { maxRecords: number; maxBytes: number }, entries: Entry<never>[]): Entry<never>[][] {
  const acc = new Accumulator<never>(limits);
  const out: Entry<never>[][] = [];
  for (const e of entries) {
    if (acc.wouldOverflow(e)) out.push(acc.take());
    acc.push(e);
  }
  if (!acc.isEmpty()) out.push(acc.take());
  return out;
}

describe('batch bounds', () => {
  it('no batch holds more than maxRecords entries', () => {
    const entries = Array.from({ length: 25 }, (_, i) => skip(msg(0, i, 10)));
    const batches = batchesOf({ maxRecords: 10, maxBytes: 1_000_000 }, entries);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it('no batch holds more than maxBytes of keys and values', () => {
    const entries = Array.from({ length: 10 }, (_, i) => skip(msg(0, i, 30, 10))); // 40 bytes each
    const batches = batchesOf({ maxRecords: 100, maxBytes: 100 }, entries);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
    for (const b of batches) expect(b.reduce((n, e) => n + e.bytes, 0)).toBeLessThanOrEqual(100);
  });

  it('a record larger than maxBytes still goes, alone', () => {
    const entries = [skip(msg(0, 0, 10)), skip(msg(0, 1, 500)), skip(msg(0, 2, 10))];
    const batches = batchesOf({ maxRecords: 100, maxBytes: 100 }, entries);
    expect(batches.map((b) => b.map((e) => Number(e.msg.offset)))).toEqual([[0], [1], [2]]);
  });

  it('keeps the order the entries came in', () => {
    const entries = Array.from({ length: 7 }, (_, i) => skip(msg(i % 2, i, 1)));
    const batches = batchesOf({ maxRecords: 3, maxBytes: 1000 }, entries);
    expect(batches.flat().map((e) => Number(e.msg.offset))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('is full at maxRecords or at maxBytes, not before', () => {
    const acc = new Accumulator<never>({ maxRecords: 3, maxBytes: 100 });
    acc.push(skip(msg(0, 0, 10)));
    acc.push(skip(msg(0, 1, 10)));
    expect(acc.isFull()).toBe(false);
    acc.push(skip(msg(0, 2, 10)));
    expect(acc.isFull()).toBe(true);
    const bytes = new Accumulator<never>({ maxRecords: 10, maxBytes: 100 });
    bytes.push(skip(msg(0, 0, 100)));
    expect(bytes.isFull()).toBe(true);
    expect(bytes.take()).toHaveLength(1);
    expect(bytes.isEmpty()).toBe(true);
    expect(bytes.byteSize).toBe(0);
  });

  it('rejects limits below one', () => {
    expect(() => new Accumulator({ maxRecords: 0, maxBytes: 1 })).toThrow(/maxRecords/);
    expect(() => new Accumulator({ maxRecords: 1, maxBytes: 0 })).toThrow(/maxBytes/);
  });
});

describe('commitOffsets', () => {
  it('is one past the highest offset of each partition in the batch', () => {
    const offsets = commitOffsets([skip(msg(0, 4, 1)), skip(msg(1, 9, 1)), skip(msg(0, 5, 1)), skip(msg(1, 10, 1))]);
    expect([...offsets.values()].sort((a, b) => a.partition - b.partition)).toEqual([
      { topic: 't', partition: 0, offset: 6n },
      { topic: 't', partition: 1, offset: 11n },
    ]);
  });
});
