// parseConfig and ConfigError are the pipeline's (libs/config); re-exported for the consumer apps' convenience.
export { parseConfig, ConfigError, type ConfigIssue } from '@pipeline/config';
import { z } from 'zod';
import { kafkaBrokers, listenHost, port } from '@pipeline/config';
import type { StreamConsumerOptions } from './types';

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/**
 * The variables every consumer app shares. Apps extend it with their own (topic, sink settings):
 * `parseConfig(StreamEnvSchema.extend({ ES_URL: z.url() }), process.env)`.
 */
export const StreamEnvSchema = z.object({
  KAFKA_BROKERS: kafkaBrokers,
  KAFKA_CLIENT_ID: z.string().min(1).optional().describe('Default: the consumer group'),
  CONSUMER_GROUP: z.string().min(1).describe('Consumer group; also names the DLQ topic (<group>.dlq)'),
  DLQ_TOPIC: z.string().min(1).optional(),
  BATCH_MAX_RECORDS: positiveInt(500),
  BATCH_MAX_BYTES: positiveInt(5 * 1024 * 1024),
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(1_000),
  RETRY_BASE_MS: positiveInt(200),
  RETRY_MAX_MS: positiveInt(30_000),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().positive().optional().describe('Unset: retry while the sink is down'),
  HTTP_PORT: port(9464).describe('Health probes and /metrics'),
  HTTP_HOST: listenHost().describe('Interface of the probes and /metrics; 0.0.0.0 in a container'),
  SHUTDOWN_TIMEOUT_MS: positiveInt(30_000),
  STREAM_FETCH_WORKER: z.stringbool().default(false).describe('Kafka fetching on a worker thread (needs the sources and tsx)'),
});

export type StreamEnv = z.output<typeof StreamEnvSchema>;

/** The runtime options that come from StreamEnvSchema; the app adds topic, kind, sink, logger and metrics. */
export function streamOptionsFromEnv(env: StreamEnv): Pick<StreamConsumerOptions, 'kafka' | 'groupId' | 'batch' | 'retry' | 'dlqTopic' | 'http' | 'shutdownTimeoutMs' | 'fetchWorker'> {
  return {
    kafka: { brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID ?? env.CONSUMER_GROUP },
    groupId: env.CONSUMER_GROUP,
    batch: { maxRecords: env.BATCH_MAX_RECORDS, maxBytes: env.BATCH_MAX_BYTES, maxWaitMs: env.BATCH_MAX_WAIT_MS },
    retry: { baseMs: env.RETRY_BASE_MS, maxMs: env.RETRY_MAX_MS, ...(env.RETRY_MAX_ATTEMPTS !== undefined ? { maxAttempts: env.RETRY_MAX_ATTEMPTS } : {}) },
    ...(env.DLQ_TOPIC !== undefined ? { dlqTopic: env.DLQ_TOPIC } : {}),
    http: { port: env.HTTP_PORT, host: env.HTTP_HOST },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    ...(env.STREAM_FETCH_WORKER ? { fetchWorker: true } : {}),
  };
}
