import { parse as parseLossless, stringify as stringifyLossless, isInteger } from 'lossless-json';
import { longOf } from './long';

/*
 * JSON for records that may hold LONGs (long.ts). Parsing: the native JSON.parse is several times faster than
 * any parser written in JS (lossless-json included, bench/stream-runtime.ts), and it is exact for every
 * integer up to 2^53 - 1: every integer of 15 digits or fewer, and of 16 digits up to 9007199254740991. That
 * is nearly every record: epoch ms stamps have 13 digits, the core's CDC seq (2048 ticks per ms) 16 below that bound.
 * So the text is first scanned for a run of digits that may be beyond it; only a text that has one goes
 * through lossless-json, whose number hook keeps large integers as bigints. A run inside a string (an id)
 * costs at most the slower parse; the result is the same.
 */

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const QUOTE = 34;

/** Number.MAX_SAFE_INTEGER's digits: a run of 16 digits up to this is exact under JSON.parse. */
const MAX_SAFE_DIGITS = String(Number.MAX_SAFE_INTEGER);

/** Whether the 16 digits at text[start, start + 16) are above 9007199254740991 (digit by digit, no allocation). */
function beyondSafe16(text: string, start: number): boolean {
  for (let k = 0; k < 16; k++) {
    const d = text.charCodeAt(start + k) - MAX_SAFE_DIGITS.charCodeAt(k);
    if (d !== 0) return d > 0;
  }
  return false;
}

/**
 * Whether `text` has a run of ASCII digits that may be an integer JSON.parse would round: 17 or more digits,
 * or 16 above 9007199254740991 (Number.MAX_SAFE_INTEGER). A run touching a double quote is inside a string
 * (in JSON a number never follows or precedes a quote), such as a document id ending in a 16-digit seq, and is
 * left to JSON.parse. A run of 16 or more covers one of every 16 positions, so only those are read, and a run
 * is measured only around a digit found there: a fraction of a regex scan (/\d{16}/ tries a match at every
 * digit of every 13-digit timestamp). A run of fraction digits may also send a text to the slower parser; it
 * parses to the same number there.
 */
export function hasLongDigitRun(text: string): boolean {
  const n = text.length;
  for (let i = 15; i < n; i += 16) {
    if (!isDigit(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < n && isDigit(text.charCodeAt(end))) end++;
    const len = end - start;
    // A shorter run ends before the next sample (i + 16); a run of exactly 16 holds one sample; a longer one may
    // be measured again, to the same answer.
    if (len < 16 || text.charCodeAt(start - 1) === QUOTE || text.charCodeAt(end) === QUOTE) continue;
    if (len > 16 || beyondSafe16(text, start)) return true;
  }
  return false;
}

function parseNumber(text: string): unknown {
  return isInteger(text) ? longOf(text) : Number(text);
}

/** Like JSON.parse, except that integers beyond ±(2^53 - 1) come back as exact bigints. */
export function parseJson(text: string): unknown {
  if (!hasLongDigitRun(text)) return JSON.parse(text);
  // JSON.parse keeps the last of duplicated keys; so does this (lossless-json throws by default).
  return parseLossless(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** Like JSON.stringify (no replacer, no indentation), except that bigints are written as JSON integers. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // JSON.stringify refuses bigints (TypeError); only then does a record pay for the slower writer.
    if (!(err instanceof TypeError) || !/BigInt/i.test(err.message)) throw err;
    return stringifyLossless(value) as string;
  }
}
