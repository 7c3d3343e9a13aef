import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import type { ConsumerOptions, KafkaConfig } from '@pipeline/kafka';

export type StreamKind = 'wal' | 'cdc';

/** The decoded record type of a stream kind. */
export type RecordOf<K extends StreamKind> = K extends 'wal' ? WalRecord : CdcRecord;

/**
 * One decoded record with the Kafka coordinates it came from. `value` and `headers` are the bytes as read,
 * so a sink can keep or forward the original record (and the DLQ can hold it unchanged).
 */
export interface DecodedRecord<R = WalRecord | CdcRecord> {
  kind: StreamKind;
  record: R;
  topic: string;
  partition: number;
  offset: bigint;
  /** The message key as UTF-8 (`source:target`); null for an unkeyed message. */
  key: string | null;
  /** Kafka timestamp of the message (ms). */
  timestamp: number;
  value: Buffer;
  headers: Record<string, Buffer>;
}

/** A record the sink could not take and never will (a retry cannot help): it goes to the DLQ. */
export interface FailedRecord<R = WalRecord | CdcRecord> {
  record: DecodedRecord<R>;
  /** Ideally a SinkError with a stable code; anything else is dead-lettered as SINK_REJECTED. */
  error: unknown;
}

/**
 * What write() may answer. Records named in `failed` are dead-lettered and committed past; every other record
 * of the batch counts as written. Records are matched by (topic, partition, offset), so a sink may name copies.
 */
export interface SinkResult<R = WalRecord | CdcRecord> {
  failed?: FailedRecord<R>[];
}

/**
 * Where a consumer app puts its records (Elasticsearch, files, HTTP, ...). Delivery is at least once: after a
 * crash or a rebalance a record can come again, so write() must be idempotent.
 */
export interface Sink<R = WalRecord | CdcRecord> {
  /** Connects, checks the target, creates what is missing. Consumption starts only after it resolved. */
  start?(): Promise<void>;
  /**
   * Writes a batch, in offset order per partition. Resolving means every record not named in
   * `SinkResult.failed` is durable: the offsets are committed right after. Throw a SinkError (retryable or not)
   * when the batch as a whole failed; any other thrown error counts as retryable.
   */
  write(batch: DecodedRecord<R>[]): Promise<SinkResult<R> | void>;
  /** Pushes out anything the sink buffered. Called once at shutdown, after the last write and before the last commit. */
  flush?(): Promise<void>;
  close?(): Promise<void>;
  /** Readiness of the target (e.g. a client connected). Absent: ready once start() resolved. */
  isReady?(): boolean;
  /** While not ready: why, and what to do about it; shown in /health/readiness. */
  whyNotReady?(): string | undefined;
}

export interface BatchLimits {
  /** Most records handed to one write() (system records and dead letters count too). */
  maxRecords: number;
  /** Most key+value bytes in one write(); a single larger record still goes alone. */
  maxBytes: number;
  /** Longest the first record of a batch waits for more before the batch is written. */
  maxWaitMs: number;
}

export interface RetryPolicy {
  /** First retry waits up to this long (full jitter: a uniform delay in [0, cap)). */
  baseMs: number;
  /** The cap stops doubling here. */
  maxMs: number;
  /**
   * Attempts (the first one included) before the consumer gives up and stops with RETRIES_EXHAUSTED, offsets
   * not committed. Unset: retry for as long as the sink is down, with consumption paused.
   */
  maxAttempts?: number;
}

export type ConsumerTuning = Pick<
  ConsumerOptions,
  'fromBeginning' | 'sessionTimeoutMs' | 'heartbeatIntervalMs' | 'rebalanceTimeoutMs' | 'maxWaitMs' | 'maxBytesPerPartition'
>;

export interface StreamConsumerOptions<K extends StreamKind = StreamKind> {
  kafka: KafkaConfig;
  groupId: string;
  topic: string;
  kind: K;
  sink: Sink<RecordOf<K>>;
  batch: BatchLimits;
  /** Default: dlqTopicName(groupId) (`<group>.dlq`). */
  dlqTopic?: string;
  /** Create the DLQ topic at start when missing (TOPICS.dlq partitions and retention). Default true. */
  ensureDlqTopic?: boolean;
  retry: RetryPolicy;
  logger: Logger;
  /** Where the metrics are registered; a registry of its own by default (served on /metrics either way). */
  metrics?: Registry;
  /**
   * Serves /health/liveness, /health/readiness and /metrics. Port 0 picks a free port (see httpPort()); host
   * defaults to 127.0.0.1 (0.0.0.0 in a container, so the orchestrator's probes and Prometheus reach it).
   */
  http?: { port: number; host?: string };
  /** How long stop() may take to drain before it gives up (offsets of unwritten records stay uncommitted). Default 30 s. */
  shutdownTimeoutMs?: number;
  /** Passed to the Kafka consumer. */
  consumer?: ConsumerTuning;
  /**
   * Runs the Kafka consumer's fetching on a worker thread (worker-consumer.ts), beside decoding and the sink.
   * Needs the TypeScript sources (tsx); default false.
   */
  fetchWorker?: boolean;
}
