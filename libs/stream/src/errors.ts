/**
 * A sink's answer about a failed write. `retryable` decides between "wait and write again" (the target is down,
 * overloaded, timed out) and "this record will never go in" (rejected mapping, invalid document): the first
 * pauses the stream, the second dead-letters the record and the partition goes on.
 */
export class SinkError extends Error {
  override readonly name = 'SinkError';
  /** Stable, for alerts and DLQ triage: UPPER_SNAKE_CASE, e.g. SINK_UNAVAILABLE, DOCUMENT_REJECTED. */
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: { retryable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retryable = opts.retryable;
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

export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly code: StreamErrorCode;
  readonly retryable = false as const;

  constructor(code: StreamErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/**
 * Errors say whether a retry can help with a boolean `retryable` (SinkError, KafkaUnavailableError,
 * EventDecodeError all do). An error that does not say is taken as retryable: pausing on a bug costs time,
 * dead-lettering on an outage loses the order of a partition and floods the DLQ.
 */
export function isRetryable(err: unknown): boolean {
  if (typeof err === 'object' && err !== null && typeof (err as { retryable?: unknown }).retryable === 'boolean') {
    return (err as { retryable: boolean }).retryable;
  }
  return true;
}

/** The stable code of an error for logs and DLQ headers; `fallback` when it has none. */
export function errorCode(err: unknown, fallback: string): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code ? code : fallback;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
