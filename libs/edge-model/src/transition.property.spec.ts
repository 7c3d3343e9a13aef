/**
 * Properties of docs/model.md "The transition": ordering and idempotency, checked over generated events.
 */
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { applyEvent, foldEvents, TransitionRejectedError } from './transition';
import { classify } from './status';
import { statesEqual } from './equality';
import type { EdgeEvent, EdgeState } from './types';
import {
  anyEvent,
  anyEvents,
  distinctSafeEvents,
  schema,
  stepwise,
  withId,
  withPermutation,
} from './testing/arbitraries';

const runs = { numRuns: 500 };

describe('order independence (distinct versions)', () => {
  it('every arrival order, applied one event at a time, ends in one state, the same as foldEvents', () => {
    fc.assert(
      fc.property(withPermutation(distinctSafeEvents), ([events, arrival]) => {
        const inOrder = stepwise(null, events);
        const shuffled = stepwise(null, arrival);
        expect(inOrder.rejected).toBe(0);
        expect(shuffled.rejected).toBe(0);
        expect(statesEqual(inOrder.state, shuffled.state)).toBe(true);
        expect(statesEqual(foldEvents(null, arrival, schema).state, shuffled.state)).toBe(true);
      }),
      runs,
    );
  });

  it('folding a prefix then the rest equals folding all', () => {
    fc.assert(
      fc.property(
        distinctSafeEvents.chain((events) => fc.tuple(fc.constant(events), fc.nat({ max: events.length }))),
        ([events, cut]) => {
          const prefix = foldEvents(null, events.slice(0, cut), schema).state;
          const both = foldEvents(prefix, events.slice(cut), schema).state;
          expect(statesEqual(both, foldEvents(null, events, schema).state)).toBe(true);
        },
      ),
      runs,
    );
  });

  it('replaying the events again from an earlier point rebuilds the same state (WAL replay, migration)', () => {
    fc.assert(
      fc.property(
        distinctSafeEvents.chain((events) => fc.tuple(fc.constant(events), fc.nat({ max: events.length }))),
        ([events, from]) => {
          const once = stepwise(null, events).state;
          const replayed = stepwise(once, events.slice(from)).state;
          expect(statesEqual(once, replayed)).toBe(true);
        },
      ),
      runs,
    );
  });

  it('INSERT/DELETE only: active iff the newest INSERT is newer than every DELETE; accumulators sum to it', () => {
    const likes = fc.uniqueArray(
      fc.record({ type: fc.constantFrom('INSERT' as const, 'DELETE' as const), version: fc.integer({ min: 1, max: 99 }) }),
      { minLength: 1, maxLength: 7, selector: (e) => e.version },
    );
    fc.assert(
      fc.property(
        withPermutation(likes.map((es) => es.map((e) => withId({ ...e, properties: { x: 1 } })))),
        ([events, arrival]) => {
          let sum = 0;
          const end = stepwise(null, arrival, schema, (before, after) => {
            sum += classify(before, after).accumulator;
          }).state;
          const newest = (type: string) => Math.max(...events.filter((e) => e.type === type).map((e) => Number(e.version)));
          const expected = newest('INSERT') > newest('DELETE');
          expect(end?.active).toBe(expected);
          expect(sum).toBe(expected ? 1 : 0);
        },
      ),
      runs,
    );
  });
});

describe('idempotency', () => {
  it('applying an event twice changes nothing: equal states, IDLE/0 (any events, ties included)', () => {
    fc.assert(
      fc.property(anyEvents, anyEvent(fc.integer({ min: 1, max: 6 })), (history, event) => {
        const state = foldEvents(null, history, schema).state;
        let once: EdgeState;
        try {
          once = applyEvent(state, event, schema);
        } catch (error) {
          // A refused event is refused again, and leaves nothing behind to differ.
          expect(error).toBeInstanceOf(TransitionRejectedError);
          expect(() => applyEvent(state, event, schema)).toThrow(TransitionRejectedError);
          return;
        }
        const twice = applyEvent(once, event, schema);
        expect(statesEqual(once, twice)).toBe(true);
        expect(classify(once, twice)).toEqual({ status: 'IDLE', accumulator: 0 });
      }),
      runs,
    );
  });

  it('replaying any already-applied event of a history changes nothing (distinct versions)', () => {
    fc.assert(
      fc.property(
        withPermutation(distinctSafeEvents).chain(([events, arrival]) =>
          fc.tuple(fc.constant(arrival), fc.constantFrom(...events)),
        ),
        ([arrival, replay]: [EdgeEvent[], EdgeEvent]) => {
          const state = stepwise(null, arrival).state;
          const after = applyEvent(state, replay, schema);
          expect(statesEqual(state, after)).toBe(true);
          expect(classify(state, after)).toEqual({ status: 'IDLE', accumulator: 0 });
        },
      ),
      runs,
    );
  });

  it('the accumulators of a history sum to whether the edge ends active (any events, ties included)', () => {
    fc.assert(
      fc.property(anyEvents, (events) => {
        let sum = 0;
        const end = stepwise(null, events, schema, (before, after) => {
          sum += classify(before, after).accumulator;
        }).state;
        expect(sum).toBe(end?.active ? 1 : 0);
      }),
      runs,
    );
  });
});

describe('worked example (docs/model.md)', () => {
  it('like@100, like@300, unlike@200 ends active with count 1 in all 6 orders, one event at a time', () => {
    const events = [
      withId({ type: 'INSERT', version: 100, properties: { x: 1 } }),
      withId({ type: 'INSERT', version: 300, properties: { x: 1 } }),
      withId({ type: 'DELETE', version: 200, properties: {} }),
    ];
    const orders: EdgeEvent[][] = [];
    for (const a of events) for (const b of events) for (const c of events) {
      if (new Set([a, b, c]).size === 3) orders.push([a, b, c]);
    }
    expect(orders).toHaveLength(6);
    for (const order of orders) {
      let count = 0;
      const end = stepwise(null, order, schema, (before, after) => {
        count += classify(before, after).accumulator;
      }).state;
      expect(end?.active).toBe(true);
      expect(count).toBe(1);
    }
  });
});
