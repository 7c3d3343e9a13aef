import { describe, it, expect } from '@jest/globals';
import { isKafkaUnavailable, KafkaUnavailableError } from '@pipeline/kafka';
import { errorCode, isRetryable } from './errors';
import type { PartitionBatch } from '@pipeline/kafka';
import { errorFromWire, errorToWire, packBatch, unpackBatch } from './worker-protocol';

// Errors cross the fetch worker's thread boundary as plain data: what the runtime decides on must survive.
const across = (err: unknown) => errorFromWire(structuredClone(errorToWire(err)));

describe('errors across the fetch worker boundary', () => {
  it('a Kafka outage stays one: code, retryable flag, message', () => {
    const back = across(new KafkaUnavailableError('commit offsets', ['127.0.0.1:9092'], new Error('ECONNREFUSED')));
    expect(isKafkaUnavailable(back)).toBe(true);
    expect(isRetryable(back)).toBe(true);
    expect(back.message).toMatch(/commit offsets failed/);
    expect(back.name).toBe('KafkaUnavailableError');
  });

  it('a non-retryable error stays non-retryable with its code; a thrown non-error becomes its text', () => {
    const back = across(Object.assign(new Error('unknown topic'), { code: 'UNKNOWN_TOPIC', retryable: false }));
    expect([errorCode(back, 'X'), isRetryable(back), isKafkaUnavailable(back)]).toEqual(['UNKNOWN_TOPIC', false, false]);
    expect(across('boom').message).toBe('boom');
  });
});

describe('a partition batch across the fetch worker boundary', () => {
  it('comes back whole: keys, values (null and empty too), offsets, timestamps, headers, high watermark', () => {
    const batch: PartitionBatch = {
      topic: 't',
      partition: 3,
      highWatermark: 9_007_199_254_740_993n,
      messages: [
        { topic: 't', partition: 3, offset: 9_007_199_254_740_990n, key: Buffer.from('k-1'), value: Buffer.from('{"a":1}'), headers: {}, timestamp: 1 },
        { topic: 't', partition: 3, offset: 9_007_199_254_740_991n, key: null, value: Buffer.from('é'), headers: { h: Buffer.from([0, 255]) }, timestamp: 2 },
        { topic: 't', partition: 3, offset: 9_007_199_254_740_992n, key: Buffer.alloc(0), value: null, headers: {}, timestamp: 3 },
        { topic: 't', partition: 3, offset: 9_007_199_254_740_993n, key: Buffer.from('k-4'), value: Buffer.alloc(0), headers: { a: Buffer.from('x'), b: Buffer.alloc(0) }, timestamp: 4 },
      ],
    };
    const { packed, transfer } = packBatch(batch, 7);
    const back = unpackBatch(structuredClone(packed, { transfer }));
    expect(back).toEqual(batch);
    // Transferred, not copied: the worker's buffers are gone from its side.
    expect(packed.data.byteLength).toBe(0);
  });
});
