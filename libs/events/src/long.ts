import { z } from 'zod';
import { PipelineError } from '@pipeline/errors';
import type { CdcState } from './cdc.schema';

/**
 * LONG (64-bit) values, project-wide: an integer within ±(2^53 - 1) is a JS number, a larger one a bigint;
 * on the wire both are plain JSON integers, never quoted. JSON.parse would round the large ones silently
 * (9007199254740993 -> 9007199254740992), merging two distinct keys or versions, so decode.ts parses them
 * losslessly and encode.ts writes bigints as integers.
 */
export type Long = number | bigint;

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** The bigint half of a LONG: the signed 64-bit range (Actionbase's Kotlin Long). */
export const BigLongSchema = z.bigint().min(INT64_MIN).max(INT64_MAX);

/** A LONG: a safe integer number, or a bigint in the signed 64-bit range. */
export const LongSchema = z.union([z.number().int(), BigLongSchema]);

/** Same accept set as LongSchema, for the hand-compiled checker (fast-decode.ts). */
export function isLong(v: unknown): v is Long {
  return typeof v === 'number' ? Number.isSafeInteger(v) : typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX;
}

/** The canonical in-memory form of an integer literal: a number when it is exact as one, else a bigint. */
export function longOf(digits: string): Long {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

/**
 * Thrown where a consumer still needs a JS number and meets a LONG beyond 2^53. Not retryable (the same
 * record fails the same way), so the stream runtime isolates the record and dead-letters it with this code
 * rather than rounding it into another id or version.
 */
export class LongRangeError extends PipelineError {
  override readonly name = 'LongRangeError';
  override readonly code = 'LONG_BEYOND_SAFE_INTEGER' as const;
  override readonly retryable = false as const;

  constructor(message: string) {
    super('LONG_BEYOND_SAFE_INTEGER', message, { retryable: false });
  }
}

/** `v` as a number, for code that does not handle bigint LONGs yet; LongRangeError (naming `what`) beyond 2^53. */
export function safeNumber(v: Long, what: string): number {
  if (typeof v === 'number') return v;
  throw new LongRangeError(`${what} is ${v}, beyond ±(2^53 - 1): this consumer does not handle 64-bit values there yet`);
}

/** An endpoint or id as a string or a number; LongRangeError for a bigint (see safeNumber). */
export function safeEndpoint(v: string | Long, what: string): string | number {
  return typeof v === 'bigint' ? safeNumber(v, what) : v;
}

/** A CDC state with every LONG as a number: for consumers that do not handle bigint LONGs yet. */
export interface SafeCdcState {
  source: string | number;
  target: string | number;
  edgeId?: string | number;
  active: boolean;
  version: number;
  createdAt: number | null;
  deletedAt: number | null;
  properties: Record<string, { value: unknown; version: number }>;
}

/** `s` with its LONGs as numbers (property values are left as they are); LongRangeError beyond 2^53. */
export function safeState(s: CdcState): SafeCdcState {
  const properties: SafeCdcState['properties'] = {};
  for (const [k, c] of Object.entries(s.properties)) properties[k] = { value: c.value, version: safeNumber(c.version, `properties.${k}.version`) };
  return {
    source: safeEndpoint(s.source, 'source'),
    target: safeEndpoint(s.target, 'target'),
    ...(s.edgeId !== undefined && { edgeId: safeEndpoint(s.edgeId, 'edgeId') }),
    active: s.active,
    version: safeNumber(s.version, 'version'),
    createdAt: s.createdAt === null ? null : safeNumber(s.createdAt, 'createdAt'),
    deletedAt: s.deletedAt === null ? null : safeNumber(s.deletedAt, 'deletedAt'),
    properties,
  };
}
