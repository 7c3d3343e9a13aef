import { describe, expect, it } from '@jest/globals';
import { parquetReadObjects, parquetSchema, parquetMetadata } from 'hyparquet';
import { snapshotRowFromParquet } from '@pipeline/iceberg';
import type { CdcRecord } from '@pipeline/events';
import { tempDir } from '@pipeline/testing';
import { rowOfState } from './cdc-row';
import { writeParquet, writeSnapshotParquet, type ColumnSpec } from './parquet-file';
import { StagingStore } from './staging-store';

describe('Parquet files with Iceberg field ids and bounds', () => {
  const cols: ColumnSpec[] = [
    { id: 7, name: 's', type: 'string', required: false },
    { id: 9, name: 'n', type: 'long', required: true },
  ];
  const long = 'x'.repeat(70);

  it('write field ids, and value/null counts with bounds in Iceberg single-value form (long strings truncated)', async () => {
    const rows = [
      { s: 'b', n: 5 },
      { s: null, n: -2 },
      { s: long, n: 9 },
      { s: 'é', n: 1 }, // above every ASCII string in UTF-8 byte order
    ];
    const w = writeParquet(cols, rows);
    const ab = w.bytes.buffer.slice(w.bytes.byteOffset, w.bytes.byteOffset + w.bytes.byteLength) as ArrayBuffer;
    const schema = parquetSchema(parquetMetadata(ab));
    expect(schema.children.map((c) => [c.element.name, c.element.field_id])).toEqual([
      ['s', 7],
      ['n', 9],
    ]);
    expect(await parquetReadObjects({ file: ab, utf8: true })).toEqual(rows.map((r) => ({ ...r, n: BigInt(r.n) })));
    const s = w.stats.get(7)!;
    expect([s.valueCount, s.nullCount]).toEqual([4, 1]);
    expect(s.lower!.toString('utf8')).toBe('b');
    expect(s.upper!.toString('utf8')).toBe('é');
    const n = w.stats.get(9)!;
    expect(n.lower!.readBigInt64LE()).toBe(-2n);
    expect(n.upper!.readBigInt64LE()).toBe(9n);
    // A truncated upper bound must stay above the value: 64 code points, the last one incremented.
    const only = writeParquet(cols, [{ s: long, n: 1 }]).stats.get(7)!;
    expect(only.lower!.toString('utf8')).toBe('x'.repeat(64));
    expect(only.upper!.toString('utf8')).toBe('x'.repeat(63) + 'y');
  });

  it('64-bit LONGs (ids, nanosecond versions) go through staging and the Parquet long columns exactly', async () => {
    const big = 9007199254740993n;
    const ns = 1732900000000000001n;
    const state = { source: big, target: big + 2n, active: true, version: ns, createdAt: ns, deletedAt: null, properties: { n: { value: big, version: ns } } };
    const record = { seq: 7, processedAt: 1_764_000_000_000 } as CdcRecord;
    const row = rowOfState(state, record);
    expect(row).toMatchObject({ source: '9007199254740993', target: '9007199254740995', version: ns, created_at: ns, properties: '{"n":9007199254740993}' });

    const staging = new StagingStore(tempDir('staging'));
    staging.stage([{ table: 'shop.ids', key: 'k', ord: 7, row, topic: 't', partition: 0, offset: 0 }]);
    const staged = staging.pending('shop.ids', staging.gen).changes.map((c) => c.row!);
    expect(staged).toEqual([row]);

    const w = writeSnapshotParquet(staged);
    const ab = w.bytes.buffer.slice(w.bytes.byteOffset, w.bytes.byteOffset + w.bytes.byteLength) as ArrayBuffer;
    const [back] = (await parquetReadObjects({ file: ab, utf8: true })).map(snapshotRowFromParquet);
    expect(back).toEqual(row);
    expect(w.stats.get(5)!.lower!.readBigInt64LE()).toBe(ns);
  });
});
