import type { z } from 'zod';
import { PipelineError } from '@pipeline/errors';

export type EventDecodeErrorCode = 'MALFORMED_JSON' | 'UNKNOWN_VERSION' | 'INVALID_RECORD';

interface ErrorInit {
  code: EventDecodeErrorCode;
  /** Dotted path of the offending field in the input (`event.version`, `events[0].id`); '' for the whole record. */
  path: string;
  message: string;
  cause?: unknown;
}

/**
 * A record that cannot be decoded. Never retryable: the same bytes fail the same way every time, so a
 * consumer should dead-letter the message rather than retry it (retrying would stall the partition).
 */
export class EventDecodeError extends PipelineError {
  override readonly name = 'EventDecodeError';
  declare readonly code: EventDecodeErrorCode;
  readonly path: string;
  override readonly retryable = false as const;

  constructor(init: ErrorInit) {
    super(init.code, init.message, { retryable: false, cause: init.cause });
    this.path = init.path;
  }
}

/**
 * A record the application tried to publish does not match the schema. A separate class from
 * EventDecodeError because it signals a bug in the producer, not bad data on a topic; the fields are the
 * same so logging and alerting code can treat both alike.
 */
export class EventEncodeError extends PipelineError {
  override readonly name = 'EventEncodeError';
  override readonly code = 'INVALID_RECORD' as const;
  readonly path: string;
  override readonly retryable = false as const;

  constructor(init: { path: string; message: string; cause?: unknown }) {
    super('INVALID_RECORD', init.message, { retryable: false, cause: init.cause });
    this.path = init.path;
  }
}

/** `['events', 0, 'version']` -> `events[0].version`; keys that are not plain identifiers are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

export function describePath(path: string): string {
  return path === '' ? '(root)' : path;
}

/** A short rendering of a bad scalar for an error message; never the whole record. */
export function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 60 ? `${text.slice(0, 57)}...` : text;
  } catch {
    // bigint or cyclic: fall through
  }
  return String(value);
}

/** What a value is, in the words of the error messages ("received string"). */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

/**
 * Zod's own messages are written for forms ("Invalid input: ..."); ours must say, for someone reading a
 * consumer's log, which field of which record was wrong and what was expected there.
 */
export function explainIssue(issue: z.core.$ZodIssue, input: unknown): { path: string; detail: string } {
  const path = formatPath(issue.path);
  const { present, value } = lookup(input, issue.path);
  const received = present ? describeValue(value) : 'nothing (field missing)';
  switch (issue.code) {
    case 'invalid_type': {
      const expected =
        issue.expected === 'int'
          ? 'integer'
          : issue.expected === 'nonoptional'
            ? 'a value (null when unset)'
            : issue.expected;
      return { path, detail: `expected ${expected}, received ${received}` };
    }
    case 'invalid_union': {
      // A union of scalars (source/target) fails with one invalid_type per branch: name them all. A LONG's
      // halves (number, bigint) are one thing on the wire: an integer.
      const expected = [
        ...new Set(
          issue.errors.flatMap((branch) =>
            branch.flatMap((i) => (i.code === 'invalid_type' && i.path.length === 0 ? [wireType(String(i.expected))] : [])),
          ),
        ),
      ];
      return {
        path,
        detail: expected.length
          ? `expected ${expected.join(' or ')}, received ${received}`
          : `${issue.message}, received ${received}`,
      };
    }
    case 'invalid_value':
      return {
        path,
        detail: `expected ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}, received ${present ? preview(value) : received}`,
      };
    default:
      return { path, detail: stripZodPrefix(issue.message) };
  }
}

function wireType(expected: string): string {
  return expected === 'number' || expected === 'int' || expected === 'bigint' ? 'integer' : expected;
}

function stripZodPrefix(message: string): string {
  const text = message.replace(/^(Invalid input|Invalid option|Too small|Too big|Invalid string):\s*/, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function lookup(input: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let current: unknown = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, segment)) {
      return { present: false, value: undefined };
    }
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return { present: true, value: current };
}

/** Turns a failed parse into one message naming the first bad field (and how many more there are). */
export function summarizeZodError(error: z.ZodError, input: unknown): { path: string; detail: string } {
  const [first, ...rest] = error.issues;
  if (!first) return { path: '', detail: 'invalid' };
  const { path, detail } = explainIssue(first, input);
  return { path, detail: rest.length ? `${detail} (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : detail };
}

/** Parses `input` with `schema` or throws an EventDecodeError naming the first bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const { path, detail } = summarizeZodError(result.error, input);
  throw new EventDecodeError({
    code: 'INVALID_RECORD',
    path,
    message: `invalid ${what} at ${describePath(path)}: ${detail}`,
    cause: result.error,
  });
}
