/**
 * The indexer: two stream consumers (WAL and CDC, one consumer group each, one DLQ topic) writing to
 * Elasticsearch through EsSink, the index templates created before either starts, and the retention timer.
 */
import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import type { KafkaConfig } from '@pipeline/kafka';
import { StreamConsumer, type BatchLimits, type ConsumerTuning, type RetryPolicy } from '@pipeline/stream';
import { EsSink, SinkMetrics } from './es.sink';
import { ensureIndices, startRetention } from './indices';

export interface IndexerOptions {
  kafka: KafkaConfig;
  /** Groups are `<group>.wal` and `<group>.cdc`; the DLQ topic `<group>.dlq` unless dlqTopic is set. */
  groupId: string;
  dlqTopic?: string;
  walTopic: string;
  cdcTopic: string;
  client: Client;
  prefix: string;
  retentionDays: number;
  retentionCheckMs: number;
  refreshInterval: string;
  shards: number;
  replicas: number;
  batch: BatchLimits;
  retry: RetryPolicy;
  consumer?: ConsumerTuning;
  shutdownTimeoutMs?: number;
  logger: Logger;
  registry: Registry;
}

export interface Indexer {
  wal: StreamConsumer<'wal'>;
  cdc: StreamConsumer<'cdc'>;
  metrics: SinkMetrics;
  ready(): { ready: boolean; reasons: string[] };
  stop(): Promise<void>;
}

export async function startIndexer(o: IndexerOptions): Promise<Indexer> {
  await ensureIndices(o.client, { prefix: o.prefix, refreshInterval: o.refreshInterval, shards: o.shards, replicas: o.replicas });
  const stopRetention = startRetention(o.client, o.prefix, o.retentionDays, o.retentionCheckMs, o.logger);
  const metrics = new SinkMetrics(o.registry);
  const dlqTopic = o.dlqTopic ?? `${o.groupId}.dlq`;
  const common = {
    kafka: o.kafka,
    dlqTopic,
    batch: o.batch,
    retry: o.retry,
    logger: o.logger,
    metrics: o.registry,
    ...(o.consumer ? { consumer: o.consumer } : {}),
    ...(o.shutdownTimeoutMs ? { shutdownTimeoutMs: o.shutdownTimeoutMs } : {}),
  };
  const sinkOpts = { client: o.client, prefix: o.prefix, retentionDays: o.retentionDays, logger: o.logger, metrics };
  const wal = new StreamConsumer({ ...common, groupId: `${o.groupId}.wal`, topic: o.walTopic, kind: 'wal', sink: new EsSink<WalRecord>({ ...sinkOpts, kind: 'wal' }) });
  const cdc = new StreamConsumer({ ...common, groupId: `${o.groupId}.cdc`, topic: o.cdcTopic, kind: 'cdc', sink: new EsSink<CdcRecord>({ ...sinkOpts, kind: 'cdc' }) });
  try {
    await Promise.all([wal.start(), cdc.start()]);
  } catch (err) {
    stopRetention();
    await Promise.allSettled([wal.stop(), cdc.stop()]);
    throw err;
  }
  return {
    wal,
    cdc,
    metrics,
    ready() {
      const reasons = [...wal.health().reasons.map((r) => `wal: ${r}`), ...cdc.health().reasons.map((r) => `cdc: ${r}`)];
      return { ready: reasons.length === 0, reasons };
    },
    async stop() {
      stopRetention();
      const results = await Promise.allSettled([wal.stop(), cdc.stop()]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
