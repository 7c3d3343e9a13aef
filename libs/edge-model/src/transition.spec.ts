import { describe, it, expect } from '@jest/globals';
import { applyEvent, foldEvents, TransitionRejectedError } from './transition';
import { classify } from './status';
import type { EdgeEvent, EdgeState, MutationType, TransitionSchema, Version } from './types';

const schema: TransitionSchema = {
  fields: [
    { name: 'a', nullable: true },
    { name: 'b', nullable: true },
  ],
};

let seq = 0;
function ev(type: MutationType, version: Version, properties: Record<string, unknown> = {}): EdgeEvent {
  seq += 1;
  return { id: `e${seq}`, type, version, properties };
}

function run(events: EdgeEvent[], s: TransitionSchema = schema): EdgeState | null {
  return events.reduce<EdgeState | null>((state, e) => applyEvent(state, e, s), null);
}

describe('applyEvent: version and createdAt/deletedAt', () => {
  it('starts from no row: version is the event version, everything else follows the event', () => {
    const s = applyEvent(null, ev('INSERT', 100, { a: 1 }), schema);
    expect(s).toEqual({
      active: true,
      version: 100,
      createdAt: 100,
      deletedAt: null,
      properties: { a: { value: 1, version: 100 }, b: { value: null, version: 100 } },
    });
  });

  it('keeps the highest version seen', () => {
    const s = run([ev('INSERT', 300), ev('UPDATE', 200, { a: 1 })]);
    expect(s?.version).toBe(300);
  });

  it('tie rule: INSERT@200 then DELETE@200 ends deleted (the later arrival wins)', () => {
    const s = run([ev('INSERT', 200), ev('DELETE', 200)]);
    expect(s).toMatchObject({ active: false, createdAt: null, deletedAt: 200, version: 200 });
  });

  it('tie rule: DELETE@200 then INSERT@200 ends active (the later arrival wins)', () => {
    const s = run([ev('DELETE', 200), ev('INSERT', 200)]);
    expect(s).toMatchObject({ active: true, createdAt: 200, deletedAt: null, version: 200 });
  });

  it('tie rule compares the createdAt just set: INSERT@100, DELETE@200, INSERT@200 ends active', () => {
    const s = run([ev('INSERT', 100), ev('DELETE', 200), ev('INSERT', 200)]);
    expect(s).toMatchObject({ active: true, createdAt: 200, deletedAt: null });
  });

  it('foldEvents keeps arrival order for an INSERT and a DELETE with the same version', () => {
    const insert = ev('INSERT', 200);
    const del = ev('DELETE', 200);
    expect(foldEvents(null, [insert, del], schema).state?.active).toBe(false);
    expect(foldEvents(null, [del, insert], schema).state?.active).toBe(true);
    expect(foldEvents(null, [del, ev('INSERT', 100), insert], schema).applied.map((e) => e.version)).toEqual([
      100, 200, 200,
    ]);
  });

  it('is not a tie when the state already holds a newer version: createdAt == deletedAt stays inactive', () => {
    // docs/model.md defines the tie against state.version; with a newer event in between, neither INSERT@200
    // nor DELETE@200 is a tie and createdAt > deletedAt is false.
    const s = run([ev('INSERT', 200), ev('UPDATE', 300, { a: 1 }), ev('DELETE', 200)]);
    expect(s).toMatchObject({ active: false, createdAt: 200, deletedAt: 200, version: 300 });
    const again = applyEvent(s, ev('INSERT', 200), schema);
    expect(again).toMatchObject({ active: false, createdAt: 200, deletedAt: 200 });
  });

  it('DELETE then an older INSERT stays deleted, and classify reads it IDLE/0', () => {
    const deleted = run([ev('INSERT', 100, { a: 1 }), ev('DELETE', 300)]);
    const after = applyEvent(deleted, ev('INSERT', 200, { a: 2 }), schema);
    expect(after).toMatchObject({ active: false, createdAt: 200, deletedAt: 300, version: 300 });
    expect(after.properties['a']).toEqual({ value: null, version: 300 });
    expect(classify(deleted, after)).toEqual({ status: 'IDLE', accumulator: 0 });
  });

  it('UPDATE never touches createdAt/deletedAt, and on no row stores an inactive state', () => {
    const s = applyEvent(null, ev('UPDATE', 100, { a: 1 }), schema);
    expect(s).toEqual({
      active: false,
      version: 100,
      createdAt: null,
      deletedAt: null,
      properties: { a: { value: 1, version: 100 } },
    });
    const deleted = run([ev('INSERT', 100), ev('DELETE', 200)]);
    const updated = applyEvent(deleted, ev('UPDATE', 300, { a: 1 }), schema);
    expect(updated).toMatchObject({ active: false, createdAt: 100, deletedAt: 200, version: 300 });
  });

  it('worked example: like@100, like@300, unlike@200 ends active in every order, accumulators sum to 1', () => {
    const like100 = ev('INSERT', 100);
    const like300 = ev('INSERT', 300);
    const unlike200 = ev('DELETE', 200);
    const orders = [
      [like100, like300, unlike200],
      [like100, unlike200, like300],
      [like300, like100, unlike200],
      [like300, unlike200, like100],
      [unlike200, like100, like300],
      [unlike200, like300, like100],
    ];
    for (const order of orders) {
      let state: EdgeState | null = null;
      let count = 0;
      for (const e of order) {
        const next = applyEvent(state, e, schema);
        count += classify(state, next).accumulator;
        state = next;
      }
      expect(state).toMatchObject({ active: true, createdAt: 300, deletedAt: 200, version: 300 });
      expect(count).toBe(1);
    }
  });

  it('refuses a version that is not a 64-bit integer: NaN, a rounded double, beyond ±2^63', () => {
    expect(() => applyEvent(null, ev('INSERT', Number.NaN), schema)).toThrow(RangeError);
    expect(() => applyEvent(null, ev('INSERT', 2 ** 60), schema)).toThrow(RangeError);
    expect(() => applyEvent(null, ev('INSERT', 2n ** 63n), schema)).toThrow(RangeError);
    expect(() => applyEvent(null, ev('INSERT', -(2n ** 63n) - 1n), schema)).toThrow(RangeError);
  });
});

