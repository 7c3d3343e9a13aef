import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { compareIndexRows, multiEdgeKeyOf, storageKeyOf } from './storage-key';

const one = (values: unknown[]) => values.map((v, i) => ({ key: `["u${i}",1]`, values: [v] }));

describe('index order (as the core sorts index rows)', () => {
  it('puts null before booleans before numbers before strings, strings by UTF-8 bytes', () => {
    const xs = ['b', 3, null, true, -1.5, 'B', false, 'é', 10];
    const sorted = one(xs).sort((a, b) => compareIndexRows(a, b, ['ASC'])).map((r) => r.values[0]);
    expect(sorted).toEqual([null, false, true, -1.5, 3, 10, 'B', 'b', 'é']);
  });

  it('orders LONGs one apart beyond 2^53 (bigint) among numbers', () => {
    const xs = [2n ** 53n + 2n, 9007199254740991, 2n ** 53n + 1n, -(2n ** 60n), 0];
    const sorted = one(xs).sort((a, b) => compareIndexRows(a, b, ['ASC'])).map((r) => r.values[0]);
    expect(sorted).toEqual([-(2n ** 60n), 0, 9007199254740991, 2n ** 53n + 1n, 2n ** 53n + 2n]);
  });

  it('reverses a DESC field and breaks ties by the storage key bytes', () => {
    const rows = [
      { key: '["u2",1]', values: [5, 'a'] },
      { key: '["u1",1]', values: [5, 'a'] },
      { key: '["u3",1]', values: [7, null] },
      { key: '["u4",1]', values: [5, 'z'] },
    ];
    const sorted = [...rows].sort((a, b) => compareIndexRows(a, b, ['DESC', 'ASC'])).map((r) => r.key);
    expect(sorted).toEqual(['["u3",1]', '["u1",1]', '["u2",1]', '["u4",1]']);
  });
});

describe('storage keys', () => {
  const endpoint = fc.oneof(
    fc.string(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
  );

  it('are the JSON text of [source, target] and of an id, LONGs as bare integers', () => {
    fc.assert(
      fc.property(endpoint, endpoint, (s, t) => {
        const json = (e: unknown) => (typeof e === 'bigint' ? e.toString() : JSON.stringify(e));
        expect(storageKeyOf(s, t)).toBe(`[${json(s)},${json(t)}]`);
        expect(multiEdgeKeyOf(s)).toBe(json(s));
        if (typeof s !== 'bigint' && typeof t !== 'bigint') expect(storageKeyOf(s, t)).toBe(JSON.stringify([s, t]));
      }),
    );
  });
});
