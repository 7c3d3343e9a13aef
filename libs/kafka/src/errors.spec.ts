import { describe, it, expect } from '@jest/globals';
import { MultipleErrors, NetworkError, ProtocolError, TimeoutError, UserError } from '@platformatic/kafka';
import { resolveConfig } from './config';
import { isKafkaUnavailable, isRetriableAnswer, isUnavailability, KafkaUnavailableError, toKafkaError } from './errors';

describe('KafkaUnavailableError', () => {
  it('is retryable, has the code and keeps the cause', () => {
    const cause = new Error('connect ECONNREFUSED');
    const err = new KafkaUnavailableError('send to t', ['127.0.0.1:1'], cause);
    expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true, operation: 'send to t', brokers: ['127.0.0.1:1'] });
    expect(err.cause).toBe(cause);
    expect(err.message).toContain('send to t');
    expect(isKafkaUnavailable(err)).toBe(true);
    expect(isKafkaUnavailable(new Error('x'))).toBe(false);
  });
});

describe('classification', () => {
  it('treats network errors, timeouts and socket codes as unavailability, also when wrapped', () => {
    expect(isUnavailability(new NetworkError('Connection closed'))).toBe(true);
    expect(isUnavailability(new TimeoutError('Request timed out'))).toBe(true);
    expect(isUnavailability(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isUnavailability(new MultipleErrors('initProducerId failed 3 times.', [new UserError('a'), new NetworkError('b')]))).toBe(true);
    expect(isUnavailability(new Error('outer', { cause: new NetworkError('inner') }))).toBe(true);
  });

  it('takes broker answers as unavailability when the client flags them retriable (canRetry), others not', () => {
    expect(isUnavailability(new ProtocolError('LEADER_NOT_AVAILABLE'))).toBe(true);
    expect(isUnavailability(new ProtocolError('COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(isUnavailability(new ProtocolError('UNKNOWN_TOPIC_OR_PARTITION'))).toBe(true);
    expect(isUnavailability(new ProtocolError('NOT_ENOUGH_REPLICAS'))).toBe(true);
    expect(isUnavailability(new ProtocolError('TOPIC_AUTHORIZATION_FAILED'))).toBe(false);
    expect(isUnavailability(new ProtocolError('UNSUPPORTED_VERSION'))).toBe(false);
    expect(isUnavailability(new ProtocolError('TOPIC_ALREADY_EXISTS'))).toBe(false);
    expect(isUnavailability(new ProtocolError('INVALID_PARTITIONS'))).toBe(false);
    expect(isUnavailability(new UserError('bad option'))).toBe(false);
    // The flag decides, not a list of ours: every protocol error the client knows is classified by it.
    for (const id of ['LEADER_NOT_AVAILABLE', 'TOPIC_ALREADY_EXISTS', 'INVALID_PARTITIONS', 'REQUEST_TIMED_OUT']) {
      const err = new ProtocolError(id);
      expect(isUnavailability(err)).toBe(err.canRetry === true);
    }
  });

  it('tells a retriable broker answer from no answer at all', () => {
    const answer = new ProtocolError('COORDINATOR_NOT_AVAILABLE');
    expect(isRetriableAnswer(new KafkaUnavailableError('join', ['b'], new MultipleErrors('findGroupCoordinator failed 3 times.', [answer])))).toBe(true);
    expect(isRetriableAnswer(new NetworkError('Connection refused'))).toBe(false);
    expect(isRetriableAnswer(new ProtocolError('INVALID_PARTITIONS'))).toBe(false);
  });

  it('wraps only unavailability', () => {
    const user = new UserError('bad option');
    expect(toKafkaError(user, 'op', ['b'])).toBe(user);
    expect(toKafkaError(new NetworkError('x'), 'op', ['b'])).toBeInstanceOf(KafkaUnavailableError);
  });
});

describe('config', () => {
  it('fills defaults and bounds the time an operation may take', () => {
    const cfg = resolveConfig({ brokers: ['127.0.0.1:9092'], clientId: 'c' });
    expect(cfg).toMatchObject({ requestTimeoutMs: 5_000, retries: 2, retryDelayMs: 250 });
    expect(cfg.deadlineMs).toBe(3 * 5_000 + 2 * 250 + 1_000);
    expect(() => resolveConfig({ brokers: [], clientId: 'c' })).toThrow(TypeError);
  });
});
