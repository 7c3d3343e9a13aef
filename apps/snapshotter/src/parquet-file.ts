/**
 * Parquet files with Iceberg field ids, written with hyparquet-writer (chosen by bench/parquet-writers.ts,
 * see README), plus the per-column statistics Iceberg manifests carry (value/null counts, lower/upper bounds
 * in Iceberg's single-value binary serialization, spec "Appendix D: Single-value serialization").
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { compressSync } from 'snappy';
import { SNAPSHOT_COLUMNS, type ColumnSpec, type IcebergType, type SnapshotRow } from '@pipeline/iceberg';

/** hyparquet-writer's own SchemaElement (it pins a hyparquet of its own, whose types differ from the root one). */
type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

export type { ColumnSpec, IcebergType, SnapshotRow } from '@pipeline/iceberg';
export { SNAPSHOT_COLUMNS };

export interface ColumnStats {
  valueCount: number;
  nullCount: number;
  lower?: Buffer;
  upper?: Buffer;
}

export interface WrittenParquet {
  bytes: Uint8Array;
  rowCount: number;
  /** By field id. */
  stats: Map<number, ColumnStats>;
}

/** Longest string bound kept (Iceberg allows truncated bounds: lower truncated, upper truncated and incremented). */
const MAX_STRING_BOUND = 64;

function physical(c: ColumnSpec): SchemaElement {
  const base = { name: c.name, field_id: c.id, repetition_type: c.required ? 'REQUIRED' : 'OPTIONAL' } as const;
  switch (c.type) {
    case 'string':
      return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } };
    case 'long':
      return { ...base, type: 'INT64' };
    case 'boolean':
      return { ...base, type: 'BOOLEAN' };
    case 'timestamptz':
      return { ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } };
  }
}

/** Iceberg single-value serialization of a bound. */
function serialize(type: IcebergType, v: unknown): Buffer {
  switch (type) {
    case 'string':
      return Buffer.from(String(v), 'utf8');
    case 'boolean':
      return Buffer.from([v ? 1 : 0]);
    case 'long':
    case 'timestamptz': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(v as bigint);
      return b;
    }
  }
}

