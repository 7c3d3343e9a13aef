import { describe, expect, it } from '@jest/globals';
import { parquetReadObjects, parquetSchema, parquetMetadata } from 'hyparquet';
import { snapshotRowFromParquet } from '@pipeline/iceberg';
import type { CdcRecord } from '@pipeline/events';
import { tempDir } from '@pipeline/testing';
import { rowOfState } from './cdc-row';
import { writeParquet, writeSnapshotParquet, type ColumnSpec, type ParquetCodec, type ParquetWriteOptions } from './parquet-file';
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

  describe('column chunks across row groups and pages, read back exactly', () => {
    const all: ColumnSpec[] = [
      { id: 1, name: 'key', type: 'string', required: true },
      { id: 2, name: 'kind', type: 'string', required: false },
      { id: 3, name: 'flag', type: 'boolean', required: false },
      { id: 4, name: 'n', type: 'long', required: false },
      { id: 5, name: 'at', type: 'timestamptz', required: true },
      { id: 6, name: 'on', type: 'boolean', required: true },
      { id: 7, name: 'none', type: 'string', required: false },
    ];
    const words = ['a', 'é', '😀x', '\uffff', 'zz', 'user1'];
    const rows = Array.from({ length: 700 }, (_, i) => ({
      key: `${words[i % 6]}-${i}`, // all distinct: PLAIN
      kind: i % 7 === 0 ? null : words[i % 5]!, // few distinct: a dictionary
      flag: i % 3 === 0 ? null : i % 2 === 0,
      // numbers, and bigints beyond 2^53 up to the ends of the 64-bit range
      n: i % 11 === 0 ? null : i % 5 === 0 ? 9007199254740993n + BigInt(i) : i % 5 === 1 ? -(2n ** 63n) + BigInt(i) : i === 2 ? 2n ** 63n - 1n : i % 5 === 2 ? -i * 1e9 : i,
      at: i % 4 === 0 ? 1_732_900_000_000_123n : 1_700_000_000_000 + i, // ms
      on: i % 9 !== 0,
      none: null,
    }));

    async function readBack(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      // Timestamps as the stored microseconds, not Dates (which hold milliseconds).
      return (await parquetReadObjects({ file: ab, utf8: true, parsers: { timestampFromMicroseconds: (v: bigint) => v } as never })) as Record<string, unknown>[];
    }
    const expected = rows.map((r) => ({ ...r, n: r.n === null ? null : BigInt(r.n), at: BigInt(r.at) * 1000n }));

    it.each<[ParquetCodec, ParquetWriteOptions, number]>([
      ['SNAPPY', { rowGroupRows: 300, pageBytes: 100 }, 3],
      ['UNCOMPRESSED', { rowGroupRows: 300, pageBytes: 100 }, 3],
      ['SNAPPY', {}, 1],
    ])('%s %j: every value, null and 64-bit LONG as written, dictionary where values repeat', async (codec, options, groups) => {
      const w = writeParquet(all, rows, codec, options);
      expect(await readBack(w.bytes)).toEqual(expected);
      const ab = w.bytes.buffer.slice(w.bytes.byteOffset, w.bytes.byteOffset + w.bytes.byteLength) as ArrayBuffer;
      const meta = parquetMetadata(ab);
      expect(meta.row_groups).toHaveLength(groups);
      expect(parquetSchema(meta).children.map((c) => c.element.field_id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const chunks = meta.row_groups[0]!.columns;
      expect(chunks[0]!.meta_data!.encodings).not.toContain('RLE_DICTIONARY');
      expect(chunks[1]!.meta_data!.encodings).toContain('RLE_DICTIONARY');
      expect(chunks[1]!.meta_data!.codec).toBe(codec);
      // Small pages: a chunk of 300 rows spans several.
      if (options.pageBytes) expect(chunks[0]!.meta_data!.encoding_stats!.find((s) => s.page_type === 'DATA_PAGE_V2')!.count).toBeGreaterThan(1);

      // The bounds are the extremes over all row groups: longs as signed 64-bit, timestamps in µs, strings in
      // UTF-8 byte order (a surrogate pair sorts above U+FFFF).
      const st = (id: number) => w.stats.get(id)!;
      expect([st(4).valueCount, st(4).nullCount]).toEqual([700, rows.filter((r) => r.n === null).length]);
      expect(st(4).lower!.readBigInt64LE()).toBe(-(2n ** 63n) + 1n);
      expect(st(4).upper!.readBigInt64LE()).toBe(2n ** 63n - 1n);
      expect(st(5).lower!.readBigInt64LE()).toBe(1_700_000_000_001_000n);
      expect(st(5).upper!.readBigInt64LE()).toBe(1_732_900_000_000_123_000n);
      const utf8Sorted = rows.map((r) => Buffer.from(r.key, 'utf8')).sort(Buffer.compare);
      expect(st(1).lower).toEqual(utf8Sorted[0]);
      expect(st(1).upper).toEqual(utf8Sorted[utf8Sorted.length - 1]);
      expect(st(1).upper!.toString('utf8').startsWith('😀x')).toBe(true);
      // '😀x' (a surrogate pair in UTF-16) is below '\uffff' to JS, above it in UTF-8.
      expect([st(2).lower!.toString('utf8'), st(2).upper!.toString('utf8'), st(2).nullCount]).toEqual(['a', '😀x', 100]);
      expect([st(3).lower, st(3).upper, st(3).nullCount]).toEqual([Buffer.from([0]), Buffer.from([1]), 234]);
      expect([st(6).lower, st(6).upper]).toEqual([Buffer.from([0]), Buffer.from([1])]);
      expect([st(7).nullCount, st(7).lower, st(7).upper]).toEqual([700, undefined, undefined]);
    });

    it('refuses a missing required value, a fraction and a LONG beyond 64 bits, naming the column and row', () => {
      expect(() => writeParquet(all, [{ ...rows[1]!, key: null }])).toThrow('column key is required but row 0 has no value');
      expect(() => writeParquet(all, [rows[1]!, { ...rows[1]!, n: 1.5 }])).toThrow(/column n: row 1 holds 1.5/);
      expect(() => writeParquet(all, [{ ...rows[1]!, n: 2n ** 63n }])).toThrow(/column n: row 0 holds 9223372036854775808/);
      expect(() => writeParquet(all, [{ ...rows[1]!, at: 2n ** 62n }])).toThrow(/column at: row 0 .* not a timestamp within 64-bit microseconds/);
      expect(() => writeParquet(all, [{ ...rows[1]!, kind: 5 }])).toThrow(/column kind: row 0 holds 5 \(number\), not a string/);
    });

    it('writes a file without rows', async () => {
      const w = writeParquet(all, []);
      expect(await readBack(w.bytes)).toEqual([]);
      expect(w.stats.get(1)).toEqual({ valueCount: 0, nullCount: 0 });
    });
  });
});
