import { describe, it, expect } from '@jest/globals';
import { kafkaKey, keyOfCdc, keyOfWal, type CdcRecord } from './index';
import { readSample, edgeCdc, edgeWal } from './spec-helpers';

describe('Kafka keys', () => {
  it('is "source:target", numbers in decimal', () => {
    expect(kafkaKey('u-100', 5001)).toBe('u-100:5001');
    expect(kafkaKey(42, 9007)).toBe('42:9007');
    expect(Buffer.from(kafkaKey('사용자', 'ü'), 'utf8').toString('utf8')).toBe('사용자:ü');
  });

  it('WAL: from the event; multi-edges use _source/_target, which the event carries as source/target', () => {
    expect(keyOfWal(edgeWal(readSample('v2/wal-multi-edge.json')))).toBe('u-100:u-200');
    expect(keyOfWal(edgeWal(readSample('v3/wal-insert.json')))).toBe('u-100:5001');
  });

  it('CDC: after, else before, else the last event', () => {
    const base = edgeCdc(readSample('v3/cdc-updated.json'));
    const state = (source: string) => ({ ...base.after!, source });
    const lastEvent = { ...base.events[0]!, source: 'from-event' };
    const withStates = (before: CdcRecord['before'], after: CdcRecord['after']): CdcRecord => ({
      ...base,
      before,
      after,
      events: [base.events[0]!, lastEvent],
    });
    expect(keyOfCdc(withStates(state('b'), state('a')))).toBe('a:5001');
    expect(keyOfCdc(withStates(state('b'), null))).toBe('b:5001');
    expect(keyOfCdc(withStates(null, null))).toBe('from-event:5001');
  });

  it('a v2 CDC record and its WAL record share a key', () => {
    expect(keyOfCdc(edgeCdc(readSample('v2/cdc-created.json')))).toBe(keyOfWal(edgeWal(readSample('v2/wal-insert.json'))));
  });
});
