/**
 * @pipeline/stream: the consumer runtime every consumer app uses. It owns the poll/commit loop, batching,
 * retries, the DLQ, shutdown, health and metrics; an app brings a Sink and its config.
 */
export { StreamConsumer, runConsumer, type StreamState } from './stream-consumer';
export { workerConsumer, fetchWorkerAvailable } from './worker-consumer';
export type {
  Sink,
  SinkResult,
  FailedRecord,
  DecodedRecord,
  StreamKind,
  RecordOf,
  BatchLimits,
  RetryPolicy,
  ConsumerTuning,
  StreamConsumerOptions,
} from './types';
export { SinkError, StreamError, isRetryable, type StreamErrorCode } from './errors';
export { DLQ_HEADERS, deadLetterMessage, readDeadLetter, type DeadLetter, type DeadLetterInfo, type DeadLetterStage } from './dlq';
export { backoffDelay, backoffCap } from './backoff';
export { installSignalHandlers, type SignalOptions } from './signals';
export { parseConfig, ConfigError, StreamEnvSchema, streamOptionsFromEnv, type ConfigIssue, type StreamEnv } from './config';
export { startHealthServer, DEFAULT_HTTP_HOST, type HealthReport, type HealthServer } from './http';
