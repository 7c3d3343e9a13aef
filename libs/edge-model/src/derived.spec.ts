import { describe, it, expect } from '@jest/globals';
import { derivedChanges, endpointsOf, indexEntriesOf } from './derived';
import { applyEvent } from './transition';
import type { EdgeEvent, EdgeState, MutationType, TableShape } from './types';

const likes: TableShape = {
  kind: 'EDGE',
  directionType: 'BOTH',
  indexes: [{ name: 'by_created', fields: [{ name: 'created_at', order: 'DESC' }] }],
  fields: [
    { name: 'created_at', nullable: false },
    { name: 'note', nullable: true },
  ],
};

const gifts: TableShape = {
  kind: 'MULTI_EDGE',
  directionType: 'BOTH',
  indexes: [
    {
      name: 'by_amount',
      fields: [
        { name: 'amount', order: 'DESC' },
        { name: 'created_at', order: 'ASC' },
      ],
    },
  ],
  fields: [
    { name: '_source', nullable: false },
    { name: '_target', nullable: false },
    { name: 'amount', nullable: true },
    { name: 'created_at', nullable: true },
  ],
};

let seq = 0;
function ev(type: MutationType, version: number, properties: Record<string, unknown> = {}): EdgeEvent {
  seq += 1;
  return { id: `e${seq}`, type, version, properties };
}

const edgeKey = { source: 'u1', target: 'p9' };
const giftKey = { id: 'g1' };

describe('endpointsOf', () => {
  it('unique edges: the key', () => {
    expect(endpointsOf(null, edgeKey, likes)).toEqual({ source: 'u1', target: 'p9' });
  });

  it('multi-edges: the _source/_target properties, null while absent', () => {
    expect(endpointsOf(null, giftKey, gifts)).toBeNull();
    const s = applyEvent(null, ev('UPDATE', 1, { _source: 'alice' }), gifts);
    expect(endpointsOf(s, giftKey, gifts)).toBeNull();
    const t = applyEvent(s, ev('INSERT', 2, { _source: 'alice', _target: 7 }), gifts);
    expect(endpointsOf(t, giftKey, gifts)).toEqual({ source: 'alice', target: 7 });
  });

  it('refuses a key of the wrong kind', () => {
    expect(() => endpointsOf(null, giftKey, likes)).toThrow(TypeError);
    expect(() => endpointsOf(null, edgeKey, gifts)).toThrow(TypeError);
  });
});

describe('indexEntriesOf', () => {
  const active = applyEvent(null, ev('INSERT', 100, { created_at: 100 }), likes);

  it('BOTH: one entry per index per direction, OUT under the source, IN under the target', () => {
    expect(indexEntriesOf(active, edgeKey, likes)).toEqual([
      { index: 'by_created', direction: 'OUT', start: 'u1', values: [100], source: 'u1', target: 'p9' },
      { index: 'by_created', direction: 'IN', start: 'p9', values: [100], source: 'u1', target: 'p9' },
    ]);
  });

  it('OUT only lists OUT, IN only lists IN', () => {
    expect(indexEntriesOf(active, edgeKey, { ...likes, directionType: 'OUT' }).map((e) => e.direction)).toEqual([
      'OUT',
    ]);
    expect(indexEntriesOf(active, edgeKey, { ...likes, directionType: 'IN' }).map((e) => e.start)).toEqual(['p9']);
  });

  it('none for an inactive edge or no row', () => {
    expect(indexEntriesOf(null, edgeKey, likes)).toEqual([]);
    expect(indexEntriesOf(applyEvent(active, ev('DELETE', 200), likes), edgeKey, likes)).toEqual([]);
  });

  it('multi-edges carry the id, and unset index fields read null', () => {
    const s = applyEvent(null, ev('INSERT', 5, { _source: 'a', _target: 'b', amount: 3 }), gifts);
    expect(indexEntriesOf(s, giftKey, gifts)).toEqual([
      { index: 'by_amount', direction: 'OUT', start: 'a', values: [3, null], source: 'a', target: 'b', id: 'g1' },
      { index: 'by_amount', direction: 'IN', start: 'b', values: [3, null], source: 'a', target: 'b', id: 'g1' },
    ]);
  });
});

