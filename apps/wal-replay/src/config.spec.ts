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

  it('takes the dlq action and its coordinates as arguments, and refuses stray arguments elsewhere', () => {
    const cfg = loadConfig(['dlq', 'redrive', '0:4', '2:9', '--dlq-topic', 'g.dlq', '--dry-run', 'true'], { KAFKA_BROKERS: 'k' });
    expect(cfg.args).toEqual(['redrive', '0:4', '2:9']);
    expect(cfg.DLQ_TOPIC).toBe('g.dlq');
    expect(cfg.DRY_RUN).toBe(true);
    expect(() => loadConfig(['dlq', 'purge'], { KAFKA_BROKERS: 'k' })).toThrow(/dlq needs one of list, show, redrive/);
    expect(() => loadConfig(['check', 'extra'], { KAFKA_BROKERS: 'k' })).toThrow(/unexpected argument/);
    expect(loadConfig(['reconcile', '--reconcile-sinks', 'core,iceberg'], { KAFKA_BROKERS: 'k' }).RECONCILE_SINKS).toEqual(['core', 'iceberg']);
    expect(() => loadConfig(['reconcile', '--reconcile-sinks', 'hbase'], { KAFKA_BROKERS: 'k' })).toThrow(/RECONCILE_SINKS/);
    const druid = loadConfig(['reconcile', '--reconcile-sinks', 'core,druid', '--druid-url', 'http://127.0.0.1:8081/'], { KAFKA_BROKERS: 'k' });
    expect({ sinks: druid.RECONCILE_SINKS, url: druid.DRUID_URL, ds: druid.DRUID_DATASOURCE, wait: druid.DRUID_CATCHUP_MS }).toEqual({
      sinks: ['core', 'druid'],
      url: 'http://127.0.0.1:8081',
      ds: 'actionbase_cdc',
      wait: 120_000,
    });
  });

  it('takes the Elasticsearch credentials of reconcile as es-indexer does, from the environment or flags', () => {
    const cfg = loadConfig(['reconcile', '--es-url', 'https://es:9200/', '--es-ca-file', '/certs/ca.crt'], { KAFKA_BROKERS: 'k', ES_API_KEY: 'a2V5OnNlY3JldA==' });
    expect([cfg.ES_URL, cfg.ES_API_KEY, cfg.ES_CA_FILE, cfg.ES_USERNAME]).toEqual(['https://es:9200', 'a2V5OnNlY3JldA==', '/certs/ca.crt', undefined]);
    expect(() => loadConfig(['reconcile'], { KAFKA_BROKERS: 'k', ES_USERNAME: 'replay' })).toThrow(/ES_PASSWORD.*together/);
    expect(() => loadConfig(['reconcile'], { KAFKA_BROKERS: 'k', ES_API_KEY: 'a', ES_USERNAME: 'u', ES_PASSWORD: 'p' })).toThrow(/ES_API_KEY.*not both/);
  });
});
