/**
 * What every error of the pipeline says about itself, so that a consumer, a command or an alert can act on
 * any of them alike: a stable `code` (UPPER_SNAKE_CASE, for logs, metrics, DLQ headers), whether a retry of
 * the same thing can succeed (`retryable`), and the lower-level error behind it (`cause`).
 */
export interface PipelineErrorOptions {
  /** Whether doing the same again later can succeed (the target is down, overloaded, timed out). */
  retryable: boolean;
  cause?: unknown;
}

export class PipelineError extends Error {
  /** Stable, from a closed list per error class: what alerts and DLQ triage match on. */
  readonly code: string;
  readonly retryable: boolean;

  constructor(code: string, message: string, opts: PipelineErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable;
  }
}

/**
 * Whether a retry can help. Errors say so with a boolean `retryable` (every PipelineError does; errors crossing
 * a thread boundary keep the flag). An error that does not say is taken as retryable: pausing on a bug costs
 * time, dead-lettering on an outage loses the order of a partition and floods the DLQ.
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
