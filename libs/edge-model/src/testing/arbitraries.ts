/**
 * fast-check generators shared by the property tests. Not exported from the library.
 */
import fc from 'fast-check';
import { applyEvent, TransitionRejectedError } from '../transition';
import type { EdgeEvent, EdgeState, MutationType, TransitionSchema } from '../types';

export const schema: TransitionSchema = {
  fields: [
    { name: 'x', nullable: false },
    { name: 'a', nullable: true },
    { name: 'b', nullable: true },
  ],
};

export const value = fc.constantFrom<unknown>(1, 2, 'v', true, { k: [1, 'z'] });
const valueOrNull = fc.oneof(value, fc.constant(null));

let seq = 0;
export function withId(e: Omit<EdgeEvent, 'id'>): EdgeEvent {
  seq += 1;
  return { id: `ev${seq}`, ...e };
}

function eventOf(
  type: MutationType,
  version: fc.Arbitrary<number>,
  properties: fc.Arbitrary<Record<string, unknown>>,
): fc.Arbitrary<EdgeEvent> {
  return fc.record({ version, properties }).map(({ version: v, properties: p }) => withId({ type, version: v, properties: p }));
}

/**
 * Events that can never be rejected under `schema` when versions are distinct: every INSERT carries x and
 * nothing ever sets x to null. An active state needs a newest INSERT newer than every DELETE, and that
 * INSERT (or a newer UPDATE) set x last. Rejection depends on the state at arrival, so it is the one thing
 * that may legitimately differ between arrival orders; these events keep it out of order-independence tests.
 */
export function safeEvent(version: fc.Arbitrary<number>): fc.Arbitrary<EdgeEvent> {
  return fc.oneof(
    eventOf('INSERT', version, fc.record({ x: value, a: valueOrNull, b: valueOrNull }, { requiredKeys: ['x'] })),
    eventOf('UPDATE', version, fc.record({ x: value, a: valueOrNull, b: valueOrNull }, { requiredKeys: [] })),
    eventOf('DELETE', version, fc.constant({})),
  );
}

/** Anything: nulls everywhere, x often missing (so rejections happen), extra fields outside the schema. */
export function anyEvent(version: fc.Arbitrary<number>): fc.Arbitrary<EdgeEvent> {
  const props = fc.record({ x: valueOrNull, a: valueOrNull, b: valueOrNull, extra: value }, { requiredKeys: [] });
  return fc.oneof(eventOf('INSERT', version, props), eventOf('UPDATE', version, props), eventOf('DELETE', version, props));
}

const smallVersion = fc.integer({ min: 1, max: 60 });

/** 1 to 8 safe events with distinct versions. */
export const distinctSafeEvents = fc.uniqueArray(safeEvent(smallVersion), {
  minLength: 1,
  maxLength: 8,
  selector: (e) => e.version,
});

/** 0 to 10 arbitrary events; few versions, so ties (same version) are frequent. */
export const anyEvents = fc.array(anyEvent(fc.integer({ min: 1, max: 6 })), { maxLength: 10 });

/** The events and a random arrival order of them. */
export function withPermutation<T>(arb: fc.Arbitrary<T[]>): fc.Arbitrary<[T[], T[]]> {
  return arb.chain((items) =>
    fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length })),
  );
}

/** Applies events one at a time in arrival order, as separate requests would; rejected ones are skipped. */
export function stepwise(
  state: EdgeState | null,
  events: readonly EdgeEvent[],
  s: TransitionSchema = schema,
  onStep?: (before: EdgeState | null, after: EdgeState | null) => void,
): { state: EdgeState | null; rejected: number } {
  let current = state;
  let rejected = 0;
  for (const e of events) {
    let next: EdgeState;
    try {
      next = applyEvent(current, e, s);
    } catch (error) {
      if (!(error instanceof TransitionRejectedError)) throw error;
      rejected += 1;
      continue;
    }
    onStep?.(current, next);
    current = next;
  }
  return { state: current, rejected };
}
