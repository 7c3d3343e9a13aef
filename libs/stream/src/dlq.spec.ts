import { describe, it, expect } from '@jest/globals';
import type { ConsumedMessage } from '@pipeline/kafka';
import { DLQ_HEADERS, deadLetterMessage, readDeadLetter } from './dlq';

const original: ConsumedMessage = {
  topic: 'actionbase.wal',
  partition: 3,
  offset: 12345678901234n,
  key: Buffer.from('u-1:5001'),
  value: Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x7d]), // not even UTF-8: the bytes must survive as they are
  headers: { traceparent: Buffer.from('00-abc-def-01'), 'dlq.error.code': Buffer.from('OLD') },
  timestamp: 1_764_115_200_000,
};
const now = new Date('2026-01-02T03:04:05.000Z');

describe('dead-letter record', () => {
  const out = deadLetterMessage(original, { code: 'MALFORMED_JSON', message: 'not valid JSON', stage: 'decode' }, { groupId: 'es-indexer', kind: 'wal', now });

  it('keeps the original key and value bytes', () => {
    expect(out.key).toBe('u-1:5001');
    expect(Buffer.compare(out.value as Buffer, original.value!)).toBe(0);
  });

  it('carries the error, the source coordinates, the group and the time in headers', () => {
    expect(out.headers).toEqual({
      traceparent: '00-abc-def-01',
      [DLQ_HEADERS.errorCode]: 'MALFORMED_JSON',
      [DLQ_HEADERS.errorMessage]: 'not valid JSON',
      [DLQ_HEADERS.stage]: 'decode',
      [DLQ_HEADERS.sourceTopic]: 'actionbase.wal',
      [DLQ_HEADERS.sourcePartition]: '3',
      [DLQ_HEADERS.sourceOffset]: '12345678901234',
      [DLQ_HEADERS.sourceTimestamp]: '1764115200000',
      [DLQ_HEADERS.group]: 'es-indexer',
      [DLQ_HEADERS.kind]: 'wal',
      [DLQ_HEADERS.failedAt]: '2026-01-02T03:04:05.000Z',
    });
  });

  it('reads back into the original coordinates, key, value and headers', () => {
    const headers = Object.fromEntries(Object.entries(out.headers!).map(([k, v]) => [k, Buffer.from(v)]));
    const back = readDeadLetter({ topic: 'es-indexer.dlq', partition: 0, offset: 0n, key: Buffer.from(out.key!), value: out.value as Buffer, headers, timestamp: 0 });
    expect(back).toMatchObject({
      code: 'MALFORMED_JSON',
      stage: 'decode',
      groupId: 'es-indexer',
      source: { topic: 'actionbase.wal', partition: 3, offset: 12345678901234n, timestamp: 1_764_115_200_000 },
    });
    expect(back!.key!.toString()).toBe('u-1:5001');
    expect(Buffer.compare(back!.value!, original.value!)).toBe(0);
    expect(Object.keys(back!.headers)).toEqual(['traceparent']);
  });

  it('moves a key that is not UTF-8 into a base64 header, and marks a null value', () => {
    const binary = deadLetterMessage(
      { ...original, key: Buffer.from([0xff, 0xfe, 0x01]), value: null },
      { code: 'EMPTY_VALUE', message: 'no value', stage: 'decode' },
      { groupId: 'g', kind: 'cdc', now },
    );
    expect(binary.key).toBeNull();
    expect(binary.headers![DLQ_HEADERS.sourceKeyBase64]).toBe(Buffer.from([0xff, 0xfe, 0x01]).toString('base64'));
    expect(binary.headers![DLQ_HEADERS.sourceValueNull]).toBe('true');
    expect((binary.value as Buffer).length).toBe(0);
    const headers = Object.fromEntries(Object.entries(binary.headers!).map(([k, v]) => [k, Buffer.from(v)]));
    const back = readDeadLetter({ topic: 'g.dlq', partition: 0, offset: 0n, key: null, value: Buffer.alloc(0), headers, timestamp: 0 });
    expect([...back!.key!]).toEqual([0xff, 0xfe, 0x01]);
    expect(back!.value).toBeNull();
  });

  it('cuts a huge error message', () => {
    const big = deadLetterMessage(original, { code: 'X', message: 'y'.repeat(100_000), stage: 'sink' }, { groupId: 'g', kind: 'wal', now });
    expect(big.headers![DLQ_HEADERS.errorMessage]!.length).toBeLessThanOrEqual(2_000);
  });

  it('a message without our headers is not a dead letter', () => {
    expect(readDeadLetter(original)).toBeUndefined();
  });
});
