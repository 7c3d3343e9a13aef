import { describe, it, expect } from '@jest/globals';
import { decodeWal, isVertexRecord, stringifyJson, type WalRecord } from '@pipeline/events';
import { resultKey, resultKeyOfRecord, walToMutation } from './mutations';

const edgeWal = (input: unknown): WalRecord => {
  const r = decodeWal(input);
  if (isVertexRecord(r)) throw new Error('expected an edge record');
  return r;
};

const v3 = (event: Record<string, unknown>) =>
  edgeWal({
    version: '3',
    type: 'e',
    processedAt: 1,
    context: { tenant: 't', database: 'shop', table: 'gifts', alias: null, request: { actor: 'app', requestId: 'r1' } },
    event: { id: '01J', requestId: 'r1', ...event },
    mode: { table: 'SYNC', request: null, queue: false },
  });

describe('walToMutation', () => {
  it('gives a unique edge back as it was sent', () => {
    const r = v3({ type: 'INSERT', version: 100, source: 'u1', target: 7, properties: { viewed_at: 100 } });
    expect(walToMutation(r)).toEqual({ type: 'INSERT', edge: { version: 100, source: 'u1', target: 7, properties: { viewed_at: 100 } } });
    expect(resultKeyOfRecord(r)).toBe(resultKey({ source: 'u1', target: 7 }));
  });

  it('takes a multi-edge’s ends from _source/_target and leaves them out of the properties', () => {
    const r = v3({ type: 'INSERT', version: 3, source: 'u1', target: 'u2', edgeId: 9, properties: { _source: 'u1', _target: 'u2', amount: 5 } });
    expect(walToMutation(r)).toEqual({ type: 'INSERT', edge: { version: 3, id: 9, source: 'u1', target: 'u2', properties: { amount: 5 } } });
    expect(resultKeyOfRecord(r)).toBe(resultKey({ id: 9 }));
  });

  it('sends no ends for a multi-edge UPDATE or DELETE that did not name them, though the record is routed by the stored ends', () => {
    const r = v3({ type: 'UPDATE', version: 4, source: 'u1', target: 'u2', edgeId: 9, properties: { amount: 6 } });
    expect(walToMutation(r)).toEqual({ type: 'UPDATE', edge: { version: 4, id: 9, properties: { amount: 6 } } });
    const d = v3({ type: 'DELETE', version: 5, source: 'u1', target: 'u2', edgeId: 9, properties: { _source: null, _target: null } });
    expect(walToMutation(d)).toEqual({ type: 'DELETE', edge: { version: 5, id: 9, properties: {} } });
  });

  it('reads Actionbase v2 multi-edge records (_id in props, ends in src/tgt: taken for an INSERT)', () => {
    const v2 = (op: string) => edgeWal({
      version: '2',
      tenant: 't',
      label: 'shop.gifts',
      alias: null,
      edge: { ts: 5, src: 'u1', tgt: 'u2', props: { _id: 77, amount: 3 }, traceId: 'tr' },
      op,
      mode: { queue: true },
      audit: { actor: 'a' },
      requestId: 'q',
      ts: 5,
    });
    expect(walToMutation(v2('INSERT'))).toEqual({ type: 'INSERT', edge: { version: 5, id: 77, source: 'u1', target: 'u2', properties: { amount: 3 } } });
    expect(walToMutation(v2('PURGE'))).toEqual({ type: 'DELETE', edge: { version: 5, id: 77, properties: { amount: 3 } } });
  });

  it('keeps LONGs beyond 2^53 exact (bigint) and the client writes them as bare integers', () => {
    const r = v3({ type: 'INSERT', version: 2n ** 60n, source: 9007199254740993n, target: 7, properties: { n: 9007199254740995n } });
    const item = walToMutation(r);
    expect(item).toEqual({ type: 'INSERT', edge: { version: 2n ** 60n, source: 9007199254740993n, target: 7, properties: { n: 9007199254740995n } } });
    expect(stringifyJson({ mutations: [item] })).toBe(
      '{"mutations":[{"type":"INSERT","edge":{"version":1152921504606846976,"source":9007199254740993,"target":7,"properties":{"n":9007199254740995}}}]}',
    );
  });
});
