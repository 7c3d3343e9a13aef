import { z } from 'zod';

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
