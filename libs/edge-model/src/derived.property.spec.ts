/**
 * Derived data kept by applying derivedChanges after every transition must equal the derived data of the
 * final states (docs/model.md "Status and derived data"; the consistency check of "What the consumers are for").
 */
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { derivedChanges, indexEntriesOf, endpointsOf } from './derived';
import { deepEqual } from './equality';
import { classify } from './status';
import { stepwise, withId, value } from './testing/arbitraries';
import type { DirectionType, EdgeEvent, Endpoint, EdgeKey, EdgeState, IndexEntry, MutationType, TableShape } from './types';

const directionType = fc.constantFrom<DirectionType>('BOTH', 'OUT', 'IN');
const valueOrNull = fc.oneof(value, fc.constant(null));
const endpoint = fc.constantFrom<string | number | null>('a', 'b', 1, '1', null);
const mutationType = fc.constantFrom<MutationType>('INSERT', 'UPDATE', 'DELETE');

function likesTable(dir: DirectionType): TableShape {
  return {
    kind: 'EDGE',
    directionType: dir,
    indexes: [
      { name: 'by_x', fields: [{ name: 'x', order: 'DESC' }] },
      { name: 'by_note_x', fields: [{ name: 'note', order: 'ASC' }, { name: 'x', order: 'ASC' }] },
    ],
    fields: [
      { name: 'x', nullable: false },
      { name: 'note', nullable: true },
    ],
  };
}

function giftsTable(dir: DirectionType): TableShape {
  return {
    kind: 'MULTI_EDGE',
    directionType: dir,
    indexes: [{ name: 'by_amount', fields: [{ name: 'amount', order: 'DESC' }] }],
    fields: [
      { name: '_source', nullable: false },
      { name: '_target', nullable: false },
      { name: 'amount', nullable: true },
    ],
  };
}

const version = fc.integer({ min: 1, max: 8 });

/** Events for several unique edges, interleaved; rejections and ties included. */
const likesEvents = fc.array(
  fc.record({
    key: fc.constantFrom<EdgeKey>({ source: 'u1', target: 'p1' }, { source: 'u1', target: 'p2' }, { source: 2, target: 'p1' }),
    type: mutationType,
    version,
    properties: fc.record({ x: valueOrNull, note: valueOrNull }, { requiredKeys: [] }),
  }),
  { maxLength: 25 },
);

/** Events for several multi-edges whose `_source`/`_target` come and go and move. */
const giftsEvents = fc.array(
  fc.record({
    key: fc.constantFrom<EdgeKey>({ id: 'g1' }, { id: 'g2' }, { id: 3 }),
    type: mutationType,
    version,
    properties: fc.record({ _source: endpoint, _target: endpoint, amount: valueOrNull }, { requiredKeys: [] }),
  }),
  { maxLength: 25 },
);

type Keyed = { key: EdgeKey; type: MutationType; version: number; properties: Record<string, unknown> };

function keyId(key: EdgeKey): string {
  return JSON.stringify('id' in key ? ['id', typeof key.id, key.id] : [typeof key.source, key.source, key.target]);
}

function countId(direction: string, start: Endpoint): string {
  return JSON.stringify([direction, typeof start, start]);
}

function simulate(items: Keyed[], table: TableShape) {
  const states = new Map<string, { key: EdgeKey; state: EdgeState | null }>();
  const counts = new Map<string, number>();
  const index: IndexEntry[] = [];
  let accumulated = 0;
  let integrity = true;

  for (const item of items) {
    const id = keyId(item.key);
    const slot = states.get(id) ?? { key: item.key, state: null };
    const event: EdgeEvent = withId({ type: item.type, version: item.version, properties: item.properties });
    slot.state = stepwise(slot.state, [event], table, (before, after) => {
      const changes = derivedChanges(before, after, item.key, table);
      for (const d of changes.counts) {
        const c = countId(d.direction, d.start);
        counts.set(c, (counts.get(c) ?? 0) + d.delta);
      }
      for (const row of changes.removeIndex) {
        const at = index.findIndex((r) => deepEqual(r, row));
        if (at < 0) integrity = false;
        else index.splice(at, 1);
      }
      for (const row of changes.addIndex) {
        if (index.some((r) => deepEqual(r, row))) integrity = false;
        index.push(row);
      }
      accumulated += classify(before, after).accumulator;
    }).state;
    states.set(id, slot);
  }
  return { states: [...states.values()], counts, index, accumulated, integrity };
}

function checkAgainstFinalStates(items: Keyed[], table: TableShape): void {
  const run = simulate(items, table);
  expect(run.integrity).toBe(true);

  const expectedCounts = new Map<string, number>();
  let activeEdges = 0;
  for (const { key, state } of run.states) {
    if (!state?.active) continue;
    activeEdges += 1;
    const ends = endpointsOf(state, key, table);
    if (ends === null) continue;
    const dirs = table.directionType === 'BOTH' ? (['OUT', 'IN'] as const) : [table.directionType];
    for (const d of dirs) {
      const c = countId(d, d === 'OUT' ? ends.source : ends.target);
      expectedCounts.set(c, (expectedCounts.get(c) ?? 0) + 1);
    }
  }
  const nonZero = new Map([...run.counts].filter(([, n]) => n !== 0));
  expect(nonZero).toEqual(expectedCounts);
  expect(run.accumulated).toBe(activeEdges);

  const canonical = (rows: IndexEntry[]) => rows.map((r) => JSON.stringify(r)).sort();
  const expectedIndex = run.states.flatMap(({ key, state }) => indexEntriesOf(state, key, table));
  expect(canonical(run.index)).toEqual(canonical(expectedIndex));
}

describe('derived data summed over any sequence equals that of the final states', () => {
  it('unique edges: counts per (direction, start), accumulators and index rows', () => {
    fc.assert(
      fc.property(likesEvents, directionType, (items, dir) => checkAgainstFinalStates(items, likesTable(dir))),
      { numRuns: 400 },
    );
  });

  it('multi-edges, with _source/_target moving on UPDATE', () => {
    fc.assert(
      fc.property(giftsEvents, directionType, (items, dir) => checkAgainstFinalStates(items, giftsTable(dir))),
      { numRuns: 400 },
    );
  });
});
