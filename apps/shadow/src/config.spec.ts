import { describe, it, expect } from '@jest/globals';
import { ConfigError } from '@pipeline/stream';
import { loadConfig } from './config';

describe('shadow config', () => {
  it('needs only the brokers; everything else has a default', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092' });
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(c.CONSUMER_GROUP).toBe('shadow');
    expect(c.WAL_TOPIC).toBe('actionbase.wal');
    expect(c.HTTP_PORT).toBe(9470);
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ HTTP_PORT: 'eighty' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual(['HTTP_PORT', 'KAFKA_BROKERS']);
  });
});
