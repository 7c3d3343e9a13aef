import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import { PipelineError } from '@pipeline/errors';

/** Stable error codes of the REST API (a closed list). */
export type ApiErrorCode =
  | 'INVALID_REQUEST'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'WAL_UNAVAILABLE'
  | 'READ_ONLY'
  | 'OVERLOADED'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL';

/**
 * An answer of the REST API that is not a success. `retryable`: whether the client may send the same request
 * unchanged later, which only a 503 says (the WAL's Kafka is unavailable, the core is at its in-flight limit).
 */
export class ApiError extends PipelineError {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    override readonly code: ApiErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { retryable: status === 503, cause: options?.cause });
  }

  /** Actionbase's error body (`timestamp, status, error, message`), plus our `code` and `field`. */
  toJSON(): Record<string, unknown> {
    return {
      timestamp: Date.now(),
      status: this.status,
      error: STATUS_CODES[this.status] ?? 'Error',
      message: this.message,
      code: this.code,
      ...(this.field ? { field: this.field } : {}),
    };
  }
}

export const badRequest = (field: string, message: string): ApiError =>
  new ApiError(400, 'INVALID_REQUEST', `${field}: ${message}`, field);

export const notFound = (what: string): ApiError => new ApiError(404, 'NOT_FOUND', `${what} not found`);

/** Turns the first zod issue into a 400 naming the field path, e.g. `mutations[0].edge.version`. */
export function fromZod(error: z.ZodError, root = ''): ApiError {
  const issue = error.issues[0];
  if (!issue) return badRequest(root || 'body', 'invalid');
  const field = formatPath(root, issue.path);
  return badRequest(field, issue.message);
}

export function formatPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || 'body';
}
