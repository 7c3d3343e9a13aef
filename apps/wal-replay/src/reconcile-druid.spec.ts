import { describe, expect, it } from '@jest/globals';
import { acceptableViews, CdcHistory, viewAt } from './cdc-history';
import { edgeCountHistory, pairKey } from './reconcile-druid';

let seq = 500;
const cdc = (o: { source: string; target: number; active: boolean; version: number; edgeId?: number; seq?: number }) =>
  Buffer.from(
    JSON.stringify({
      version: '3',
      type: 'e',
      seq: o.seq ?? ++seq,
      processedAt: 1_700_000_000_000,
      lockAt: 1_700_000_000_000,
      status: o.active ? 'CREATED' : 'DELETED',
      accumulator: o.active ? 1 : -1,
      message: null,
      context: { tenant: 't', database: 'shop', table: o.edgeId === undefined ? 'likes' : 'gifts', alias: null, request: { actor: 'a', requestId: 'r' } },
      events: [{ id: `01J${seq}`, requestId: 'r', type: o.active ? 'INSERT' : 'DELETE', version: o.version, source: o.source, target: o.target, properties: {} }],
      before: null,
      after: {
        source: o.source,
        target: o.target,
        ...(o.edgeId === undefined ? {} : { edgeId: o.edgeId }),
        active: o.active,
        version: o.version,
        createdAt: 1,
        deletedAt: o.active ? null : o.version,
        properties: {},
      },
    }),
  );

const at = (p: number, o: bigint) => new Map([[p, o]]);

describe('CDC history folded into Druid counts per source and target', () => {
  it('counts a unique edge 1 while active, and a record sent twice once', () => {
    const h = new CdcHistory();
    const created = cdc({ source: 'u1', target: 7, active: true, version: 1 });
    h.add(2, 0n, created);
    h.add(2, 1n, cdc({ source: 'u1', target: 7, active: false, version: 2 }));
    h.add(2, 2n, created); // the relay sent the creation again: older seq, changes nothing
    h.add(2, 3n, cdc({ source: 'u1', target: 7, active: true, version: 3 }));
    const pairs = edgeCountHistory(h.tables.get('shop.likes')!);
    const kh = pairs.keys.get(pairKey('u1', 7))!;
    expect([0n, 1n, 2n, 3n, 4n].map((o) => viewAt(kh, at(2, o)))).toEqual([null, '1', null, null, '1']);
    // A sink that ingested up to offset 2 may already hold the state after offset 3, nothing older.
    const { expected, later } = acceptableViews(kh, at(2, 2n));
    expect(expected).toBeNull();
    expect([...later]).toEqual(['1']);
  });

  it('adds up multi-edges between the same endpoints, per pair', () => {
    const h = new CdcHistory();
    h.add(0, 0n, cdc({ source: 'u1', target: 9, active: true, version: 1, edgeId: 100 }));
    h.add(0, 1n, cdc({ source: 'u1', target: 9, active: true, version: 2, edgeId: 101 }));
    h.add(0, 2n, cdc({ source: 'u2', target: 9, active: true, version: 3, edgeId: 102 }));
    h.add(0, 3n, cdc({ source: 'u1', target: 9, active: false, version: 4, edgeId: 100 }));
    const pairs = edgeCountHistory(h.tables.get('shop.gifts')!);
    expect([...pairs.keys.keys()].sort()).toEqual([pairKey('u1', 9), pairKey('u2', 9)]);
    const u1 = pairs.keys.get(pairKey('u1', 9))!;
    expect([1n, 2n, 3n, 4n].map((o) => viewAt(u1, at(0, o)))).toEqual(['1', '2', '2', '1']);
    expect(viewAt(pairs.keys.get(pairKey('u2', 9)), undefined)).toBe('1');
  });

  it('has no pair for an edge that was never active', () => {
    const h = new CdcHistory();
    h.add(1, 0n, cdc({ source: 'u5', target: 1, active: false, version: 1 }));
    expect(edgeCountHistory(h.tables.get('shop.likes')!).keys.size).toBe(0);
  });
});

describe('a multi-edge whose endpoints change', () => {
  it('moves from one pair to the other, even when its records sit in two partitions', () => {
    const h = new CdcHistory();
    h.add(2, 0n, cdc({ source: 'a', target: 1, active: true, version: 1, edgeId: 7 }));
    h.add(0, 0n, cdc({ source: 'b', target: 2, active: true, version: 2, edgeId: 7 }));
    const pairs = edgeCountHistory(h.tables.get('shop.gifts')!);
    expect(viewAt(pairs.keys.get(pairKey('a', 1)), undefined)).toBeNull();
    expect(viewAt(pairs.keys.get(pairKey('b', 2)), undefined)).toBe('1');
    // Before the move was read (partition 0 not covered), the edge is still counted at its first pair.
    expect(viewAt(pairs.keys.get(pairKey('a', 1)), new Map([[2, 1n]]))).toBe('1');
  });
});
