import { describe, it, expect } from '@jest/globals';
import { ConfigError } from '@pipeline/config';
import { loadConfig } from './config';

const required = { KAFKA_BROKERS: 'a:9092, b:9092', PRIMARY_URL: 'http://p:8080/', TARGET_URL: 'http://t:8080' };

describe('shadow config', () => {
  it('needs the brokers and both cores; everything else has a default', () => {
    const c = loadConfig(required);
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(c.CONSUMER_GROUP).toBe('shadow');
    expect(c.WAL_TOPIC).toBe('actionbase.wal');
    expect(c.HTTP_PORT).toBe(9470);
    expect(c.PRIMARY_URL).toBe('http://p:8080');
    expect(c.TARGET_URL).toBe('http://t:8080');
    expect(c).toMatchObject({ START_AT: 'latest', SETTLE_MS: 2_000, SETTLE_ROUNDS: 3, MAX_PENDING_KEYS: 100_000, COUNT_SAMPLE_RATE: 0.1 });
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ HTTP_PORT: 'eighty', TARGET_URL: 'not a url', COUNT_SAMPLE_RATE: '2' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual(['COUNT_SAMPLE_RATE', 'HTTP_PORT', 'KAFKA_BROKERS', 'PRIMARY_URL', 'TARGET_URL']);
  });

  it('refuses a target that is the primary', () => {
    expect(() => loadConfig({ ...required, TARGET_URL: 'http://p:8080' })).toThrow(/TARGET_URL: is PRIMARY_URL/);
  });
});
