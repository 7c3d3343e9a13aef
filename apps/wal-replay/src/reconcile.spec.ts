import { describe, expect, it } from '@jest/globals';
import { acceptableViews, CdcHistory, viewAt } from './cdc-history';
import { edgeKey, restView, stateView } from './edge-view';
import { estimate, stratifiedSample } from './reconcile';

const state = (version: number, active: boolean, score: number | null) => ({
  source: 'u1',
  target: 7,
  active,
  version,
  createdAt: 1,
  deletedAt: active ? null : version,
  properties: { created_at: { value: 1, version: 1 }, score: { value: score, version } },
});

let seq = 100;
const cdc = (after: ReturnType<typeof state>) =>
  Buffer.from(
    JSON.stringify({
      version: '3',
      type: 'e',
      seq: ++seq,
      processedAt: 1_700_000_000_000 + seq,
      lockAt: 1_700_000_000_000,
      status: 'UPDATED',
      accumulator: 0,
      message: null,
      context: { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'a', requestId: 'r' } },
      events: [{ id: `01J${seq}`, requestId: 'r', type: 'UPDATE', version: after.version, source: 'u1', target: 7, properties: {} }],
      before: null,
      after,
    }),
  );

describe('edge views', () => {
  it('are the same for a stored state and the core answer of it; an inactive state has none', () => {
    const s = state(5, true, 3);
    expect(stateView(s)).toBe(restView({ version: 5, source: 'u1', target: 7, properties: { created_at: 1, score: 3 } }));
    expect(stateView({ ...s, properties: { ...s.properties, score: { value: null, version: 5 } } })).toBe(restView({ version: 5, source: 'u1', target: 7, properties: { created_at: 1 } }));
    expect(stateView(state(6, false, null))).toBeNull();
    expect(edgeKey({ source: 'u1', target: 7 }, false)).toBe(edgeKey({ source: 'u1', target: '7' }, false));
    expect(edgeKey({ source: 'a', target: 'b', edgeId: 12 }, true)).toBe(edgeKey({ source: 'x', target: 'y', id: '12' }, true));
  });
});

describe('CDC history', () => {
  const h = new CdcHistory();
  const ok = (v: unknown) => expect(v).toBeDefined();
  // offsets 0..3 of partition 1: v1, v2, deleted at v3, v4 again; the v2 record sent twice by the relay (same seq)
  const v1 = cdc(state(1, true, 1));
  const v2 = cdc(state(2, true, 2));
  const v3 = cdc(state(3, false, null));
  const v4 = cdc(state(4, true, 4));
  h.add(1, 0n, v1);
  h.add(1, 1n, v2);
  h.add(1, 2n, v3);
  h.add(1, 3n, v2);
  h.add(1, 4n, v4);
  const key = edgeKey({ source: 'u1', target: 7 }, false);
  const kh = h.tables.get('shop.likes')!.keys.get(key)!;

  it('gives the state as of an offset, by seq (a record sent again does not roll the key back)', () => {
    ok(kh);
    const at = (o: bigint) => new Map([[1, o]]);
    expect(viewAt(kh, at(0n))).toBeNull();
    expect(viewAt(kh, at(2n))).toBe(stateView(state(2, true, 2)));
    expect(viewAt(kh, at(3n))).toBeNull();
    expect(viewAt(kh, at(4n))).toBeNull(); // the duplicate of v2 (lower seq) does not bring the edge back
    expect(viewAt(kh, at(5n))).toBe(stateView(state(4, true, 4)));
    expect(viewAt(kh, undefined)).toBe(stateView(state(4, true, 4)));
  });

  it('accepts, for a sink that committed offset 2, the state there or any later one, and nothing older', () => {
    const { expected, later } = acceptableViews(kh, new Map([[1, 2n]]));
    expect(expected).toBe(stateView(state(2, true, 2)));
    expect(later.has(null)).toBe(true);
    expect(later.has(stateView(state(4, true, 4)))).toBe(true);
    expect(later.has(stateView(state(1, true, 1)))).toBe(false);
  });
});

describe('CDC history of a multi-edge moved to another partition', () => {
  it('takes each record at the point of its own partition', () => {
    const h = new CdcHistory();
    const gift = (version: number, target: string) => ({ ...state(version, true, version), target, edgeId: 'g1', properties: { amount: { value: version, version } } });
    h.add(0, 5n, cdc(gift(1, 'a') as never));
    h.add(2, 9n, cdc(gift(2, 'b') as never)); // moved: its key (endpoints) now hashes to partition 2
    const kh = h.tables.get('shop.likes')!.keys.get(edgeKey({ source: 'u1', target: 'a', edgeId: 'g1' }, true))!;
    expect(viewAt(kh, new Map([[0, 6n], [2, 9n]]))).toBe(stateView(gift(1, 'a')));
    expect(viewAt(kh, new Map([[0, 6n], [2, 10n]]))).toBe(stateView(gift(2, 'b')));
    expect(viewAt(kh, new Map([[0, 6n]]))).toBe(stateView(gift(1, 'a')));
    expect(acceptableViews(kh, new Map([[0, 6n]])).later).toEqual(new Set([stateView(gift(2, 'b'))]));
  });
});

describe('stratified sampling', () => {
  it('allocates in proportion to the strata and never picks a key twice', () => {
    const strata = new Map([
      [0, Array.from({ length: 6_000 }, (_, i) => `a${i}`)],
      [1, Array.from({ length: 3_000 }, (_, i) => `b${i}`)],
      [2, Array.from({ length: 1_000 }, (_, i) => `c${i}`)],
    ]);
    const s = stratifiedSample(strata, 1_000, () => 0.5);
    expect(s.get(0)!.length).toBe(600);
    expect(s.get(1)!.length).toBe(300);
    expect(s.get(2)!.length).toBe(100);
    expect(new Set(s.get(0)).size).toBe(600);
  });

  it('estimates the divergent keys with a standard error, and bounds them when none was found', () => {
    const e = estimate([
      { N: 6_000, n: 600, d: 6 },
      { N: 4_000, n: 400, d: 0 },
    ]);
    expect(e.estimate).toBe(60);
    expect(e.stdError).toBeGreaterThan(20);
    expect(e.stdError).toBeLessThan(30);
    expect(e.upper95).toBeGreaterThan(e.estimate);
    const none = estimate([{ N: 10_000, n: 1_000, d: 0 }]);
    expect(none.estimate).toBe(0);
    // 1 - 0.05^(1/1000) ~ 0.3%: at most ~30 keys of 10 000 with 95% confidence
    expect(none.upper95).toBe(30);
  });
});
