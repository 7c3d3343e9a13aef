/**
 * The broker cannot be reached, or did not answer in time, or has no leader/coordinator for the moment.
 * Retrying later can succeed. Anything else (a missing topic, a rejected config, a bad argument) is thrown
 * as the client's own error, unwrapped.
 */
export class KafkaUnavailableError extends Error {
  readonly code = 'KAFKA_UNAVAILABLE' as const;
  readonly retryable = true as const;
  /** What was being done, e.g. "send to edges.wal". */
  readonly operation: string;
  readonly brokers: string[];

  constructor(operation: string, brokers: string[], cause: unknown) {
    super(`Kafka unavailable (${brokers.join(',')}): ${operation} failed: ${describe(cause)}`, { cause });
    this.name = 'KafkaUnavailableError';
    this.operation = operation;
    this.brokers = brokers;
  }
}

export function isKafkaUnavailable(err: unknown): err is KafkaUnavailableError {
  return err instanceof KafkaUnavailableError || (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'KAFKA_UNAVAILABLE');
}

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** Broker answers that mean "not now", not "no". */
const TRANSIENT_PROTOCOL = new Set([
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'REPLICA_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'NOT_CONTROLLER',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'THROTTLING_QUOTA_EXCEEDED',
]);

interface ErrorLike {
  code?: unknown;
  apiId?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** True when the error (or one it wraps) says the broker is unreachable, timed out, or transiently without a leader. */
export function isUnavailability(err: unknown, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as ErrorLike;
  if (e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || e.code === 'KAFKA_UNAVAILABLE') return true;
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
  if (typeof e.apiId === 'string' && TRANSIENT_PROTOCOL.has(e.apiId)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isUnavailability(x, depth + 1))) return true;
  return isUnavailability(e.cause, depth + 1);
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
