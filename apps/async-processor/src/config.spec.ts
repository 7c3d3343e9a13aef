import { describe, it, expect } from '@jest/globals';
import { ConfigError } from '@pipeline/config';
import { loadConfig, parseKeepNewest } from './config';

describe('config', () => {
  it('needs only KAFKA_BROKERS and defaults the rest', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'a:9092, b:9092' });
    expect(c.KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
    expect(c).toMatchObject({ WAL_TOPIC: 'actionbase.wal', GROUP_ID: 'async-processor', ACTOR_ID: 'AsyncRequestProcessor', CORE_URL: 'http://127.0.0.1:8080', RATE_LIMIT_PER_SEC: 5000, FROM_BEGINNING: true });
    expect(c.KEEP_NEWEST.size).toBe(0);
  });

  it('parses KEEP_NEWEST per table', () => {
    const rules = parseKeepNewest('shop.recent_views:recent:50, shop.recent_searches:by_time:10');
    expect(rules.get('shop.recent_views')).toEqual({ database: 'shop', table: 'recent_views', index: 'recent', keep: 50 });
    expect(rules.get('shop.recent_searches')?.keep).toBe(10);
  });

  it('names the bad variable', () => {
    const bad = () => loadConfig({ KAFKA_BROKERS: 'a:9092', KEEP_NEWEST: 'shop.recent_views:50', RATE_LIMIT_PER_SEC: 'fast' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual(['KEEP_NEWEST', 'RATE_LIMIT_PER_SEC']);
    }
    expect(() => loadConfig({})).toThrow(/KAFKA_BROKERS: required, not set/);
    expect(() => parseKeepNewest('shop.v:recent:0')).toThrow(/positive/);
    expect(() => parseKeepNewest('shop.v:recent:2,shop.v:other:3')).toThrow(/twice/);
  });
});
