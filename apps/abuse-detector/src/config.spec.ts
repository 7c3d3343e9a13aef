import { describe, it, expect } from '@jest/globals';
import { ConfigError } from '@pipeline/config';
import { loadConfig } from './config';

describe('abuse-detector config', () => {
  it('needs only the brokers; everything else has a default', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092' });
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(c.CONSUMER_GROUP).toBe('abuse-detector');
    expect(c.CDC_TOPIC).toBe('actionbase.cdc');
    expect(c.HTTP_PORT).toBe(9470);
    expect(c.ALERTS_TOPIC).toBe('actionbase.alerts');
    expect(c.IGNORED_ACTORS).toEqual(['AsyncRequestProcessor', 'WalReplay']);
    expect(c.STATE_MAX_KEYS).toBe(200_000);
    expect(c.ALERT_RETENTION_DAYS).toBe(90);
    expect(c.ALERT_RETENTION_CHECK_MS).toBe(3_600_000);
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadConfig({ HTTP_PORT: 'eighty', STATE_MAX_KEYS: '10', ALERT_RETENTION_DAYS: '0', ALERT_RETENTION_CHECK_MS: 'hourly' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual(['ALERT_RETENTION_CHECK_MS', 'ALERT_RETENTION_DAYS', 'HTTP_PORT', 'KAFKA_BROKERS', 'STATE_MAX_KEYS']);
  });
});