describe('applyEvent: nanosecond versions (64-bit, beyond 2^53)', () => {
  // Adjacent nanosecond stamps a double cannot tell apart (they round to the same number).
  const ns = 1732900000000000000n;

  it('keeps the exact stamp in version, createdAt and the property cells', () => {
    const s = applyEvent(null, ev('INSERT', ns + 1n, { a: 1 }), schema);
    expect(s).toEqual({
      active: true,
      version: ns + 1n,
      createdAt: ns + 1n,
      deletedAt: null,
      properties: { a: { value: 1, version: ns + 1n }, b: { value: null, version: ns + 1n } },
    });
  });

  it('orders stamps that differ by one nanosecond: the older UPDATE loses, the DELETE one ns later wins', () => {
    const s = run([ev('INSERT', ns + 2n, { a: 1 }), ev('UPDATE', ns + 1n, { a: 2 })]);
    expect(s?.properties.a).toEqual({ value: 1, version: ns + 2n });
    const d = applyEvent(s, ev('DELETE', ns + 3n), schema);
    expect(d).toMatchObject({ active: false, version: ns + 3n, createdAt: ns + 2n, deletedAt: ns + 3n });
  });

  it('a replay of the same ns event is IDLE; a safe bigint is the same version as the number', () => {
    const s = applyEvent(null, ev('INSERT', ns, { a: 1 }), schema);
    expect(classify(s, applyEvent(s, ev('INSERT', ns, { a: 1 }), schema)).status).toBe('IDLE');
    const small = applyEvent(null, ev('INSERT', 100n, { a: 1 }), schema);
    expect(small.version).toBe(100);
    expect(classify(small, applyEvent(small, ev('INSERT', 100, { a: 1 }), schema)).status).toBe('IDLE');
  });

  it('folds a mix of ms and ns stamps in version order', () => {
    const f = foldEvents(null, [ev('UPDATE', ns, { a: 'ns' }), ev('INSERT', 1_700_000_000_000, { a: 'ms' })], schema);
    expect(f.state?.properties.a).toEqual({ value: 'ns', version: ns });
    expect(f.state?.version).toBe(ns);
  });
});

