import { describe, it, expect } from '@jest/globals';
import { isKafkaUnavailable, KafkaUnavailableError } from '@pipeline/kafka';
import { errorCode, isRetryable } from './errors';
import { errorFromWire, errorToWire } from './worker-protocol';

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
