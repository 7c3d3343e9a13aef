/**
 * Every released schema version keeps sample records in libs/events/samples/<version>/. They must keep
 * decoding, with the same key fields, whatever the schema becomes: records of every released version
 * stay on the topics (the WAL for 30 days) and consumers replay them.
 *
 * samples/v2 and samples/v3-actionbase hold one record per shape Actionbase's serializers write (engine
 * WalLog, CdcContext, V2BackedMessageBinding, the Kafka producer's heartbeat; core-java WALV2, CDCV2,
 * WALV3Edge/Vertex, CDCV3Edge/Vertex and their deserializer tests): field names and optionality as there.
 */
import { describe, it, expect } from '@jest/globals';
import {
  decodeCdc,
  decodeWal,
  encodeCdc,
  encodeWal,
  isSystemRecord,
  isVertexRecord,
  keyOfCdc,
  keyOfWal,
  type CdcStatus,
  type MutationType,
} from './index';
import { readSample, sampleFiles, edgeCdc, edgeWal } from './spec-helpers';

interface Common {
  database: string;
  table: string;
  key: string;
  edgeId?: string | number | bigint;
  system?: boolean;
}
interface WalExpectation extends Common {
  kind: 'wal';
  type: MutationType;
  queue: boolean;
}
interface CdcExpectation extends Common {
  kind: 'cdc';
  status: CdcStatus;
  accumulator: -1 | 0 | 1;
  events: number;
  active: boolean | null;
}
interface VertexExpectation {
  kind: 'wal-vertex' | 'cdc-vertex';
  database: string;
  table: string;
  key: string | number | bigint;
}
type Expectation = WalExpectation | CdcExpectation | VertexExpectation;

const likes = { database: 'shop', table: 'likes_20260101', key: 'u-100:5001' };
const gifts = { database: 'shop', table: 'gifts', key: 'u-100:u-200', edgeId: 77001 };
const heartbeat = { database: 'sys', table: 'heartbeat', system: true };
const follows = { database: 'shop', table: 'follows', key: '9007199254740993:-9223372036854775808' };
const users = { database: 'shop', table: 'users' };

const EXPECTED: Record<string, Expectation> = {
  'v2/wal-insert.json': { kind: 'wal', ...likes, type: 'INSERT', queue: false },
  'v2/wal-multi-edge.json': { kind: 'wal', ...gifts, type: 'INSERT', queue: false },
  'v2/wal-queued.json': { kind: 'wal', database: 'shop', table: 'recent_views', key: '42:9007', type: 'INSERT', queue: true },
  'v2/sys-heartbeat-wal.json': { kind: 'wal', ...heartbeat, key: 'core-host-1:127.0.0.1:9092', type: 'INSERT', queue: false },
  'v2/cdc-created.json': { kind: 'cdc', ...likes, status: 'CREATED', accumulator: 1, events: 1, active: true },
  'v2/cdc-deleted.json': { kind: 'cdc', ...likes, status: 'DELETED', accumulator: -1, events: 1, active: false },
  'v2/cdc-idle-replay.json': { kind: 'cdc', ...likes, status: 'IDLE', accumulator: 0, events: 1, active: false },
  'v2/cdc-error.json': { kind: 'cdc', ...likes, key: 'u-300:5002', status: 'ERROR', accumulator: 0, events: 1, active: null },
  'v2/wal-purge.json': { kind: 'wal', ...likes, type: 'DELETE', queue: false },
  'v2/cdc-purged.json': { kind: 'cdc', ...likes, status: 'PURGED', accumulator: -1, events: 1, active: null },
  // A multi-edge DELETE by id: Actionbase puts "0" where _source/_target are missing.
  'v2/wal-multi-edge-delete.json': { kind: 'wal', ...gifts, key: '0:0', type: 'DELETE', queue: false },
  'v2/cdc-multi-edge.json': { kind: 'cdc', ...gifts, status: 'CREATED', accumulator: 1, events: 1, active: true },
  'v2/wal-minimal.json': { kind: 'wal', ...likes, key: 'u-101:5003', type: 'INSERT', queue: false },
  'v2/cdc-minimal.json': { kind: 'cdc', ...likes, key: 'u-101:5003', status: 'CREATED', accumulator: 1, events: 1, active: null },
  'v2/wal-no-props.json': { kind: 'wal', ...likes, key: 'u-101:5003', type: 'DELETE', queue: false },
  'v2/cdc-no-props.json': { kind: 'cdc', ...likes, key: 'u-101:5003', status: 'DELETED', accumulator: -1, events: 1, active: false },
  'v2/cdc-heartbeat.json': { kind: 'cdc', ...heartbeat, key: 'core-host-1:127.0.0.1:9092', status: 'CREATED', accumulator: 0, events: 1, active: null },
  'v2/cdc-updated-unset.json': { kind: 'cdc', ...likes, status: 'UPDATED', accumulator: 0, events: 1, active: true },
  'v2/wal-long-ids.json': { kind: 'wal', ...follows, type: 'INSERT', queue: false },
  'v2/cdc-long-ids.json': { kind: 'cdc', ...follows, status: 'CREATED', accumulator: 1, events: 1, active: true },

  'v3/wal-insert.json': { kind: 'wal', ...likes, type: 'INSERT', queue: false },
  'v3/wal-update.json': { kind: 'wal', ...likes, type: 'UPDATE', queue: false },
  'v3/wal-delete.json': { kind: 'wal', ...likes, type: 'DELETE', queue: false },
  'v3/wal-multi-edge.json': { kind: 'wal', ...gifts, type: 'INSERT', queue: false },
  'v3/wal-queued.json': { kind: 'wal', database: 'shop', table: 'recent_views', key: '42:9007', type: 'INSERT', queue: true },
  'v3/wal-heartbeat.json': { kind: 'wal', ...heartbeat, key: 'core-host-1:core-host-1', type: 'INSERT', queue: false },
  'v3/cdc-created.json': { kind: 'cdc', ...likes, status: 'CREATED', accumulator: 1, events: 1, active: true },
  'v3/cdc-updated.json': { kind: 'cdc', ...likes, status: 'UPDATED', accumulator: 0, events: 2, active: true },
  'v3/cdc-deleted.json': { kind: 'cdc', ...likes, status: 'DELETED', accumulator: -1, events: 1, active: false },
  'v3/cdc-multi-edge.json': { kind: 'cdc', ...gifts, status: 'CREATED', accumulator: 1, events: 1, active: true },
  'v3/cdc-error.json': { kind: 'cdc', ...likes, key: 'u-300:5002', status: 'ERROR', accumulator: 0, events: 1, active: null },
  'v3/cdc-heartbeat.json': { kind: 'cdc', ...heartbeat, key: 'core-host-1:core-host-1', status: 'IDLE', accumulator: 0, events: 1, active: null },

  'v3-actionbase/wal-edge.json': { kind: 'wal', ...likes, type: 'INSERT', queue: false },
  'v3-actionbase/wal-edge-minimal.json': { kind: 'wal', ...likes, type: 'INSERT', queue: true },
  'v3-actionbase/cdc-edge.json': { kind: 'cdc', ...likes, status: 'UPDATED', accumulator: 0, events: 1, active: true },
  'v3-actionbase/cdc-edge-minimal.json': { kind: 'cdc', ...likes, key: 'u-300:5002', status: 'ERROR', accumulator: 0, events: 1, active: null },
  'v3-actionbase/wal-vertex.json': { kind: 'wal-vertex', ...users, key: 'u-100' },
  'v3-actionbase/cdc-vertex.json': { kind: 'cdc-vertex', ...users, key: 'u-100' },
  'v3-actionbase/cdc-vertex-minimal.json': { kind: 'cdc-vertex', ...users, key: 9007199254740993n },
};

