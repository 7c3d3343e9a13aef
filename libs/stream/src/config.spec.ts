import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { parseConfig, StreamEnvSchema, streamOptionsFromEnv } from './config';

describe('StreamEnvSchema', () => {
  it('gives the runtime options from the shared variables, with defaults', () => {
    const env = parseConfig(StreamEnvSchema.extend({ WAL_TOPIC: z.string().default('actionbase.wal') }), {
      KAFKA_BROKERS: 'a:9092, b:9092',
      CONSUMER_GROUP: 'es-indexer',
      RETRY_MAX_ATTEMPTS: '5',
    });
    expect(env.WAL_TOPIC).toBe('actionbase.wal');
    expect(streamOptionsFromEnv(env)).toEqual({
      kafka: { brokers: ['a:9092', 'b:9092'], clientId: 'es-indexer' },
      groupId: 'es-indexer',
      batch: { maxRecords: 500, maxBytes: 5 * 1024 * 1024, maxWaitMs: 1_000 },
      retry: { baseMs: 200, maxMs: 30_000, maxAttempts: 5 },
      http: { port: 9464, host: '127.0.0.1' },
      shutdownTimeoutMs: 30_000,
    });
  });

  it('turns the fetch worker on with STREAM_FETCH_WORKER=true, and refuses a value that is not a boolean', () => {
    const env = parseConfig(StreamEnvSchema, { KAFKA_BROKERS: 'a:9092', CONSUMER_GROUP: 'g', STREAM_FETCH_WORKER: 'true' });
    expect(streamOptionsFromEnv(env).fetchWorker).toBe(true);
    expect(() => parseConfig(StreamEnvSchema, { KAFKA_BROKERS: 'a:9092', CONSUMER_GROUP: 'g', STREAM_FETCH_WORKER: 'sometimes' })).toThrow(/STREAM_FETCH_WORKER/);
  });

  it('names the missing group and a bad batch size', () => {
    expect(() => parseConfig(StreamEnvSchema, { KAFKA_BROKERS: 'a:9092', BATCH_MAX_RECORDS: '0' })).toThrow(/CONSUMER_GROUP: required[\s\S]*BATCH_MAX_RECORDS|BATCH_MAX_RECORDS[\s\S]*CONSUMER_GROUP: required/);
  });
});
