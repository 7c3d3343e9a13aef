/**
 * Every record shape Actionbase's serializers can write decodes (samples.spec.ts has one fixture per shape;
 * here each optional field is left out on its own, as Actionbase's own deserializer tests do).
 */
import { describe, it, expect } from '@jest/globals';
import {
  EventDecodeError,
  decodeCdc,
  decodeWal,
  encodeCdc,
  encodeWal,
  isSystemRecord,
  isVertexRecord,
  keyOfWal,
  type CdcRecord,
  type WalRecord,
} from './index';
import { edgeCdc, edgeWal, readSample } from './spec-helpers';

const sample = (file: string): Record<string, unknown> => JSON.parse(readSample(file)) as Record<string, unknown>;
const without = (record: Record<string, unknown>, field: string): Record<string, unknown> => {
  const [head, tail] = field.split('.') as [string, string | undefined];
  const copy = structuredClone(record);
  if (tail === undefined) delete copy[head];
  else delete (copy[head] as Record<string, unknown>)[tail];
  return copy;
};

describe('Actionbase v2 records with optional fields left out (core-java WALV2, CDCV2: @Nullable, @Value.Default)', () => {
  const wal = sample('v2/wal-insert.json');
  const cdc = sample('v2/cdc-deleted.json');

  it.each([
    ['alias', (r: WalRecord) => expect(r.context.alias).toBeNull()],
    ['mode', (r: WalRecord) => expect(r.mode).toEqual({ table: 'SYNC', request: null, queue: false })],
    ['audit', (r: WalRecord) => expect(r.context.request.actor).toBe('default')],
    ['requestId', (r: WalRecord) => expect([r.context.request.requestId, r.event.requestId]).toEqual(['', ''])],
    ['edge.props', (r: WalRecord) => expect(r.event.properties).toEqual({})],
  ])('WAL without %s decodes with Actionbase\'s default', (field, check) => {
    const record = edgeWal(without(wal, field));
    check(record);
    expect(keyOfWal(record)).toBe('u-100:5001');
  });

  it.each([
    ['alias', (r: CdcRecord) => expect(r.context.alias).toBeNull()],
    ['before', (r: CdcRecord) => expect(r.before).toBeNull()],
    ['after', (r: CdcRecord) => expect(r.after).toBeNull()],
    ['message', (r: CdcRecord) => expect(r.message).toBeNull()],
    ['audit', (r: CdcRecord) => expect(r.context.request.actor).toBe('default')],
    ['requestId', (r: CdcRecord) => expect(r.context.request.requestId).toBe('')],
    ['edge.props', (r: CdcRecord) => expect(r.events[0]!.properties).toEqual({})],
  ])('CDC without %s decodes with Actionbase\'s default', (field, check) => {
    check(edgeCdc(without(cdc, field)));
  });

  it('state props left out (empty, JsonInclude NON_EMPTY) are an empty state', () => {
    const record = edgeCdc(readSample('v2/cdc-no-props.json'));
    expect(record.before).toMatchObject({ active: true, properties: {} });
    expect(record.after).toMatchObject({ active: false, properties: {} });
  });

  it('a decoded record encodes as a valid native record', () => {
    for (const f of ['v2/wal-minimal.json', 'v2/wal-no-props.json', 'v2/wal-purge.json', 'v2/wal-multi-edge-delete.json']) {
      const r = edgeWal(readSample(f));
      expect(edgeWal(encodeWal(r))).toStrictEqual(r);
    }
    for (const f of ['v2/cdc-minimal.json', 'v2/cdc-no-props.json', 'v2/cdc-purged.json', 'v2/cdc-multi-edge.json']) {
      const r = edgeCdc(readSample(f));
      expect(edgeCdc(encodeCdc(r))).toStrictEqual(r);
    }
  });

  it('PURGE is a DELETE event; the CDC keeps status PURGED', () => {
    expect(edgeWal(readSample('v2/wal-purge.json')).event.type).toBe('DELETE');
    expect(edgeCdc(readSample('v2/cdc-purged.json'))).toMatchObject({ status: 'PURGED', accumulator: -1, after: null });
  });

  it('a multi-edge item without _source/_target keeps Actionbase\'s "0" placeholders and its id', () => {
    const record = edgeWal(readSample('v2/wal-multi-edge-delete.json'));
    expect(record.event).toMatchObject({ type: 'DELETE', source: '0', target: '0', edgeId: 77001, properties: {} });
  });

  it('a multi-edge CDC from V2BackedMessageBinding lifts _id from the event; the state keeps _source/_target', () => {
    const record = edgeCdc(readSample('v2/cdc-multi-edge.json'));
    expect(record.events[0]).toMatchObject({ edgeId: 77001, properties: { amount: 3000 } });
    expect(record.after).toMatchObject({ source: 'u-100', target: 'u-200', edgeId: 77001 });
    expect(Object.keys(record.after!.properties).sort()).toEqual(['_source', '_target', 'amount']);
  });

  it('the CDC heartbeat of Actionbase\'s Kafka producer (CREATED, no state) is a system record', () => {
    expect(isSystemRecord(edgeCdc(readSample('v2/cdc-heartbeat.json')))).toBe(true);
  });

  it('ignores fields it does not know', () => {
    expect(() => edgeWal({ ...wal, newField: { a: 1 }, edge: { ...(wal['edge'] as object), extra: 1 } })).not.toThrow();
  });
});

