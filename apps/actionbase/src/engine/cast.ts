import type { FieldType, KeyType } from '../catalog/model';
import { badRequest } from '../errors';

import { LIMITS } from './limits';

/**
 * Casts request values to schema types (docs/model.md: "values are cast to the schema types").
 * Numeric strings are accepted for numbers, as Actionbase does, but only in plain decimal: `Number()`
 * would also take "0x10", "0b11", "1e3" and " 7 ", which no client means as a version or an id.
 * Anything else that does not fit is a 400 naming the field.
 */

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** A UTF-16 code unit of a surrogate pair standing alone: not encodable as UTF-8, so never readable back. */
const LONE_SURROGATE = /\p{Cs}/u;

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * An integer as the project holds LONG values: a JS number within ±(2^53-1), a bigint beyond it (up
 * to 64 bits). Undefined for anything else, including a number that already lost precision.
 */
function toInteger(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  const big = typeof v === 'bigint' ? v : typeof v === 'string' && INTEGER_TEXT.test(v) ? BigInt(v) : undefined;
  if (big === undefined || big < LONG_MIN || big > LONG_MAX) return undefined;
  const n = Number(big);
  return Number.isSafeInteger(n) ? n : big;
}

function toDecimal(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && DECIMAL_TEXT.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * The rule for every string key (source, target, multi-edge id): whatever can be written can be read
 * back through `edges/get?source=a,b`, which splits on commas, trims, and travels in a URL.
 */
export function checkStringKey(s: string, field: string): string {
  if (s === '') throw badRequest(field, 'must not be empty');
  if (s.trim() !== s) throw badRequest(field, 'must not start or end with whitespace');
  if (s.includes(',')) throw badRequest(field, 'must not contain a comma (reads take comma-separated keys)');
  if (LONE_SURROGATE.test(s)) throw badRequest(field, 'contains a lone UTF-16 surrogate (not valid Unicode text)');
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > LIMITS.keyBytes) throw badRequest(field, `is ${bytes} bytes; keys are at most ${LIMITS.keyBytes} bytes (UTF-8)`);
  return s;
}

export function castKey(v: unknown, type: KeyType, field: string): string | number | bigint {
  if (v === undefined || v === null) throw badRequest(field, `required (${type})`);
  if (type === 'STRING') {
    if (typeof v === 'string') return checkStringKey(v, field);
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw badRequest(field, `expected STRING, got ${describe(v)}`);
  }
  const n = toInteger(v);
  if (n === undefined) throw badRequest(field, `expected LONG (64-bit integer), got ${describe(v)}`);
  return n;
}

export function castField(v: unknown, type: FieldType, field: string): unknown {
  if (v === null) return null;
  switch (type) {
    case 'LONG':
    case 'INT': {
      const n = toInteger(v);
      if (n === undefined) throw badRequest(field, `expected ${type}, got ${describe(v)}`);
      if (type === 'INT' && (typeof n === 'bigint' || n < INT_MIN || n > INT_MAX)) throw badRequest(field, `expected INT (32-bit), got ${n}`);
      return n;
    }
    case 'DOUBLE': {
      const n = toDecimal(v);
      if (n === undefined) throw badRequest(field, `expected DOUBLE, got ${describe(v)}`);
      return n;
    }
    case 'STRING':
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      throw badRequest(field, `expected STRING, got ${describe(v)}`);
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw badRequest(field, `expected BOOLEAN, got ${describe(v)}`);
    case 'JSON':
      return v;
  }
}

export function castVersion(v: unknown, field: string): number | bigint {
  if (v === undefined || v === null) throw badRequest(field, 'required: the version (ordering stamp, ms or ns) of the mutation');
  const n = toInteger(v);
  if (n === undefined) throw badRequest(field, `expected an integer version, got ${describe(v)}`);
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'object';
  if (typeof v === 'bigint') return `integer ${v}`;
  return `${typeof v} ${String(v)}`;
}
