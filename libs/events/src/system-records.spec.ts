import { describe, it, expect } from '@jest/globals';
import { encodeCdc, encodeWal, heartbeatCdc, heartbeatWal, isSystemRecord } from './index';
import { readSample, edgeCdc, edgeWal } from './spec-helpers';

const NOW = 1764115200000;

describe('system records', () => {
  it('recognises the v2 heartbeat (label sys.heartbeat)', () => {
    const record = edgeWal(readSample('v2/sys-heartbeat-wal.json'));
    expect(record.context).toMatchObject({ database: 'sys', table: 'heartbeat' });
    expect(isSystemRecord(record)).toBe(true);
  });

  it('recognises any sys.* table, v2 or native, WAL or CDC', () => {
    const v2 = JSON.parse(readSample('v2/cdc-created.json')) as Record<string, unknown>;
    expect(isSystemRecord(edgeCdc({ ...v2, label: 'sys.schema_change' }))).toBe(true);
    const native = edgeWal(readSample('v3/wal-insert.json'));
    expect(isSystemRecord(native)).toBe(false);
    expect(isSystemRecord({ ...native, context: { ...native.context, database: 'sys', table: 'ddl' } })).toBe(true);
  });

  it('does not mistake a table or database merely starting with "sys" for a system one', () => {
    const native = edgeWal(readSample('v3/wal-insert.json'));
    expect(isSystemRecord({ ...native, context: { ...native.context, database: 'system_stats' } })).toBe(false);
    expect(isSystemRecord({ ...native, context: { ...native.context, table: 'sys' } })).toBe(false);
  });

  it('heartbeatWal builds the committed native heartbeat sample', () => {
    const record = heartbeatWal('demo', 'core-host-1', NOW, { id: '01KB0ZZ3Q4R5S6T7V8W9X0Y1Z2' });
    expect(record).toStrictEqual(edgeWal(readSample('v3/wal-heartbeat.json')));
    expect(isSystemRecord(record)).toBe(true);
  });

  it('heartbeatCdc builds the committed native heartbeat sample', () => {
    const record = heartbeatCdc('demo', 'core-host-1', NOW, { id: '01KB0ZZ3Q4R5S6T7V8W9X0Y1Z2' });
    expect(record).toStrictEqual(edgeCdc(readSample('v3/cdc-heartbeat.json')));
    expect(isSystemRecord(record)).toBe(true);
  });

  it('heartbeats are valid records with a fresh ULID stamped with now', () => {
    const wal = heartbeatWal('t', 'srv', NOW, { target: 'broker:9092' });
    const cdc = heartbeatCdc('t', 'srv', NOW);
    expect(edgeWal(encodeWal(wal))).toStrictEqual(wal);
    expect(edgeCdc(encodeCdc(cdc))).toStrictEqual(cdc);
    expect(wal.event.target).toBe('broker:9092');
    expect(wal.event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(wal.event.id.slice(0, 10)).toBe(cdc.events[0]!.id.slice(0, 10)); // same time component
    expect(wal.event.id).not.toBe(cdc.events[0]!.id);
  });
});
