import { describe, expect, it } from '@jest/globals';
import { tempDir } from '@pipeline/testing';
import type { ChangeLogRow } from './cdc-row';
import type { SnapshotRow } from './parquet-file';
import { StagingStore, type StagedRecord } from './staging-store';

const row = (source: string, seq: number): SnapshotRow => ({
  source,
  target: 't',
  edge_id: null,
  active: true,
  version: seq,
  created_at: seq,
  deleted_at: null,
  seq,
  properties: '{}',
  updated_at_ms: 1,
});
const staged = (source: string, seq: number, offset: number, active = true): StagedRecord => ({
  table: 'db.t',
  key: source,
  ord: seq,
  row: active ? row(source, seq) : null,
  topic: 'cdc',
  partition: 0,
  offset,
  changelog: { hour: '2026-01-01-00', row: { seq, kafka_offset: offset } as unknown as ChangeLogRow },
});

describe('StagingStore', () => {
  const open = () => new StagingStore(tempDir('staging-spec'));

  it('keeps the highest seq per edge whatever the arrival order, and the next offset per partition', () => {
    const s = open();
    s.stage([staged('a', 5, 10), staged('b', 1, 11)]);
    s.stage([staged('a', 3, 12, false)]); // older seq arriving later loses
    const { changes, offsets } = s.pending('db.t', s.gen);
    expect(changes.find((c) => c.key === 'a')).toMatchObject({ ord: 5, row: { seq: 5 } });
    expect(offsets).toEqual({ 'cdc:0': 13 });
  });

  it('a commit clears only what it took: changes staged during the commit stay', () => {
    const s = open();
    s.stage([staged('a', 1, 0)]);
    const gen = s.gen;
    s.stage([staged('b', 2, 1)]);
    s.clearPending('db.t', gen);
    expect(s.pending('db.t', s.gen).changes.map((c) => c.key)).toEqual(['b']);
  });

  it('change-log rows are staged once per Kafka coordinate, and not again once their file was written', () => {
    const s = open();
    s.stage([staged('a', 1, 0), staged('a', 1, 0)]);
    expect(s.counts().changelog).toBe(1);
    const gen = s.gen;
    s.addIntent('/x.parquet', 'db.t', '2026-01-01-00', gen);
    s.completeIntent('/x.parquet');
    expect(s.counts().changelog).toBe(0);
    s.stage([staged('a', 1, 0)]); // redelivered after the file was written
    expect(s.counts().changelog).toBe(0);
    s.stage([staged('c', 2, 1)]);
    expect(s.counts().changelog).toBe(1);
  });

  it('keeps a deleted multi-edge deleted when an older record of it comes from another partition after the commit', () => {
    const s = open();
    const gift = (seq: number, partition: number, offset: number, active: boolean): StagedRecord => ({ ...staged('u1', seq, offset, active), key: 'id:g1', partition });
    s.stage([gift(5, 0, 0, true)]);
    s.clearPending('db.t', s.gen);
    // Moved, then deleted: keyed by its new endpoints, so in partition 1, consumed ahead of partition 0.
    s.stage([gift(10, 1, 0, false)]);
    expect(s.pending('db.t', s.gen).changes).toEqual([{ key: 'id:g1', ord: 10, row: null }]);
    s.clearPending('db.t', s.gen);
    // The move's older record from partition 0 comes only now: it must not bring the edge back.
    s.stage([gift(7, 0, 1, true)]);
    expect(s.pending('db.t', s.gen)).toEqual({ changes: [], offsets: { 'cdc:0': 2, 'cdc:1': 1 } });
    // A newer INSERT of the same id does.
    s.stage([gift(12, 0, 2, true)]);
    expect(s.pending('db.t', s.gen).changes).toMatchObject([{ key: 'id:g1', ord: 12, row: { seq: 12 } }]);
    // Unique edges keep no tombstone: their records stay in one partition, in order.
    s.stage([staged('u2', 20, 3, false)]);
    s.clearPending('db.t', s.gen);
    s.stage([staged('u2', 15, 4, true)]);
    expect(s.pending('db.t', s.gen).changes).toMatchObject([{ key: 'u2', ord: 15 }]);
    expect(s.counts().changelog).toBe(6);
    s.close();
  });
});
