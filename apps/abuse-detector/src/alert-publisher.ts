/**
 * Where alerts go: the `actionbase.alerts` topic (validated against AlertRecordSchema before sending, keyed by
 * the subject so one subject's alerts stay in order) and the Elasticsearch alerts index the support lookup reads
 * (document id = alertId, so an alert sent again after a crash overwrites itself).
 */
import type { Client } from '@elastic/elasticsearch';
import { AlertRecordSchema, type AlertRecord } from '@pipeline/events';
import type { Admin, KafkaClient, Producer } from '@pipeline/kafka';
import { TOPICS } from '@pipeline/events';
import { SinkError } from '@pipeline/stream';

export interface AlertOutput {
  start(): Promise<void>;
  publish(alerts: AlertRecord[]): Promise<void>;
  close(): Promise<void>;
}

/** The alerts index mapping: users, rule and subject are exact-match keywords; times are epoch ms. */
export const ALERTS_MAPPING = {
  dynamic: 'strict',
  properties: {
    version: { type: 'keyword' },
    alertId: { type: 'keyword' },
    rule: { type: 'keyword' },
    ruleName: { type: 'keyword' },
    database: { type: 'keyword' },
    table: { type: 'keyword' },
    subject: { properties: { kind: { type: 'keyword' }, id: { type: 'keyword' } } },
    users: { type: 'keyword' },
    windowStart: { type: 'date', format: 'epoch_millis' },
    windowEnd: { type: 'date', format: 'epoch_millis' },
    observed: { type: 'double' },
    threshold: { type: 'double' },
    baseline: { properties: { mean: { type: 'double' }, stddev: { type: 'double' }, zScore: { type: 'double' } } },
    emittedAt: { type: 'date', format: 'epoch_millis' },
  },
} as const;

export class KafkaEsAlertOutput implements AlertOutput {
  private admin: Admin | undefined;
  private producer: Producer | undefined;

  constructor(private readonly o: { kafka: KafkaClient; topic: string; es: Client; index: string; topicPartitions?: number }) {}

  /** Connects here, not in the constructor, so a broker that is down at start is retried by the runtime like any start failure. */
  async start(): Promise<void> {
    try {
      this.admin ??= await this.o.kafka.admin();
      this.producer ??= await this.o.kafka.producer();
      await this.admin.ensureTopics([
        { name: this.o.topic, partitions: this.o.topicPartitions ?? TOPICS.alerts.defaultPartitions, retentionMs: TOPICS.alerts.defaultRetentionMs },
      ]);
      if (!(await this.o.es.indices.exists({ index: this.o.index }))) {
        await this.o.es.indices
          .create({ index: this.o.index, mappings: ALERTS_MAPPING as never })
          .catch((err: { meta?: { body?: { error?: { type?: string } } } }) => {
            // Another instance created it between the check and the create: fine.
            if (err.meta?.body?.error?.type !== 'resource_already_exists_exception') throw err;
          });
      }
    } catch (err) {
      throw new SinkError('START_FAILED', `could not create the alerts topic ${this.o.topic} or index ${this.o.index}: ${(err as Error).message}`, {
        retryable: true,
        cause: err,
      });
    }
  }

  async publish(alerts: AlertRecord[]): Promise<void> {
    if (alerts.length === 0) return;
    const valid = alerts.map((a) => AlertRecordSchema.parse(a));
    try {
      await this.producer!.send(
        this.o.topic,
        valid.map((a) => ({ key: `${a.subject.kind}:${a.subject.id}`, value: JSON.stringify(a) })),
      );
    } catch (err) {
      throw new SinkError('ALERTS_TOPIC_FAILED', `could not send ${valid.length} alerts to ${this.o.topic}: ${(err as Error).message}`, { retryable: true, cause: err });
    }
    const res = await this.o.es
      .bulk({ operations: valid.flatMap((a) => [{ index: { _index: this.o.index, _id: a.alertId } }, a]) })
      .catch((err: unknown) => {
        throw new SinkError('ALERTS_INDEX_FAILED', `could not index ${valid.length} alerts into ${this.o.index}: ${(err as Error).message}`, { retryable: true, cause: err });
      });
    if (res.errors) {
      const first = res.items.find((i) => i.index?.error)?.index?.error;
      throw new SinkError('ALERTS_INDEX_FAILED', `Elasticsearch refused alerts in ${this.o.index}: ${first?.type}: ${first?.reason}`, { retryable: true });
    }
  }

  async close(): Promise<void> {
    await this.producer?.close().catch(() => undefined);
    await this.admin?.close().catch(() => undefined);
    this.producer = this.admin = undefined;
  }
}
