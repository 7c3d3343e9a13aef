import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { ACCUMULATOR_FIELD, DIMENSIONS } from '@pipeline/druid';
import { parseSnapshotPath, snapshotFact } from './snapshot.export';

/** Reads the simple JSONPaths of cdc-columns.ts (`$.a.b`, `$.a[0].b`) from a value. */
function at(value: unknown, jsonPath: string): unknown {
  let v: unknown = value;
  for (const seg of jsonPath.slice(2).split('.')) {
    const m = /^(\w+)((?:\[\d+\])*)$/.exec(seg)!;
    v = (v as Record<string, unknown> | undefined)?.[m[1]!];
    for (const i of (m[2] ?? '').match(/\d+/g) ?? []) v = (v as unknown[] | undefined)?.[Number(i)];
  }
  return v;
}

describe('snapshot facts', () => {
  it('splits <warehouse>/<db>/<table>', () => {
    expect(parseSnapshotPath('/data/wh/shop/likes')).toEqual({ warehouse: '/data/wh', database: 'shop', table: 'likes' });
    expect(parseSnapshotPath('wh/shop/likes/')).toEqual({ warehouse: path.resolve('wh'), database: 'shop', table: 'likes' });
  });

  it('an active edge is a CREATED fact with accumulator +1 at the snapshot time, read by the spec paths', () => {
    const f = snapshotFact('shop', 'likes', { source: 'u1', target: 7 }, 1_764_000_000_000);
    const row = Object.fromEntries([...DIMENSIONS, ACCUMULATOR_FIELD].map((c) => [c.name, at(f, c.path)]));
    expect(row).toEqual({ database: 'shop', table: 'likes', source: 'u1', target: 7, status: 'CREATED', operation: undefined, actor: null, accumulator: 1 });
    expect(f.processedAt).toBe(1_764_000_000_000);
  });
});
