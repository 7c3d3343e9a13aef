import { describe, expect, it } from '@jest/globals';
import { encodeCdc, heartbeatCdc, type CdcRecord, type CdcState } from '@pipeline/events';
import { CdcSnapshot, countKey } from './cdc-snapshot';

const state = (active: boolean, version: number): CdcState => ({
  source: 'u1',
  target: 7,
  active,
  version,
  createdAt: active ? version : null,
  deletedAt: active ? null : version,
  properties: {},
});
const cdc = (seq: number, processedAt: number, acc: -1 | 0 | 1, after: CdcState, before: CdcState | null = null): CdcRecord => ({
  version: '3',
  type: 'e',
  processedAt,
  lockAt: processedAt,
  seq,
  status: acc === 1 ? 'CREATED' : acc === -1 ? 'DELETED' : 'IDLE',
  accumulator: acc,
  message: null,
  context: { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'a', requestId: '' } },
  events: [{ id: `e${seq}`, requestId: '', type: 'INSERT', version: after.version, source: 'u1', target: 7, properties: {} }],
  before,
  after,
});

describe('CdcSnapshot', () => {
  it('keeps the latest after per key by seq, not by arrival, and counts a record sent twice once', () => {
    const s = new CdcSnapshot();
    s.add(encodeCdc(cdc(1, 100, 1, state(true, 10))));
    s.add(encodeCdc(cdc(3, 300, 1, state(true, 30), state(false, 20))));
    s.add(encodeCdc(cdc(2, 200, -1, state(false, 20), state(true, 10)))); // arrives late (mirrored topic)
    s.add(encodeCdc(cdc(3, 300, 1, state(true, 30), state(false, 20)))); // the relay sent it again
    const t = s.tables.get('shop.likes')!;
    expect(t.keys.get(JSON.stringify(['u1', 7]))!.state.version).toBe(30);
    expect(t.accumulated.get(countKey('OUT', 'u1'))).toBe(1);
    expect(t.accumulated.get(countKey('IN', 7))).toBe(1);
    expect(s.records).toBe(3);
    expect(s.cut).toBe(300);
  });

  it('restarts the accumulated count of a key whose history starts again (a core rebuilt from the WAL)', () => {
    const s = new CdcSnapshot();
    s.add(encodeCdc(cdc(1, 100, 1, state(true, 10))));
    s.add(encodeCdc(cdc(2, 200, 0, state(true, 11), state(true, 10))));
    // The rebuilt core replays the WAL into an empty store: CREATED again, higher seq, no before.
    s.add(encodeCdc(cdc(10, 500, 1, state(true, 10))));
    s.add(encodeCdc(cdc(11, 510, 0, state(true, 11), state(true, 10))));
    s.add(encodeCdc(cdc(12, 600, -1, state(false, 12), state(true, 11))));
    const t = s.tables.get('shop.likes')!;
    expect(t.accumulated.get(countKey('OUT', 'u1'))).toBe(0);
    expect(s.restarts).toBe(1);
  });

  it('folds only records committed up to the cut, and skips sys records and undecodable bytes', () => {
    const s = new CdcSnapshot(250);
    expect(s.add(encodeCdc(cdc(1, 100, 1, state(true, 10))))).toBe(true);
    expect(s.add(encodeCdc(cdc(2, 300, -1, state(false, 20))))).toBe(false);
    expect(s.add(encodeCdc(heartbeatCdc('t', 'srv', 120)))).toBe(false);
    expect(s.add('{not json')).toBe(false);
    expect(s.skipped).toBe(1);
    expect(s.tables.get('shop.likes')!.keys.get(JSON.stringify(['u1', 7]))!.state.active).toBe(true);
  });
});
