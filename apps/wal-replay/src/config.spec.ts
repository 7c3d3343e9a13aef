import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';

describe('loadConfig', () => {
  it('lets a flag override the environment variable of the same name', () => {
    const cfg = loadConfig(['rebuild', '--target-url', 'http://b:8080/', '--from-offset', '0:5,2:7'], { KAFKA_BROKERS: 'k:9092', TARGET_URL: 'http://a:8080' });
    expect(cfg.command).toBe('rebuild');
    expect(cfg.TARGET_URL).toBe('http://b:8080');
    expect(cfg.FROM_OFFSET?.per).toEqual(new Map([[0, 5n], [2, 7n]]));
    expect(cfg.BATCH_SIZE).toBe(1000);
  });

  it('reads a start time as epoch ms or ISO-8601', () => {
    expect(loadConfig(['rebuild', '--from-time', '2026-01-02T03:04:05Z'], { KAFKA_BROKERS: 'k' }).FROM_TIME).toBe(Date.parse('2026-01-02T03:04:05Z'));
    expect(loadConfig(['migrate', '--snapshot-until', '1700000000000'], { KAFKA_BROKERS: 'k' }).SNAPSHOT_UNTIL).toBe(1700000000000);
  });

  it('names the bad variable and refuses an unknown command', () => {
    expect(() => loadConfig(['check', '--batch-size', '0'], { KAFKA_BROKERS: 'k' })).toThrow(/BATCH_SIZE/);
    expect(() => loadConfig(['check'], {})).toThrow(/KAFKA_BROKERS: required/);
    expect(() => loadConfig(['replay'], { KAFKA_BROKERS: 'k' })).toThrow(/unknown command "replay"/);
  });
});