describe('derivedChanges', () => {
  it('CREATED: +1 per direction and the new index rows', () => {
    const after = applyEvent(null, ev('INSERT', 100, { created_at: 100 }), likes);
    const d = derivedChanges(null, after, edgeKey, likes);
    expect(d.counts).toEqual([
      { direction: 'OUT', start: 'u1', delta: 1 },
      { direction: 'IN', start: 'p9', delta: 1 },
    ]);
    expect(d.removeIndex).toEqual([]);
    expect(d.addIndex).toHaveLength(2);
  });

  it('DELETED: -1 per direction and the rows removed', () => {
    const before = applyEvent(null, ev('INSERT', 100, { created_at: 100 }), likes);
    const after = applyEvent(before, ev('DELETE', 200), likes);
    const d = derivedChanges(before, after, edgeKey, likes);
    expect(d.counts).toEqual([
      { direction: 'OUT', start: 'u1', delta: -1 },
      { direction: 'IN', start: 'p9', delta: -1 },
    ]);
    expect(d.removeIndex).toEqual(indexEntriesOf(before, edgeKey, likes));
    expect(d.addIndex).toEqual([]);
  });

  it('UPDATE of an indexed field: no count change, the row is replaced', () => {
    const before = applyEvent(null, ev('INSERT', 100, { created_at: 100 }), likes);
    const after = applyEvent(before, ev('UPDATE', 200, { created_at: 150 }), likes);
    const d = derivedChanges(before, after, edgeKey, likes);
    expect(d.counts).toEqual([]);
    expect(d.removeIndex.map((e) => e.values)).toEqual([[100], [100]]);
    expect(d.addIndex.map((e) => e.values)).toEqual([[150], [150]]);
  });

  it('UPDATE of an unindexed field or a replay: nothing to write', () => {
    const before = applyEvent(null, ev('INSERT', 100, { created_at: 100 }), likes);
    const after = applyEvent(before, ev('UPDATE', 200, { note: 'x' }), likes);
    expect(derivedChanges(before, after, edgeKey, likes)).toEqual({ counts: [], removeIndex: [], addIndex: [] });
    expect(derivedChanges(after, after, edgeKey, likes)).toEqual({ counts: [], removeIndex: [], addIndex: [] });
  });

  it('multi-edge whose _source changes on UPDATE moves its OUT count; the unchanged IN start nets to zero', () => {
    const before = applyEvent(null, ev('INSERT', 100, { _source: 'alice', _target: 'bob', amount: 5 }), gifts);
    const after = applyEvent(before, ev('UPDATE', 200, { _source: 'carol' }), gifts);
    const d = derivedChanges(before, after, giftKey, gifts);
    expect(d.counts).toEqual([
      { direction: 'OUT', start: 'alice', delta: -1 },
      { direction: 'OUT', start: 'carol', delta: 1 },
    ]);
    expect(d.removeIndex.map((e) => [e.direction, e.start, e.source])).toEqual([
      ['OUT', 'alice', 'alice'],
      ['IN', 'bob', 'alice'],
    ]);
    expect(d.addIndex.map((e) => [e.direction, e.start, e.source])).toEqual([
      ['OUT', 'carol', 'carol'],
      ['IN', 'bob', 'carol'],
    ]);
  });

  it('keeps LONG and STRING starts apart', () => {
    const before = applyEvent(null, ev('INSERT', 100, { _source: 1, _target: 'x' }), gifts);
    const after = applyEvent(before, ev('UPDATE', 200, { _source: '1' }), gifts);
    expect(derivedChanges(before, after, giftKey, gifts).counts).toEqual([
      { direction: 'OUT', start: 1, delta: -1 },
      { direction: 'OUT', start: '1', delta: 1 },
    ]);
  });

  it('an inactive multi-edge moving counts nothing', () => {
    const before: EdgeState = applyEvent(null, ev('UPDATE', 100, { _source: 'a', _target: 'b' }), gifts);
    const after = applyEvent(before, ev('UPDATE', 200, { _source: 'c' }), gifts);
    expect(derivedChanges(before, after, giftKey, gifts)).toEqual({ counts: [], removeIndex: [], addIndex: [] });
  });
});
