const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicDefinition {
  /** Environment variable that overrides the topic name. */
  envVar: string;
  defaultName: string;
  defaultPartitions: number;
  defaultRetentionMs: number;
  description: string;
}

/**
 * The topics every app agrees on (docs/records.md, "Kafka": one WAL and one CDC topic per deployment, shared
 * by every table). Partition counts only matter at creation: changing them later remaps keys to
 * partitions and breaks per-edge ordering for records in flight.
 */
export const TOPICS = {
  wal: {
    envVar: 'WAL_TOPIC',
    defaultName: 'actionbase.wal',
    defaultPartitions: 6,
    // Long enough to replay for migration (snapshot + WAL from before its cut) and disaster recovery.
    defaultRetentionMs: 30 * DAY_MS,
    description:
      'Write-ahead log: one record per request item, before processing, in every mode. Replayed by the async processor, migrations and recovery.',
  },
  cdc: {
    envVar: 'CDC_TOPIC',
    defaultName: 'actionbase.cdc',
    defaultPartitions: 6,
    defaultRetentionMs: 7 * DAY_MS,
    description:
      'Change data capture: one record per key per request with before/after state and count delta. Feeds Druid, Elasticsearch and snapshots.',
  },
  dlq: {
    envVar: 'DLQ_TOPIC',
    // Per consumer group, not per deployment: use dlqTopicName(group). The angle brackets are not legal in a
    // Kafka topic name, so using this placeholder verbatim fails loudly instead of creating a shared DLQ.
    defaultName: '<consumer-group>.dlq',
    // Dead letters are rare and are read back in order by hand or by a redrive job.
    defaultPartitions: 1,
    // Two weeks: enough to notice, fix the consumer and redrive.
    defaultRetentionMs: 14 * DAY_MS,
    description:
      'Dead-letter queue of one consumer group: records it could not decode or apply, with the original key and value.',
  },
  alerts: {
    envVar: 'ALERTS_TOPIC',
    defaultName: 'actionbase.alerts',
    defaultPartitions: 3,
    // Alerts are indexed into Elasticsearch for the support lookup; the topic only needs to outlive an outage.
    defaultRetentionMs: 30 * DAY_MS,
    description: 'Abuse alerts of apps/abuse-detector (AlertRecordSchema), keyed by the alert subject; deduplicate on alertId.',
  },
} as const satisfies Record<'wal' | 'cdc' | 'dlq' | 'alerts', TopicDefinition>;

export type TopicId = keyof typeof TOPICS;

/** `<consumer-group>.dlq`: each group dead-letters to its own topic so a redrive only reaches that group. */
export function dlqTopicName(consumerGroup: string): string {
  return `${consumerGroup}.dlq`;
}
