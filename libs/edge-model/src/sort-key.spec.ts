import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { encodeSortKey, prefixUpperBound } from './sort-key';

/** The project's LONG convention: safe integers as numbers, beyond ±(2^53-1) as bigint. */
const long = fc.oneof(
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }).map((n) => n as number | bigint),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => (b >= -(2n ** 53n - 1n) && b <= 2n ** 53n - 1n ? Number(b) : b)),
  // near the edges of exact doubles, where rounding would lose order
  fc.bigInt({ min: 2n ** 53n - 10n, max: 2n ** 53n + 4096n }).map((b) => (b <= 2n ** 53n - 1n ? Number(b) : b)),
  fc.bigInt({ min: 2n ** 63n - 5000n, max: 2n ** 63n - 1n }),
  fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 63n) + 5000n }),
);
const asBig = (v: number | bigint) => (typeof v === 'bigint' ? v : BigInt(v));
const refLong = (a: number | bigint, b: number | bigint) => (asBig(a) < asBig(b) ? -1 : asBig(a) > asBig(b) ? 1 : 0);
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

describe('sort-key encoding preserves order', () => {
  it('LONG values (numbers and bigints), ASC and DESC, against BigInt comparison', () => {
    fc.assert(
      fc.property(long, long, (a, b) => {
        const ref = refLong(a, b);
        expect(sign(Buffer.compare(encodeSortKey([a], ['ASC']), encodeSortKey([b], ['ASC'])))).toBe(ref);
        expect(sign(Buffer.compare(encodeSortKey([a], ['DESC']), encodeSortKey([b], ['DESC'])))).toBe(ref === 0 ? 0 : -ref);
      }),
      { numRuns: 5000 },
    );
  });

  it('composite keys order by the first component, then the next (prefix-free components)', () => {
    fc.assert(
      fc.property(long, fc.string(), long, fc.string(), fc.constantFrom('ASC', 'DESC'), fc.constantFrom('ASC', 'DESC'), (a1, s1, a2, s2, o1, o2) => {
        const orders = [o1, o2] as ('ASC' | 'DESC')[];
        const k1 = encodeSortKey([a1, s1], orders);
        const k2 = encodeSortKey([a2, s2], orders);
        const first = refLong(a1, a2) * (o1 === 'DESC' ? -1 : 1);
        const second = (s1 < s2 ? -1 : s1 > s2 ? 1 : 0) * (o2 === 'DESC' ? -1 : 1);
        expect(sign(Buffer.compare(k1, k2))).toBe(first !== 0 ? first : second);
      }),
      { numRuns: 3000 },
    );
  });

  it('doubles, strings (UTF-8 byte order), booleans and null, against a reference sort', () => {
    const value = fc.oneof(fc.double({ noNaN: true }), fc.constant(null));
    fc.assert(
      fc.property(fc.array(value, { minLength: 2, maxLength: 30 }), (xs) => {
        const ref = [...xs].sort((a, b) => (a === null ? (b === null ? 0 : -1) : b === null ? 1 : a - b));
        const byKey = [...xs].sort((a, b) => Buffer.compare(encodeSortKey([a], ['ASC']), encodeSortKey([b], ['ASC'])));
        expect(byKey.map((v) => (v === 0 ? 0 : v))).toEqual(ref.map((v) => (v === 0 ? 0 : v)));
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        const ref = sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
        expect(sign(Buffer.compare(encodeSortKey([a], ['ASC']), encodeSortKey([b], ['ASC'])))).toBe(ref);
        expect(sign(Buffer.compare(encodeSortKey([a], ['DESC']), encodeSortKey([b], ['DESC'])))).toBe(ref === 0 ? 0 : -ref);
      }),
    );
    expect(Buffer.compare(encodeSortKey([false], ['ASC']), encodeSortKey([true], ['ASC']))).toBe(-1);
  });

  it('a prefix upper bound is above every key that starts with the prefix', () => {
    fc.assert(
      fc.property(long, long, fc.constantFrom('ASC', 'DESC'), (a, b, o) => {
        const prefix = encodeSortKey([a], [o as 'ASC' | 'DESC']);
        const key = encodeSortKey([a, b], [o as 'ASC' | 'DESC', 'ASC']);
        expect(Buffer.compare(key, prefixUpperBound(prefix))).toBe(-1);
        expect(Buffer.compare(prefix, key)).toBe(-1);
      }),
    );
  });

  it('equal values encode equally: a safe bigint as its number, -0 as 0', () => {
    expect(encodeSortKey([5n], ['ASC'])).toEqual(encodeSortKey([5], ['ASC']));
    expect(encodeSortKey([-0], ['ASC'])).toEqual(encodeSortKey([0], ['ASC']));
    expect(Buffer.compare(encodeSortKey([9007199254740993n], ['ASC']), encodeSortKey([9007199254740992n], ['ASC']))).toBe(1);
  });
});
