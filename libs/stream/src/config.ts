import { z } from 'zod';
import { PipelineError } from '@pipeline/errors';
import type { StreamConsumerOptions } from './types';

export interface ConfigIssue {
  /** The environment variable (or dotted path for nested schemas). */
  variable: string;
  message: string;
}

/** The environment does not fit the app's schema; the message names every bad variable, one per line. */
export class ConfigError extends PipelineError {
  override readonly name = 'ConfigError';
  override readonly code = 'INVALID_CONFIG' as const;
  override readonly retryable = false as const;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      'INVALID_CONFIG',
      `invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}\nFix the environment variable(s) above and start again.`,
      { retryable: false },
    );
    this.issues = issues;
  }
}

/**
 * Parses a process.env-like object with the app's zod schema, once, at start. Empty strings count as unset,
 * so `FOO=` in a compose file falls back to the schema's default instead of failing a number parse.
 * Throws ConfigError naming each bad variable; the app lets it end the process.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const variable = i.path.length ? i.path.map(String).join('.') : '(environment)';
    const present = i.path.length === 1 && Object.prototype.hasOwnProperty.call(input, i.path[0] as PropertyKey);
    // zod says "expected string, received undefined" for a missing variable; say it the way an operator reads it.
    const message = !present && i.path.length === 1 && i.code === 'invalid_type' ? 'required, not set' : i.message;
    return { variable, message };
  });
  throw new ConfigError(issues);
}

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/**
 * The variables every consumer app shares. Apps extend it with their own (topic, sink settings):
 * `parseConfig(StreamEnvSchema.extend({ ES_URL: z.url() }), process.env)`.
 */
export const StreamEnvSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .describe('Comma-separated bootstrap servers'),
  KAFKA_CLIENT_ID: z.string().min(1).optional().describe('Default: the consumer group'),
  CONSUMER_GROUP: z.string().min(1).describe('Consumer group; also names the DLQ topic (<group>.dlq)'),
  DLQ_TOPIC: z.string().min(1).optional(),
  BATCH_MAX_RECORDS: positiveInt(500),
  BATCH_MAX_BYTES: positiveInt(5 * 1024 * 1024),
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(1_000),
  RETRY_BASE_MS: positiveInt(200),
  RETRY_MAX_MS: positiveInt(30_000),
  RETRY_MAX_ATTEMPTS: z.coerce.number().int().positive().optional().describe('Unset: retry while the sink is down'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9464).describe('Health probes and /metrics'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('Interface of the probes and /metrics; 0.0.0.0 in a container'),
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
