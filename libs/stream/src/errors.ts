import { PipelineError } from '@pipeline/errors';

/**
 * A sink's answer about a failed write. `retryable` decides between "wait and write again" (the target is down,
 * overloaded, timed out) and "this record will never go in" (rejected mapping, invalid document): the first
 * pauses the stream, the second dead-letters the record and the partition goes on.
 */
export class SinkError extends PipelineError {
  override readonly name = 'SinkError';

  /** `code`: stable, for alerts and DLQ triage: UPPER_SNAKE_CASE, e.g. SINK_UNAVAILABLE, DOCUMENT_REJECTED. */
  constructor(code: string, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(code, message, opts);
  }
}

/** Why a stream consumer stopped on its own or could not stop cleanly. */
export type StreamErrorCode =
  /** maxAttempts retryable failures in a row (sink write, DLQ produce). */
  | 'RETRIES_EXHAUSTED'
  /** stop() could not drain within shutdownTimeoutMs; the records not written stay uncommitted. */
  | 'SHUTDOWN_TIMEOUT'
  /** A dead letter could not be produced for a reason a retry cannot fix. */
  | 'DLQ_FAILED'
  /** The Kafka consumer stopped on an error (not a transient one: those are retried inside it). */
  | 'CONSUMER_FAILED'
  /** start() failed: sink start, DLQ topic, producer or group join. */
  | 'START_FAILED'
  /** A wait was cut short by stop(). */
  | 'ABORTED';

export class StreamError extends PipelineError {
  override readonly name = 'StreamError';
  declare readonly code: StreamErrorCode;
  override readonly retryable = false as const;

  constructor(code: StreamErrorCode, message: string, cause?: unknown) {
    super(code, message, { retryable: false, cause });
  }
}

// How any error is read (retryable, code, message) is the pipeline's, in @pipeline/errors.
export { isRetryable, errorCode, errorMessage } from '@pipeline/errors';
