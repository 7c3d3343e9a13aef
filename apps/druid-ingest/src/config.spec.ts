import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@pipeline/config';
import { loadConfig, supervisorOptions } from './config';

describe('config', () => {
  it('has defaults for a local stack', () => {
    const c = loadConfig({});
    expect(supervisorOptions(c)).toEqual({
      dataSource: 'actionbase_cdc',
      topic: 'actionbase.cdc',
      bootstrapServers: '127.0.0.1:9092',
      queryGranularity: 'minute',
      segmentGranularity: 'hour',
      rollup: true,
      taskDuration: 'PT1H',
      taskCount: 1,
      replicas: 1,
      useEarliestOffset: true,
    });
    expect(c.DRUID_URL).toBe('http://127.0.0.1:8081');
  });

  it('gives Druid its own view of the brokers and parses flags', () => {
    const c = loadConfig({ KAFKA_BROKERS: 'localhost:9092', DRUID_KAFKA_BROKERS: 'kafka:9092', ROLLUP: 'false', QUERY_GRANULARITY: 'hour' });
    expect(supervisorOptions(c)).toMatchObject({ bootstrapServers: 'kafka:9092', rollup: false, queryGranularity: 'hour' });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ QUERY_GRANULARITY: 'weekly' })).toThrow(ConfigError);
    expect(() => loadConfig({ QUERY_GRANULARITY: 'weekly' })).toThrow(/QUERY_GRANULARITY/);
  });
});
