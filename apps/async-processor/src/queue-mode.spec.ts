import { describe, it, expect } from '@jest/globals';
import { decodeWal, isVertexRecord, type WalRecord } from '@pipeline/events';
import { isQueued, resolvedMode } from './queue-mode';

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

describe('queue mode', () => {
  it('takes a queued v3 WAL record', () => {
    const r = v3();
    expect(isQueued(r)).toBe(true);
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
});