/** A string upper bound truncated to MAX_STRING_BOUND code points must be incremented to stay an upper bound. */
function upperString(s: string): string | undefined {
  const cps = Array.from(s);
  if (cps.length <= MAX_STRING_BOUND) return s;
  const head = cps.slice(0, MAX_STRING_BOUND);
  for (let i = head.length - 1; i >= 0; i--) {
    const cp = head[i]!.codePointAt(0)! + 1;
    if (cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return head.slice(0, i).join('') + String.fromCodePoint(cp);
  }
  return undefined;
}

const BEYOND_SURROGATES = /[\ud800-\uffff]/;

function compareStrings(a: string, b: string): number {
  // Iceberg orders strings by their UTF-8 bytes, which is code point order. JS compares UTF-16 units: the same
  // order except between a surrogate pair and U+E000..U+FFFF, so only strings holding both need the slow path.
  if (BEYOND_SURROGATES.test(a) && BEYOND_SURROGATES.test(b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when a sample of the column is mostly distinct values (no dictionary would be used for it). */
function mostlyDistinct(values: unknown[]): boolean {
  const n = Math.min(values.length, 1000);
  if (n === 0) return false;
  const seen = new Set<unknown>();
  for (let i = 0; i < n; i++) seen.add(values[Math.floor((i * (values.length - 1)) / Math.max(1, n - 1))]);
  return seen.size / n > 0.5;
}

/**
 * UTF-8 bytes of a string column as views into one buffer: one encode for the column instead of one
 * TextEncoder call (and one allocation to collect) per value, which dominated the profile for columns without a
 * dictionary. hyparquet-writer writes Uint8Array values of a UTF8 column as they are.
 */
function utf8Views(values: unknown[]): unknown[] {
  const strings = values.map((v) => (v === null ? '' : (v as string)));
  const joined = strings.join('');
  const bytes = Buffer.from(joined, 'utf8');
  const ascii = bytes.length === joined.length;
  const out: unknown[] = new Array(values.length);
  let off = 0;
  for (let i = 0; i < values.length; i++) {
    const len = ascii ? strings[i]!.length : Buffer.byteLength(strings[i]!, 'utf8');
    out[i] = values[i] === null ? null : new Uint8Array(bytes.buffer, bytes.byteOffset + off, len);
    off += len;
  }
  return out;
}

/**
 * Snappy in native code (the snappy package, prebuilt): hyparquet-writer's own compressor is JavaScript and
 * took a third of a snappy file's time, most of the gap to pyarrow that compression adds (bench/parquet-writers.ts).
 */
const SNAPPY_NATIVE = { SNAPPY: (bytes: Uint8Array): Uint8Array => compressSync(bytes) };

export type ParquetCodec = 'SNAPPY' | 'UNCOMPRESSED';

export interface ParquetWriteOptions {
  /** Snappy in hyparquet-writer's JavaScript instead of native code (how files were written before; bench/parquet-writers.ts compares the two). */
  jsSnappy?: boolean;
}

/**
 * Each column's values as the writers take them (long as bigint, timestamptz as bigint µs), and its Iceberg
 * statistics. Exported for bench/parquet-writers.ts, whose other writers start from the same columns.
 */
export function prepareColumns<R>(columns: ColumnSpec[], rows: readonly R[]): { data: unknown[][]; stats: Map<number, ColumnStats> } {
  const stats = new Map<number, ColumnStats>();
  const out = columns.map((c) => {
    const data: unknown[] = new Array(rows.length);
    let nulls = 0;
    let lo: unknown;
    let hi: unknown;
    for (let i = 0; i < rows.length; i++) {
      let v = (rows[i] as Record<string, unknown>)[c.name];
      if (v === null || v === undefined) {
        if (c.required) throw new Error(`column ${c.name} is required but row ${i} has no value`);
        nulls++;
        data[i] = null;
        continue;
      }
      if (c.type === 'long') v = BigInt(v as number);
      else if (c.type === 'timestamptz') v = BigInt(v as number) * 1000n;
      data[i] = v;
      if (c.type === 'string') {
        if (lo === undefined || compareStrings(v as string, lo as string) < 0) lo = v;
        if (hi === undefined || compareStrings(v as string, hi as string) > 0) hi = v;
      } else if (c.type === 'boolean') {
        if (lo === undefined || (!v && lo)) lo = v;
        if (hi === undefined || (v && !hi)) hi = v;
      } else {
        if (lo === undefined || (v as bigint) < (lo as bigint)) lo = v;
        if (hi === undefined || (v as bigint) > (hi as bigint)) hi = v;
      }
    }
    const s: ColumnStats = { valueCount: rows.length, nullCount: nulls };
    if (lo !== undefined) {
      if (c.type === 'string') {
        s.lower = serialize('string', Array.from(lo as string).slice(0, MAX_STRING_BOUND).join(''));
        const up = upperString(hi as string);
        if (up !== undefined) s.upper = serialize('string', up);
      } else {
        s.lower = serialize(c.type, lo);
        s.upper = serialize(c.type, hi);
      }
    }
    stats.set(c.id, s);
    return data;
  });
  return { data: out, stats };
}

/**
 * Writes rows (objects keyed by column name; long/timestamptz as numbers or bigints, timestamptz in ms) to one
 * Parquet file in memory, SNAPPY, one row group per 100k rows. hyparquet's own
 * Parquet statistics are off: computing them twice halved the rate, and Iceberg readers prune on the manifest's.
 */
export function writeParquet<R>(columns: ColumnSpec[], rows: readonly R[], codec: ParquetCodec = 'SNAPPY', options: ParquetWriteOptions = {}): WrittenParquet {
  const { data, stats } = prepareColumns(columns, rows);
  const columnData = columns.map((c, i) => ({ name: c.name, data: c.type === 'string' && mostlyDistinct(data[i]!) ? utf8Views(data[i]!) : data[i]! }));
  const schema: SchemaElement[] = [{ name: 'table', num_children: columns.length }, ...columns.map(physical)];
  const buf = parquetWriteBuffer({ columnData: columnData as never, schema, codec, compressors: options.jsSnappy ? {} : SNAPPY_NATIVE, rowGroupSize: 100_000, statistics: false });
  return { bytes: new Uint8Array(buf), rowCount: rows.length, stats };
}

export function writeSnapshotParquet(rows: readonly SnapshotRow[], codec: ParquetCodec = 'SNAPPY', options: ParquetWriteOptions = {}): WrittenParquet {
  return writeParquet(SNAPSHOT_COLUMNS, rows, codec, options);
}
