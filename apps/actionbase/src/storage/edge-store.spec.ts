import { describe, expect, it } from '@jest/globals';
import type { EdgeState } from '@pipeline/edge-model';
import { storageKeyOf } from '../engine/mutation-request';
import { toJsonText } from './edge-store';
import { encodeSortKey } from '@pipeline/edge-model';
import { SqliteEdgeStore } from './sqlite-store';

describe('SQL stores: 64-bit LONGs', () => {
  const big = 9007199254740993n;
  const ns = 1732900000000000001n;
  const state: EdgeState = { active: true, version: ns, createdAt: ns, deletedAt: null, properties: { n: { value: big, version: ns }, doc: { value: { deep: [big + 1n] }, version: ns } } };

  it('one value, one text: a LONG key reads the same whether it came as a number or a bigint', () => {
    expect(storageKeyOf(big, big + 2n)).toBe('[9007199254740993,9007199254740995]');
    expect(storageKeyOf(7, 'x')).toBe('[7,"x"]');
    expect(toJsonText(big)).not.toBe(toJsonText(big - 1n));
  });

  it('keys, states, index rows and counts hold values beyond 2^53 exactly (SQLite)', async () => {
    const store = new SqliteEdgeStore(':memory:');
    const key = storageKeyOf(big, big + 2n);
    await store.applyMutations('t#1', [key], () => [
      {
        row: { key, source: big, target: big + 2n, state },
        counts: [{ direction: 'OUT', start: big, delta: 1 }],
        removeIndex: [],
        addIndex: [{ index: 'by_n', direction: 'OUT', start: big, sortKey: encodeSortKey([big], ['ASC']) }],
      },
    ]);
    const rows = await store.getRows('t#1', [key]);
    expect(rows.get(key)).toEqual({ key, source: big, target: big + 2n, state });
    expect(await store.scanRows('t#1', null, 10)).toEqual([{ key, source: big, target: big + 2n, state }]);
    expect(await store.counts('t#1', 'OUT', [big, big - 1n])).toEqual([1, 0]);
    const hits = await store.scanIndex({ table: 't#1', index: 'by_n', direction: 'OUT', start: big, limit: 10 });
    expect(hits.map((h) => h.row.state.properties.n!.value)).toEqual([big]);
    expect(await store.scanIndex({ table: 't#1', index: 'by_n', direction: 'OUT', start: big - 1n, limit: 10 })).toEqual([]);
    await store.close();
  });
});
