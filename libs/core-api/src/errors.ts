/**
 * Every failure of a call to the core, as one class: what was asked, what came back, and whether asking again
 * can change the answer.
 */
import { PipelineError } from '@pipeline/errors';

/**
 * Answers about this deployment or this moment, not the request: a wrong token (401) would dead-letter or skip
 * every record if taken as final, which is worse than waiting for an operator; 408/425/429 pass with time.
 */
const RETRYABLE_4XX = new Set([401, 408, 425, 429]);

/**
 * `code`: the core's error code (e.g. INVALID_REQUEST), else `HTTP_<status>`, or CORE_UNAVAILABLE without an
 * answer. `retryable`: whether the same request may succeed later: no answer, 5xx, 401/408/425/429; a 4xx
 * otherwise will not.
 */
export class CoreError extends PipelineError {
  override readonly name = 'CoreError';
  /** The field the core named, e.g. `mutations[3].edge.version`. */
  readonly field: string | null;
  /** The core's own message, without the request line. */
  readonly detail: string;

  constructor(
    /** `METHOD path` */
    readonly request: string,
    /** null when no answer came (refused, reset, timeout). */
    readonly status: number | null,
    readonly body: unknown,
    opts: { retryable?: boolean; cause?: unknown } = {},
  ) {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { code?: unknown; message?: unknown; field?: unknown };
    const code = typeof b.code === 'string' ? b.code : status === null ? 'CORE_UNAVAILABLE' : `HTTP_${status}`;
    const detail = typeof b.message === 'string' ? b.message : status === null ? 'no answer' : `HTTP ${status}`;
    const field = typeof b.field === 'string' ? b.field : null;
    super(code, `${request}: ${status ?? 'no answer'} ${code} ${detail}${field ? ` (${field})` : ''}`, {
      retryable: opts.retryable ?? (status === null || status >= 500 || RETRYABLE_4XX.has(status)),
      cause: opts.cause,
    });
    this.detail = detail;
    this.field = field;
  }
}
