import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { tempDir } from '@pipeline/testing';
import { baseOptions, resolveConfig, securityFromEnv } from './config';

describe('Kafka transport security settings', () => {
  it('reads SASL and TLS from the environment, and nothing when unset', () => {
    expect(securityFromEnv({})).toEqual({});
    const dir = tempDir('kafka-tls');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    expect(
      securityFromEnv({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', KAFKA_SASL_USERNAME: 'es-indexer', KAFKA_SASL_PASSWORD: 'pw', KAFKA_TLS_CA_FILE: join(dir, 'ca.pem'), KAFKA_TLS_SERVER_NAME: 'kafka' }),
    ).toEqual({ sasl: { mechanism: 'SCRAM-SHA-512', username: 'es-indexer', password: 'pw' }, tls: { ca: expect.stringContaining('BEGIN CERTIFICATE'), servername: 'kafka' } });
    expect(securityFromEnv({ KAFKA_TLS: 'true' })).toEqual({ tls: true });
  });

  it('names the variable of a setting that cannot work', () => {
    expect(() => securityFromEnv({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-1', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/^KAFKA_SASL_MECHANISM: expected one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
    expect(() => securityFromEnv({ KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256' })).toThrow(/KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: required/);
    expect(() => securityFromEnv({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toThrow(/^KAFKA_SASL_MECHANISM: required/);
    expect(() => securityFromEnv({ KAFKA_TLS: 'yes' })).toThrow(/^KAFKA_TLS: expected true or false/);
    expect(() => securityFromEnv({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem' })).toThrow(/^KAFKA_TLS_CA_FILE: cannot read/);
  });

  it('puts explicit settings into every client, over the environment', () => {
    const cfg = resolveConfig({ brokers: ['b:9093'], clientId: 'c', sasl: { mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' }, tls: { servername: 'kafka' } });
    const opts = baseOptions(cfg, 'producer');
    expect(opts.sasl).toEqual({ mechanism: 'SCRAM-SHA-256', username: 'u', password: 'p' });
    expect(opts.tls).toEqual({ servername: 'kafka' });
    expect(baseOptions(resolveConfig({ brokers: ['b:9092'], clientId: 'c' }), 'admin').sasl).toBeUndefined();
  });
});
