import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, parseConfig, StreamEnvSchema, streamOptionsFromEnv } from './config';

const schema = z.object({
  KAFKA_BROKERS: z.string().transform((s) => s.split(',')),
  GROUP_ID: z.string().min(1),
  BATCH_MAX_RECORDS: z.coerce.number().int().positive().default(500),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  SINK_MODE: z.enum(['bulk', 'single']).default('bulk'),
});

describe('parseConfig', () => {
  it('returns the typed config, with defaults for what is unset or empty', () => {
    const cfg = parseConfig(schema, { KAFKA_BROKERS: 'a:9092,b:9092', GROUP_ID: 'es-indexer', HTTP_PORT: '', PATH: '/usr/bin' });
    expect(cfg).toEqual({ KAFKA_BROKERS: ['a:9092', 'b:9092'], GROUP_ID: 'es-indexer', BATCH_MAX_RECORDS: 500, HTTP_PORT: 9464, SINK_MODE: 'bulk' });
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      parseConfig(schema, { KAFKA_BROKERS: 'a:9092', BATCH_MAX_RECORDS: 'many', HTTP_PORT: '70000', SINK_MODE: 'fast' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.issues.map((i) => i.variable).sort()).toEqual(['BATCH_MAX_RECORDS', 'GROUP_ID', 'HTTP_PORT', 'SINK_MODE']);
    for (const name of ['BATCH_MAX_RECORDS', 'GROUP_ID', 'HTTP_PORT', 'SINK_MODE']) expect(e.message).toContain(name);
    expect(e.message).toMatch(/GROUP_ID: required, not set/);
    expect(e.message).not.toContain('KAFKA_BROKERS');
    expect(e.code).toBe('INVALID_CONFIG');
  });
});

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