describe('applyEvent: properties, last-write-wins per field', () => {
  it('UPDATE with an explicit null unsets the field; an older UPDATE then loses', () => {
    const s = run([ev('INSERT', 100, { a: 1, b: 2 }), ev('UPDATE', 200, { a: null })]);
    expect(s?.properties).toEqual({ a: { value: null, version: 200 }, b: { value: 2, version: 100 } });
    const late = applyEvent(s, ev('UPDATE', 150, { a: 7, b: 8 }), schema);
    expect(late.properties).toEqual({ a: { value: null, version: 200 }, b: { value: 8, version: 150 } });
  });

  it('UPDATE touches only the fields it carries', () => {
    const s = run([ev('INSERT', 100, { a: 1, b: 2 }), ev('UPDATE', 200, { b: 3 })]);
    expect(s?.properties['a']).toEqual({ value: 1, version: 100 });
    expect(s?.properties['b']).toEqual({ value: 3, version: 200 });
  });

  it('INSERT replaces the whole set: a field it lacks becomes unset at its version', () => {
    const s = run([ev('INSERT', 100, { a: 1, b: 2 }), ev('INSERT', 200, { a: 5 })]);
    expect(s?.properties).toEqual({ a: { value: 5, version: 200 }, b: { value: null, version: 200 } });
  });

  it('INSERT keeps a field it lacks when the field is newer, or as new with a value', () => {
    const newer = run([ev('UPDATE', 300, { b: 9 }), ev('INSERT', 200, { a: 1 })]);
    expect(newer?.properties['b']).toEqual({ value: 9, version: 300 });
    const same = run([ev('UPDATE', 200, { b: 9 }), ev('INSERT', 200, { a: 1 })]);
    expect(same?.properties['b']).toEqual({ value: 9, version: 200 });
  });

  it('DELETE marks every field deleted at its version unless the field is newer', () => {
    const s = run([ev('INSERT', 100, { a: 1, b: 2 }), ev('UPDATE', 300, { b: 3 }), ev('DELETE', 200)]);
    expect(s?.properties).toEqual({ a: { value: null, version: 200 }, b: { value: 3, version: 300 } });
  });

  it('ignores properties that are not in the schema', () => {
    const s = applyEvent(null, ev('INSERT', 100, { a: 1, extra: 'x' }), schema);
    expect(Object.keys(s.properties).sort()).toEqual(['a', 'b']);
  });

  it('does not mutate the state it is given', () => {
    const before = run([ev('INSERT', 100, { a: 1 })])!;
    const snapshot = JSON.parse(JSON.stringify(before));
    applyEvent(before, ev('UPDATE', 200, { a: 2 }), schema);
    applyEvent(before, ev('DELETE', 300), schema);
    expect(before).toEqual(snapshot);
  });
});

describe('non-nullable fields', () => {
  const strict: TransitionSchema = {
    fields: [
      { name: 'created_at', nullable: false },
      { name: 'note', nullable: true },
    ],
  };

  it('rejects an INSERT that leaves an active edge without a non-nullable field, naming the field', () => {
    let caught: unknown;
    try {
      applyEvent(null, ev('INSERT', 100, { note: 'hi' }), strict);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TransitionRejectedError);
    const error = caught as TransitionRejectedError;
    expect(error.code).toBe('NON_NULLABLE_MISSING');
    expect(error.field).toBe('created_at');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe('non-nullable field created_at is missing');
  });

  it('rejects an UPDATE that unsets a non-nullable field of an active edge', () => {
    const s = applyEvent(null, ev('INSERT', 100, { created_at: 1 }), strict);
    expect(() => applyEvent(s, ev('UPDATE', 200, { created_at: null }), strict)).toThrow(
      /non-nullable field created_at is missing/,
    );
  });

  it('accepts a missing non-nullable field when the result is not active', () => {
    const deleted = applyEvent(null, ev('DELETE', 300), strict);
    const s = applyEvent(deleted, ev('INSERT', 100, {}), strict);
    expect(s.active).toBe(false);
    expect(applyEvent(null, ev('UPDATE', 100, { note: 'x' }), strict).active).toBe(false);
  });

  it('foldEvents skips a rejected event and keeps the state it had before it', () => {
    const good = ev('INSERT', 100, { created_at: 1 });
    const bad = ev('UPDATE', 200, { created_at: null, note: 'x' });
    const later = ev('UPDATE', 300, { note: 'y' });
    const result = foldEvents(null, [later, bad, good], strict);
    expect(result.applied).toEqual([good, later]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.event).toBe(bad);
    expect(result.rejected[0]?.error.field).toBe('created_at');
    expect(result.state).toEqual({
      active: true,
      version: 300,
      createdAt: 100,
      deletedAt: null,
      properties: { created_at: { value: 1, version: 100 }, note: { value: 'y', version: 300 } },
    });
  });

  it('foldEvents of nothing returns the state it was given', () => {
    expect(foldEvents(null, [], strict)).toEqual({ state: null, applied: [], rejected: [] });
  });
});
