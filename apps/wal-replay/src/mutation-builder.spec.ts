import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { foldEvents, type EdgeEvent, type EdgeState, type TransitionSchema } from '@pipeline/edge-model';
import type { CdcState } from '@pipeline/events';
import type { MutationItem } from '@pipeline/core-api';
import { stateToMutations, type LoaderField } from './mutation-builder';

const fields: LoaderField[] = [
  { name: 'x', type: 'LONG', nullable: false },
  { name: 'a', type: 'STRING', nullable: true },
  { name: 'b', type: 'LONG', nullable: true },
];
const schema: TransitionSchema = { fields: fields.map((f) => ({ name: f.name, nullable: f.nullable })) };

/** What the core does with a request item before the fold (mutation-request.ts: null is absent on INSERT/DELETE). */
function toEvent(m: MutationItem, i: number): EdgeEvent {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m.edge.properties)) if (v !== null || m.type === 'UPDATE') properties[k] = v;
  if (m.edge.id !== undefined) {
    if (m.edge.source !== undefined) properties._source = m.edge.source;
    if (m.edge.target !== undefined) properties._target = m.edge.target;
  }
  return { id: `l${i}`, type: m.type, version: m.edge.version, properties };
}

let n = 0;
const event = fc
  .record({
    type: fc.constantFrom('INSERT', 'UPDATE', 'DELETE' as const),
    version: fc.integer({ min: 1, max: 40 }),
    x: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
    a: fc.option(fc.oneof(fc.constant(null), fc.string({ maxLength: 2 })), { nil: undefined }),
    b: fc.option(fc.oneof(fc.constant(null), fc.integer()), { nil: undefined }),
  })
  .map(({ type, version, ...p }): EdgeEvent => {
    const properties: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) if (v !== undefined && (v !== null || type === 'UPDATE')) properties[k] = v;
    return { id: `e${++n}`, type: type as EdgeEvent['type'], version, properties };
  });

const asCdc = (s: EdgeState): CdcState => ({ source: 'u1', target: 7, ...s });
const asState = (c: CdcState): EdgeState => {
  const { source: _s, target: _t, edgeId: _e, ...s } = c;
  return s;
};

describe('stateToMutations', () => {
  it('reproduces every reachable state exactly, when it reports no approximation', () => {
    let exact = 0;
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (events) => {
        // One event per request, in arrival order, as clients do.
        let s: EdgeState | null = null;
        for (const e of events) s = foldEvents(s, [e], schema).state;
        if (!s) return;
        const load = stateToMutations(asCdc(s), fields, false);
        if (load.approximations.length) return;
        exact++;
        const rebuilt = foldEvents(null, load.items.map(toEvent), schema);
        expect(rebuilt.rejected).toEqual([]);
        expect(rebuilt.state).toEqual(s);
      }),
      { numRuns: 2000 },
    );
    expect(exact).toBeGreaterThan(1000);
  });

  it('reproduces states with nanosecond versions (beyond 2^53) and 64-bit ids exactly', () => {
    const ns = 1732900000000000000n;
    const nsEvent = event.map((e): EdgeEvent => ({ ...e, version: ns + BigInt(e.version) }));
    let exact = 0;
    fc.assert(
      fc.property(fc.array(nsEvent, { minLength: 1, maxLength: 8 }), (events) => {
        let s: EdgeState | null = null;
        for (const e of events) s = foldEvents(s, [e], schema).state;
        if (!s) return;
        const load = stateToMutations({ source: 9007199254740993n, target: 9007199254740995n, ...s }, fields, false);
        if (load.approximations.length) return;
        exact++;
        expect(load.items.every((m) => m.edge.source === 9007199254740993n && m.edge.target === 9007199254740995n)).toBe(true);
        const rebuilt = foldEvents(null, load.items.map(toEvent), schema);
        expect(rebuilt.state).toEqual(s);
      }),
      { numRuns: 500 },
    );
    expect(exact).toBeGreaterThan(200);
  });

  it('loads a deleted edge with a non-nullable field through a stand-in that the DELETE nulls', () => {
    const s: CdcState = {
      source: 'u1',
      target: 7,
      active: false,
      version: 30,
      createdAt: 10,
      deletedAt: 20,
      properties: { x: { value: null, version: 20 }, a: { value: 'late', version: 30 }, b: { value: null, version: 20 } },
    };
    const load = stateToMutations(s, fields, false);
    expect(load.items.map((m) => [m.type, m.edge.version])).toEqual([
      ['INSERT', 10],
      ['DELETE', 20],
      ['UPDATE', 30],
    ]);
    expect(load.items[0]!.edge.properties).toEqual({ x: 0, a: 'late' });
    expect(foldEvents(null, load.items.map(toEvent), schema).state).toEqual(asState(s));
  });

  it('names the tie state (createdAt == deletedAt) as approximated', () => {
    const s: CdcState = { source: 'u1', target: 7, active: false, version: 5, createdAt: 5, deletedAt: 5, properties: {} };
    expect(stateToMutations(s, fields, false).approximations[0]).toContain('createdAt == deletedAt');
  });

  it('sends multi-edge endpoints as edge.source/target and the id as edge.id', () => {
    const s: CdcState = {
      source: 's1',
      target: 't2',
      edgeId: 'g1',
      active: true,
      version: 9,
      createdAt: 3,
      deletedAt: null,
      properties: { _source: { value: 's1', version: 9 }, _target: { value: 't2', version: 9 }, x: { value: 4, version: 3 }, a: { value: null, version: 3 }, b: { value: null, version: 3 } },
    };
    const multiFields = [{ name: '_source', type: 'STRING', nullable: false }, { name: '_target', type: 'STRING', nullable: false }, ...fields];
    const load = stateToMutations(s, multiFields, true);
    expect(load.items).toEqual([
      { type: 'INSERT', edge: { version: 3, id: 'g1', source: 's1', target: 't2', properties: { x: 4 } } },
      { type: 'UPDATE', edge: { version: 9, id: 'g1', source: 's1', target: 't2', properties: {} } },
    ]);
    const multiSchema = { fields: multiFields.map((f) => ({ name: f.name, nullable: f.nullable })) };
    expect(foldEvents(null, load.items.map(toEvent), multiSchema).state).toEqual(asState(s));
  });
});