describe('Actionbase v3 records (core-java WALV3Edge, CDCV3Edge)', () => {
  const wal = sample('v3-actionbase/wal-edge.json');
  const cdc = sample('v3-actionbase/cdc-edge.json');

  it('a complete record decodes as it is (no seq, mode without system/force)', () => {
    expect(edgeWal(wal).mode).toEqual({ table: 'SYNC', request: null, queue: false });
    expect(edgeCdc(cdc)).not.toHaveProperty('seq');
  });

  it.each(['context.alias'])('WAL without %s decodes', (field) => {
    expect(edgeWal(without(wal, field)).context.alias).toBeNull();
  });

  it.each(['context.alias', 'before', 'after', 'message'])('CDC without %s decodes, null in its place', (field) => {
    const record = edgeCdc(without(cdc, field)) as unknown as Record<string, unknown>;
    const [head, tail] = field.split('.') as [string, string | undefined];
    expect(tail ? (record[head] as Record<string, unknown>)[tail] : record[head]).toBeNull();
  });

  it('event.requestId null or absent (its default) is empty; mode DROP is IGNORE', () => {
    const record = edgeWal(readSample('v3-actionbase/wal-edge-minimal.json'));
    expect(record.event.requestId).toBe('');
    expect(record.mode).toEqual({ table: 'IGNORE', request: null, queue: true });
    const noId = without(wal, 'event.requestId');
    expect(edgeWal(noId).event.requestId).toBe('');
  });

  it('what neither format accepts gets the native error, naming the field', () => {
    const bad = { ...wal, mode: { table: 'DENY', request: null, queue: true } };
    expect(() => edgeWal(bad)).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', path: 'mode.table' }));
    expect(() => edgeWal(bad)).toThrow(EventDecodeError);
  });
});

describe('vertex records (type "v"): their own variant, never an error', () => {
  it('WAL and CDC vertex records decode to the vertex variant', () => {
    const wal = decodeWal(readSample('v3-actionbase/wal-vertex.json'));
    expect(isVertexRecord(wal)).toBe(true);
    if (!isVertexRecord(wal)) return;
    expect(wal.event).toEqual({
      id: '01KB106G7H8J9K0M1N2P3Q4R5S',
      requestId: 'req-v1',
      type: 'INSERT',
      version: 1764115200200,
      key: 'u-100',
      properties: { nickname: 'ann' },
    });
    const cdc = decodeCdc(readSample('v3-actionbase/cdc-vertex.json'));
    expect(isVertexRecord(cdc)).toBe(true);
    if (!isVertexRecord(cdc)) return;
    expect(cdc.after).toEqual({
      key: 'u-100',
      active: true,
      version: 1764115200200,
      createdAt: 1764115200200,
      deletedAt: null,
      properties: { nickname: { value: 'ann', version: 1764115200200 } },
    });
    expect(cdc.events[0]!.requestId).toBe('');
  });

  it('optional fields left out (alias, before, after, message, requestId) and a LONG key', () => {
    const cdc = decodeCdc(readSample('v3-actionbase/cdc-vertex-minimal.json'));
    if (!isVertexRecord(cdc)) throw new Error('expected a vertex record');
    expect(cdc).toMatchObject({ before: null, after: null, message: null, context: { alias: null } });
    expect(cdc.events[0]!.key).toBe(9007199254740993n);
  });

  it('a bad vertex record names its field', () => {
    const input = sample('v3-actionbase/wal-vertex.json');
    delete (input['event'] as Record<string, unknown>)['key'];
    expect(() => decodeWal(input)).toThrow('invalid vertex WAL record at event.key');
  });

  it('edge records are not vertex records', () => {
    expect(isVertexRecord(decodeWal(readSample('v3/wal-insert.json')))).toBe(false);
    expect(isVertexRecord(decodeCdc(readSample('v2/cdc-created.json')))).toBe(false);
  });
});
