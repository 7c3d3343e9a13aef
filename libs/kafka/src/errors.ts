import { PipelineError } from '@pipeline/errors';

/**
 * The broker cannot be reached, or did not answer in time, or answered with an error the client marks
 * retriable (no leader or coordinator for the moment). Retrying later can succeed. Anything else (a rejected
 * config, a bad argument, a topic that already exists, a send to a topic the client does not know) is thrown as
 * the client's own error, unwrapped.
 */
export class KafkaUnavailableError extends PipelineError {
  override readonly name = 'KafkaUnavailableError';
  override readonly code = 'KAFKA_UNAVAILABLE' as const;
  override readonly retryable = true as const;
  /** What was being done, e.g. "send to edges.wal". */
  readonly operation: string;
  readonly brokers: string[];

  constructor(operation: string, brokers: string[], cause: unknown) {
    super('KAFKA_UNAVAILABLE', `Kafka unavailable (${brokers.join(',')}): ${operation} failed: ${describe(cause)}`, { retryable: true, cause });
    this.operation = operation;
    this.brokers = brokers;
  }
}

export function isKafkaUnavailable(err: unknown): err is KafkaUnavailableError {
  return err instanceof KafkaUnavailableError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'KAFKA_UNAVAILABLE');
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

interface ErrorLike {
  code?: unknown;
  canRetry?: unknown;
  apiId?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * True when the error (or one it wraps) says the broker is unreachable, timed out, or answered "not now":
 * no leader or coordinator yet, not enough in-sync replicas, too many requests. Which broker answers are "not now"
 * is the client's call: its protocol errors carry `canRetry` (Kafka's RetriableException list). Network
 * errors and timeouts count whatever their flag: the client does not repeat a timed-out request itself, but
 * the operation may well succeed later.
 */
export function isUnavailability(err: unknown, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as ErrorLike;
  if (e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || e.code === 'KAFKA_UNAVAILABLE') return true;
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  if (e.code === 'PLT_KFK_PROTOCOL') return e.canRetry === true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isUnavailability(x, depth + 1))) return true;
  return isUnavailability(e.cause, depth + 1);
}

/**
 * True when a broker answered, with an error the client marks retriable (canRetry), as opposed to not being
 * reached at all. A fresh broker answers COORDINATOR_NOT_AVAILABLE until its offsets topic is up: worth
 * waiting for, where an unreachable broker should fail fast.
 */
export function isRetriableAnswer(err: unknown, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as ErrorLike;
  if (e.code === 'PLT_KFK_PROTOCOL') return e.canRetry === true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isRetriableAnswer(x, depth + 1))) return true;
  return isRetriableAnswer(e.cause, depth + 1);
}

/** Wraps unavailability in KafkaUnavailableError; returns other errors unchanged. */
export function toKafkaError(err: unknown, operation: string, brokers: string[]): unknown {
  if (err instanceof KafkaUnavailableError) return err;
  return isUnavailability(err) ? new KafkaUnavailableError(operation, brokers, err) : err;
}

function describe(err: unknown, depth = 0): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const e = err as ErrorLike;
  const msg = typeof e.message === 'string' && e.message ? e.message : String(e.code ?? 'error');
  if (depth > 3) return msg;
  const inner = Array.isArray(e.errors) && e.errors.length ? e.errors[e.errors.length - 1] : e.cause;
  if (inner && typeof inner === 'object') {
    const sub = describe(inner, depth + 1);
    if (sub && !msg.includes(sub)) return `${msg} <- ${sub}`;
  }
  return msg;
}
