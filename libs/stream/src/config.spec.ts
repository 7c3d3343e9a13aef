import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, parseConfig } from './config';

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
