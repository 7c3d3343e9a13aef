import type { ResolvedTable } from '../catalog/catalog';
import { badRequest } from '../errors';
import { castField } from './cast';

export type Op = 'eq' | 'gt' | 'gte' | 'lt' | 'lte' | 'bt' | 'in';
export interface Predicate {
  field: string;
  op: Op;
  values: unknown[];
}

const OPS = new Set<Op>(['eq', 'gt', 'gte', 'lt', 'lte', 'bt', 'in']);

/**
 * Parses the `ranges` / `filters` grammar of the scan API (docs/api.md): `field:op:value;...` with
 * ops eq gt gte lt lte bt(a,b) in(a,b,c). `bt` and `in` take comma-separated values, with or
 * without parentheses. Values are cast to the field's schema type.
 */
export function parsePredicates(raw: string | undefined, table: ResolvedTable, param: string): Predicate[] {
  if (!raw) return [];
  return raw
    .split(';')
    .filter((s) => s.trim() !== '')
    .map((part, i) => {
      const at = `${param}[${i}]`;
      const first = part.indexOf(':');
      const second = part.indexOf(':', first + 1);
      if (first < 0 || second < 0) throw badRequest(at, `expected field:op:value, got ${JSON.stringify(part)}`);
      const field = part.slice(0, first).trim();
      const op = part.slice(first + 1, second).trim() as Op;
      let value = part.slice(second + 1).trim();
      const f = table.fieldsByName.get(field);
      if (!f) throw badRequest(at, `unknown property ${JSON.stringify(field)}`);
      if (!OPS.has(op)) throw badRequest(at, `unknown op ${JSON.stringify(op)}; one of eq gt gte lt lte bt in`);
      if (value.startsWith('(') && value.endsWith(')')) value = value.slice(1, -1);
      const rawValues = op === 'bt' || op === 'in' ? value.split(',') : [value];
      if (op === 'bt' && rawValues.length !== 2) throw badRequest(at, 'bt takes two values: bt(low,high)');
      return { field, op, values: rawValues.map((v) => castField(v.trim(), f.type, `${at}.${field}`)) };
    });
}

const numeric = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';

function cmp(a: unknown, b: unknown): number {
  // number and bigint compare exactly with each other (a LONG beyond 2^53 is a bigint)
  if (numeric(a) && numeric(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function matches(p: Predicate, value: unknown): boolean {
  if (value === null || value === undefined) return false;
  const [a, b] = p.values;
  switch (p.op) {
    case 'eq':
      return cmp(value, a) === 0;
    case 'gt':
      return cmp(value, a) > 0;
    case 'gte':
      return cmp(value, a) >= 0;
    case 'lt':
      return cmp(value, a) < 0;
    case 'lte':
      return cmp(value, a) <= 0;
    case 'bt':
      return cmp(value, a) >= 0 && cmp(value, b) <= 0;
    case 'in':
      return p.values.some((v) => cmp(value, v) === 0);
  }
}
