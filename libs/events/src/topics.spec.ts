import { describe, it, expect } from '@jest/globals';
import { TOPICS, dlqTopicName } from './index';

const DAY = 86_400_000;

describe('topic registry', () => {
  it('WAL: actionbase.wal, 6 partitions, kept 30 days for replay', () => {
    expect(TOPICS.wal).toMatchObject({
      envVar: 'WAL_TOPIC',
      defaultName: 'actionbase.wal',
      defaultPartitions: 6,
      defaultRetentionMs: 30 * DAY,
    });
  });

  it('CDC: actionbase.cdc, 6 partitions, 7 days', () => {
    expect(TOPICS.cdc).toMatchObject({
      envVar: 'CDC_TOPIC',
      defaultName: 'actionbase.cdc',
      defaultPartitions: 6,
      defaultRetentionMs: 7 * DAY,
    });
  });

  it('DLQ: one per consumer group, <group>.dlq, 14 days', () => {
    expect(TOPICS.dlq.defaultRetentionMs).toBe(14 * DAY);
    expect(TOPICS.dlq.defaultName).toBe('<consumer-group>.dlq');
    expect(dlqTopicName('druid-ingest')).toBe('druid-ingest.dlq');
  });

  it('every entry is complete and the WAL outlives the CDC', () => {
    for (const topic of Object.values(TOPICS)) {
      expect(topic.envVar).toMatch(/^[A-Z_]+$/);
      expect(topic.description.length).toBeGreaterThan(10);
      expect(Number.isInteger(topic.defaultPartitions) && topic.defaultPartitions > 0).toBe(true);
    }
    expect(TOPICS.wal.defaultRetentionMs).toBeGreaterThan(TOPICS.cdc.defaultRetentionMs);
  });
});
