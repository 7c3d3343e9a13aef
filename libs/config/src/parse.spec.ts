import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { PipelineError } from '@pipeline/errors';
import { ConfigError, kafkaBrokers, listenHost, logLevel, parseConfig, port } from './index';

const schema = z.object({
  KAFKA_BROKERS: kafkaBrokers,
  GROUP_ID: z.string().min(1),
  BATCH_MAX_RECORDS: z.coerce.number().int().positive().default(500),
  HTTP_PORT: port(9464),
  HTTP_HOST: listenHost(),
  LOG_LEVEL: logLevel,
  SINK_MODE: z.enum(['bulk', 'single']).default('bulk'),
});

describe('parseConfig', () => {
  it('returns the typed config, with defaults for what is unset or empty', () => {
    const cfg = parseConfig(schema, { KAFKA_BROKERS: 'a:9092, b:9092,', GROUP_ID: 'es-indexer', HTTP_PORT: '', PATH: '/usr/bin' });
    expect(cfg).toEqual({
      KAFKA_BROKERS: ['a:9092', 'b:9092'],
      GROUP_ID: 'es-indexer',
      BATCH_MAX_RECORDS: 500,
      HTTP_PORT: 9464,
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SINK_MODE: 'bulk',
    });
  });

  it('names every bad variable in one error', () => {
    let err: unknown;
    try {
      parseConfig(schema, { KAFKA_BROKERS: 'a:9092', BATCH_MAX_RECORDS: 'many', HTTP_PORT: '70000', SINK_MODE: 'fast', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(PipelineError);
    const e = err as ConfigError;
    const names = ['BATCH_MAX_RECORDS', 'GROUP_ID', 'HTTP_PORT', 'LOG_LEVEL', 'SINK_MODE'];
    expect(e.issues.map((i) => i.variable).sort()).toEqual(names);
    for (const name of names) expect(e.message).toContain(name);
    expect(e.message).toMatch(/GROUP_ID: required, not set/);
    expect(e.message).not.toContain('KAFKA_BROKERS');
    expect(e).toMatchObject({ code: 'INVALID_CONFIG', retryable: false });
  });

  it('refuses an empty broker list and a port out of range', () => {
    expect(() => parseConfig(schema, { GROUP_ID: 'g', KAFKA_BROKERS: '' })).toThrow(/KAFKA_BROKERS: required, not set/);
    expect(() => parseConfig(schema, { GROUP_ID: 'g', KAFKA_BROKERS: 'a:1', HTTP_PORT: '-1' })).toThrow(/HTTP_PORT/);
  });
});
