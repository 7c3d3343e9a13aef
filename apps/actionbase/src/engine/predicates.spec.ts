import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { ResolvedTable } from '../catalog/catalog';
import type { FieldDef } from '../catalog/model';
import { matches, parsePredicates } from './predicates';

const field = (name: string, type: FieldDef['type']): [string, FieldDef] => [name, { name, type, nullable: true, comment: '' }];
const table = { fieldsByName: new Map([field('n', 'LONG'), field('s', 'STRING'), field('d', 'DOUBLE'), field('b', 'BOOLEAN')]) } as unknown as ResolvedTable;

describe('predicates', () => {
  it('parses field:op:value;... with bt and in lists, with or without parentheses, cast to the field type', () => {
    expect(parsePredicates('n:gt:5;s:in:(a,b);d:bt:1.5,2', table, 'filters')).toEqual([
      { field: 'n', op: 'gt', values: [5] },
      { field: 's', op: 'in', values: ['a', 'b'] },
      { field: 'd', op: 'bt', values: [1.5, 2] },
    ]);
    expect(parsePredicates(undefined, table, 'filters')).toEqual([]);
  });

  it('refuses what it cannot apply, naming the predicate', () => {
    const bad: [string, RegExp][] = [
      ['n', /expected field:op:value/],
      ['x:eq:1', /unknown property "x"/],
      ['n:like:1', /unknown op "like"/],
      ['n:bt:1', /bt takes two values/],
      ['n:eq:0x10', /expected LONG/],
      ['n:eq:1e3', /expected LONG/],
    ];
    for (const [raw, why] of bad) expect(() => parsePredicates(raw, table, 'filters')).toThrow(why);
    try {
      parsePredicates('n:eq:1;x:eq:1', table, 'ranges');
    } catch (e) {
      expect((e as { field: string }).field).toBe('ranges[1]');
    }
  });

  it('each op agrees with the plain comparison, for numbers and bigints alike', () => {
    const long = fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    fc.assert(
      fc.property(long, long, long, (v, a, b) => {
        const big = (x: number | bigint) => BigInt(x);
        const [lo, hi] = big(a) <= big(b) ? [a, b] : [b, a];
        expect(matches({ field: 'n', op: 'eq', values: [a] }, v)).toBe(big(v) === big(a));
        expect(matches({ field: 'n', op: 'gt', values: [a] }, v)).toBe(big(v) > big(a));
        expect(matches({ field: 'n', op: 'gte', values: [a] }, v)).toBe(big(v) >= big(a));
        expect(matches({ field: 'n', op: 'lt', values: [a] }, v)).toBe(big(v) < big(a));
        expect(matches({ field: 'n', op: 'lte', values: [a] }, v)).toBe(big(v) <= big(a));
        expect(matches({ field: 'n', op: 'bt', values: [lo, hi] }, v)).toBe(big(v) >= big(lo) && big(v) <= big(hi));
        expect(matches({ field: 'n', op: 'in', values: [a, b] }, v)).toBe(big(v) === big(a) || big(v) === big(b));
      }),
    );
  });

  it('an absent or null value matches nothing', () => {
    for (const op of ['eq', 'gt', 'gte', 'lt', 'lte', 'in'] as const) {
      expect(matches({ field: 'n', op, values: [1] }, null)).toBe(false);
      expect(matches({ field: 'n', op, values: [1] }, undefined)).toBe(false);
    }
  });

  it('strings compare by code units', () => {
    expect(matches({ field: 's', op: 'gt', values: ['a'] }, 'b')).toBe(true);
    expect(matches({ field: 's', op: 'lt', values: ['a'] }, 'B')).toBe(true);
  });
});
