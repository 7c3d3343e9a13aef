import { describe, it, expect } from '@jest/globals';
import { decodeWal, isVertexRecord, type WalRecord } from '@pipeline/events';
import { requestIdHeader } from './core-client';
import { isQueued, mutationOf, resolvedMode, resultKey, resultKeyOfRecord } from './mutation-builder';

/** An edge WAL record (decodeWal also gives vertex records, which the processor never sees). */
const edgeWal = (input: unknown): WalRecord => {
  const r = decodeWal(input);
  if (isVertexRecord(r)) throw new Error('expected an edge record');
  return r;
};

const v3 = (over: Record<string, unknown> = {}) =>
  edgeWal({
    version: '3',
    type: 'e',
    processedAt: 1,
    context: { tenant: 't', database: 'shop', table: 'recent_views', alias: null, request: { actor: 'app', requestId: 'r1' } },
    event: { id: '01J', requestId: 'r1', type: 'INSERT', version: 100, source: 'u1', target: 7, properties: { viewed_at: 100 } },
    mode: { table: 'ASYNC', request: null, queue: true },
    ...over,
  });

describe('mutation builder', () => {
  it('turns a queued v3 WAL record back into its mutation', () => {
    const r = v3();
    expect(isQueued(r)).toBe(true);
    expect(mutationOf(r)).toEqual({ type: 'INSERT', edge: { version: 100, source: 'u1', target: 7, properties: { viewed_at: 100 } } });
    expect(resultKeyOfRecord(r)).toBe(resultKey({ source: 'u1', target: 7 }));
  });

  it('turns an Actionbase v2 WAL record (multi-edge, _id in props) into a multi-edge mutation', () => {
    const r = edgeWal({
      version: '2',
      tenant: 't',
      label: 'shop.gifts',
      alias: null,
      edge: { ts: 5, src: 'u1', tgt: 'u2', props: { _id: 77, amount: 3 }, traceId: 'tr' },
      op: 'PURGE',
      mode: { queue: true },
      audit: { actor: 'a' },
      requestId: 'q',
      ts: 5,
    });
    expect(mutationOf(r)).toEqual({ type: 'DELETE', edge: { version: 5, id: 77, source: 'u1', target: 'u2', properties: { amount: 3 } } });
    expect(resultKeyOfRecord(r)).toBe(resultKey({ id: 77 }));
  });

  it('applies IGNORE-queued items unless told to skip them (Actionbase: IGNORE = DROP)', () => {
    const ignored = v3({ mode: { table: 'IGNORE', request: null, queue: true } });
    expect(resolvedMode(ignored)).toBe('IGNORE');
    expect(isQueued(ignored)).toBe(true);
    expect(isQueued(ignored, true)).toBe(false);
    expect(isQueued(v3(), true)).toBe(true);
    // force: the request mode wins over the system mode
    expect(resolvedMode(v3({ mode: { table: 'ASYNC', request: 'SYNC', system: 'IGNORE', force: true, queue: false } }))).toBe('SYNC');
    expect(resolvedMode(v3({ mode: { table: 'SYNC', request: null, system: 'ASYNC', queue: true } }))).toBe('ASYNC');
  });

  it('skips what is not queued and system records', () => {
    expect(isQueued(v3({ mode: { table: 'SYNC', request: null, queue: false } }))).toBe(false);
    expect(isQueued(v3({ context: { tenant: 't', database: 'sys', table: 'heartbeat', alias: null, request: { actor: 's', requestId: '' } } }))).toBe(false);
  });

  it('X-Request-ID carries the distinct original request ids, bounded', () => {
    expect(requestIdHeader(['a', 'b', 'a', ''])).toBe('a,b');
    expect(requestIdHeader(['', ''])).toBeUndefined();
    const many = requestIdHeader(Array.from({ length: 1000 }, (_, i) => `request-${i}`))!;
    expect(many.length).toBeLessThanOrEqual(256);
    expect(many).toMatch(/,\+\d+more$/);
  });
});