const files = (['v2', 'v3', 'v3-actionbase'] as const).flatMap((v) => sampleFiles(v).map((f) => `${v}/${f}`));

describe('samples of every released schema version', () => {
  it('each sample file has an expectation here, and each expectation a file', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s decodes with its key fields intact', (file) => {
    const expected = EXPECTED[file]!;
    const text = readSample(file);
    if (expected.kind === 'wal-vertex' || expected.kind === 'cdc-vertex') {
      const record = expected.kind === 'wal-vertex' ? decodeWal(text) : decodeCdc(text);
      if (!isVertexRecord(record)) throw new Error(`${file}: expected a vertex record`);
      expect(record.context).toMatchObject({ database: expected.database, table: expected.table });
      expect('event' in record ? record.event.key : record.events.at(-1)!.key).toBe(expected.key);
      expect(isSystemRecord(record)).toBe(false);
    } else if (expected.kind === 'wal') {
      const record = edgeWal(text);
      expect(record.context).toMatchObject({ database: expected.database, table: expected.table });
      expect(record.event.type).toBe(expected.type);
      expect(record.mode.queue).toBe(expected.queue);
      expect(record.event.edgeId).toBe(expected.edgeId);
      expect(keyOfWal(record)).toBe(expected.key);
      expect(isSystemRecord(record)).toBe(expected.system ?? false);
      expect(record.event.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    } else if (expected.kind === 'cdc') {
      const record = edgeCdc(text);
      expect(record.context).toMatchObject({ database: expected.database, table: expected.table });
      expect(record).toMatchObject({ status: expected.status, accumulator: expected.accumulator });
      expect(record.events).toHaveLength(expected.events);
      expect(record.after?.active ?? null).toBe(expected.active);
      expect(record.events.at(-1)!.edgeId).toBe(expected.edgeId);
      if (expected.edgeId !== undefined && record.after) expect(record.after.edgeId).toBe(expected.edgeId);
      expect(keyOfCdc(record)).toBe(expected.key);
      expect(isSystemRecord(record)).toBe(expected.system ?? false);
    }
  });

  // Native samples are written exactly as the encoder writes them: every field the schema knows, in its
  // order, nothing else. A field dropped from or added to the schema shows up here.
  it.each(files.filter((f) => f.startsWith('v3/')))('%s is canonical: encode(decode(x)) reproduces it', (file) => {
    const text = readSample(file);
    const canonical = JSON.stringify(JSON.parse(text));
    const encoded = file.includes('/cdc-') ? encodeCdc(edgeCdc(text)) : encodeWal(edgeWal(text));
    expect(encoded).toBe(canonical);
  });
});
