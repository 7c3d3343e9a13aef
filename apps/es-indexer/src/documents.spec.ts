import { describe, expect, it } from '@jest/globals';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import type { DecodedRecord } from '@pipeline/stream';
import { LongSafeSerializer } from '@pipeline/elasticsearch';
import { cdcDocId, cdcDocument, dayOfMutationIndex, edgeDocId, edgeDocument, mutationIndex, walDocument } from './documents';

const ctx = { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'a', requestId: 'req-1' } };
const event = (id: string, version: number, type: 'INSERT' | 'DELETE' = 'INSERT') => ({ id, requestId: 'req-1', type, version, source: 'u1', target: 7, properties: {} });
const state = (active: boolean, version: number) => ({ source: 'u1', target: 7, active, version, createdAt: 100, deletedAt: active ? null : version, properties: {} });
const at = Date.UTC(2026, 10, 26, 23, 59, 59);

function decoded<R>(kind: 'wal' | 'cdc', record: R, offset = 5n): DecodedRecord<R> {
  return { kind, record, topic: 't', partition: 1, offset, key: 'u1:7', timestamp: 0, value: Buffer.from(''), headers: {} } as DecodedRecord<R>;
}

const wal: WalRecord = { version: '3', type: 'e', processedAt: at, context: ctx, event: event('01A', 100), mode: { table: 'SYNC', request: null, queue: false } };
const cdc: CdcRecord = {
  version: '3', type: 'e', processedAt: at, lockAt: at, seq: 42, status: 'DELETED', accumulator: -1, message: null, context: ctx,
  events: [event('01B', 200, 'DELETE')], before: state(true, 100), after: state(false, 200),
};

describe('documents', () => {
  it('ids come from event ids and the CDC seq, never from Kafka offsets: a replay at other offsets writes the same ids', () => {
    expect(walDocument('p', decoded('wal', wal, 1n)).id).toBe('wal:01A');
    expect(walDocument('p', decoded('wal', wal, 999n)).id).toBe('wal:01A');
    expect(cdcDocId(cdc)).toBe('cdc:shop.likes:42');
    const { seq: _seq, ...v2 } = cdc;
    expect(cdcDocId(v2 as CdcRecord)).toBe('cdc:shop.likes:e:01B');
  });

  it('the mutation-log index is the UTC day of processedAt', () => {
    expect(mutationIndex('p', at)).toBe('p-mutations-2026.11.26');
    expect(dayOfMutationIndex('p', 'p-mutations-2026.11.26')).toBe(Date.UTC(2026, 10, 26));
    expect(dayOfMutationIndex('p', 'q-mutations-2026.11.26')).toBeUndefined();
  });

  it('a deleted edge stays as a soft tombstone versioned on seq', () => {
    const doc = edgeDocument('p', decoded('cdc', cdc))!;
    expect(doc).toMatchObject({ index: 'p-edges', version: 42, body: { active: false, status: 'DELETED', parties: ['u1', '7'] } });
    expect(doc.id).toBe(edgeDocId('shop', 'likes', 'u1', 7));
    expect(edgeDocument('p', decoded('cdc', { ...cdc, status: 'ERROR', after: null }))).toBeUndefined();
  });

  it('documents of a user carry both ends of the edge and every request id', () => {
    expect(cdcDocument('p', decoded('cdc', cdc)).body).toMatchObject({ parties: ['u1', '7'], requestIds: ['req-1'], eventIds: ['01B'], seq: 42, status: 'DELETED' });
  });

  it('64-bit ids and ns versions beyond 2^53 are indexed exactly: ids, parties, state and the bulk body text', () => {
    const big = 9007199254740993n;
    const ns = 1732900000000000001n;
    const s = { source: big, target: big + 2n, active: true, version: ns, createdAt: ns, deletedAt: null, properties: { n: { value: big, version: ns } } };
    const r: CdcRecord = { ...cdc, seq: undefined, status: 'CREATED', accumulator: 1, events: [{ ...event('01C', 0), version: ns, source: big, target: big + 2n }], before: null, after: s };
    const doc = edgeDocument('p', decoded('cdc', r))!;
    // without a seq (Actionbase v2 records) the external version is the edge's, 64-bit as Elasticsearch's
    expect(doc.version).toBe(ns);
    expect(doc.id).toBe('shop.likes:[9007199254740993,9007199254740995]');
    expect(doc.id).not.toBe(edgeDocId('shop', 'likes', big - 1n, big + 2n));
    expect(doc.body).toMatchObject({ source: '9007199254740993', target: '9007199254740995', parties: ['9007199254740993', '9007199254740995'], state: s });
    const serializer = new LongSafeSerializer();
    const ndjson = serializer.ndserialize([{ index: { _id: doc.id, version: doc.version, version_type: 'external_gte' } }, doc.body]);
    expect(ndjson).toContain('"version":1732900000000000001,"version_type"');
    expect(ndjson).toContain('"state":{"source":9007199254740993,"target":9007199254740995');
    expect(serializer.deserialize<{ state: unknown }>(ndjson.split('\n')[1]!).state).toEqual(s);
  });

  it('ids longer than Elasticsearch allows (512 bytes) are hashed, stably', () => {
    const long = 'x'.repeat(600);
    const a = edgeDocId('shop', 'likes', long, 1);
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(edgeDocId('shop', 'likes', long, 1)).toBe(a);
  });
});
