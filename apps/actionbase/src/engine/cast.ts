import type { FieldType, KeyType } from '../catalog/model';
import { badRequest } from '../errors';

/**
 * Casts request values to schema types (domain.md: "values are cast to the schema types").
 * Numeric strings are accepted for numbers, as Actionbase does; anything else that does not fit
 * is a 400 naming the field.
 */

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function castKey(v: unknown, type: KeyType, field: string): string | number {
  if (v === undefined || v === null) throw badRequest(field, `required (${type})`);
  if (type === 'STRING') {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw badRequest(field, `expected STRING, got ${describe(v)}`);
  }
  const n = toNumber(v);
  if (n === undefined || !Number.isSafeInteger(n)) throw badRequest(field, `expected LONG, got ${describe(v)}`);
  return n;
}

export function castField(v: unknown, type: FieldType, field: string): unknown {
  if (v === null) return null;
  switch (type) {
    case 'LONG':
    case 'INT': {
      const n = typeof v === 'boolean' ? undefined : toNumber(v);
      if (n === undefined || !Number.isSafeInteger(n)) throw badRequest(field, `expected ${type}, got ${describe(v)}`);
      if (type === 'INT' && (n < INT_MIN || n > INT_MAX)) throw badRequest(field, `expected INT (32-bit), got ${n}`);
      return n;
    }
    case 'DOUBLE': {
      const n = typeof v === 'boolean' ? undefined : toNumber(v);
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

export function castVersion(v: unknown, field: string): number {
  if (v === undefined || v === null) throw badRequest(field, 'required: the version (ordering stamp, ms or ns) of the mutation');
  const n = toNumber(v);
  if (n === undefined || !Number.isSafeInteger(n)) throw badRequest(field, `expected an integer version, got ${describe(v)}`);
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}`;
  if (typeof v === 'object') return 'object';
  return `${typeof v} ${String(v)}`;
}
