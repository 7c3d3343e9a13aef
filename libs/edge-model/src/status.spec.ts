import { describe, it, expect } from '@jest/globals';
import { classify } from './status';
import { statesEqual } from './equality';
import type { EdgeState } from './types';

function state(active: boolean, extra: Partial<EdgeState> = {}): EdgeState {
  return {
    active,
    version: 100,
    createdAt: active ? 100 : null,
    deletedAt: null,
    properties: { a: { value: 1, version: 100 } },
    ...extra,
  };
}

describe('classify (docs/model.md status table)', () => {
  it('unchanged record: IDLE 0, whether active or not', () => {
    expect(classify(state(true), state(true))).toEqual({ status: 'IDLE', accumulator: 0 });
    expect(classify(state(false), state(false))).toEqual({ status: 'IDLE', accumulator: 0 });
    expect(classify(null, null)).toEqual({ status: 'IDLE', accumulator: 0 });
  });

  it('false -> true: CREATED +1 (no row counts as inactive)', () => {
    expect(classify(null, state(true))).toEqual({ status: 'CREATED', accumulator: 1 });
    expect(classify(state(false), state(true))).toEqual({ status: 'CREATED', accumulator: 1 });
  });

  it('true -> false: DELETED -1', () => {
    expect(classify(state(true), state(false, { deletedAt: 200, version: 200 }))).toEqual({
      status: 'DELETED',
      accumulator: -1,
    });
  });

  it('true -> true changed: UPDATED 0', () => {
    const after = state(true, { version: 200, properties: { a: { value: 2, version: 200 } } });
    expect(classify(state(true), after)).toEqual({ status: 'UPDATED', accumulator: 0 });
  });

  it('false -> false changed: IDLE 0 (the state is still stored)', () => {
    expect(classify(null, state(false))).toEqual({ status: 'IDLE', accumulator: 0 });
    expect(classify(state(false), state(false, { version: 300, deletedAt: 300 }))).toEqual({
      status: 'IDLE',
      accumulator: 0,
    });
  });
});

describe('statesEqual', () => {
  it('ignores key order, deep into property values', () => {
    const a: EdgeState = {
      active: true,
      version: 1,
      createdAt: 1,
      deletedAt: null,
      properties: { x: { value: { p: 1, q: [1, { r: 2 }] }, version: 1 }, y: { value: null, version: 1 } },
    };
    const b = JSON.parse(
      '{"properties":{"y":{"version":1,"value":null},"x":{"version":1,"value":{"q":[1,{"r":2}],"p":1}}},' +
        '"deletedAt":null,"createdAt":1,"version":1,"active":true}',
    ) as EdgeState;
    expect(statesEqual(a, b)).toBe(true);
  });

  it('sees any difference', () => {
    const base = state(true);
    expect(statesEqual(base, null)).toBe(false);
    expect(statesEqual(null, null)).toBe(true);
    expect(statesEqual(base, { ...base, version: 101 })).toBe(false);
    expect(statesEqual(base, { ...base, deletedAt: 50 })).toBe(false);
    expect(statesEqual(base, { ...base, properties: { a: { value: 1, version: 99 } } })).toBe(false);
    expect(statesEqual(base, { ...base, properties: { a: { value: [1], version: 100 } } })).toBe(false);
    expect(statesEqual(base, { ...base, properties: { b: { value: 1, version: 100 } } })).toBe(false);
    expect(
      statesEqual(base, { ...base, properties: { ...base.properties, b: { value: null, version: 100 } } }),
    ).toBe(false);
  });
});
