/**
 * Parquet files with Iceberg field ids, plus the per-column statistics Iceberg manifests carry (value/null counts,
 * lower/upper bounds in Iceberg's single-value binary serialization, spec "Appendix D: Single-value serialization").
 *
 * The column chunks are encoded here, straight from the row objects, one pass per column and row group;
 * hyparquet-writer supplies the Thrift of the page headers and the footer and the RLE/bit-packed hybrid of the
 * definition levels and dictionary indexes. Why the values are not handed to hyparquet-writer's `parquetWrite`:
 * it takes one JS value per cell (a bigint per INT64 value, a string or byte view per string value), and copies
 * each column several times on its way to the page (row-group and page slices, level arrays, physical
 * conversions, a non-null filter, a growing buffer per page). With that path, our statistics pass and the garbage
 * of those values took most of a file's time and the writer stayed near 0.5× of pyarrow (bench/parquet-writers.ts,
 * bench/README.md "Parquet writer"). Here an INT64 number goes into the page as two 32-bit halves (a bigint only
 * for the values that are bigints), a string is written into the page buffer by one native call, and the
 * statistics come out of the same loop.
 */
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { compressSync } from 'snappy';
import { SNAPSHOT_COLUMNS, type ColumnSpec, type IcebergType, type SnapshotRow } from '@pipeline/iceberg';

/** hyparquet-writer's own Parquet types (it pins a hyparquet of its own, whose types differ from the root one). */
type FileMetaData = Parameters<typeof writeMetadata>[1];
type SchemaElement = FileMetaData['schema'][number];
type ColumnChunk = FileMetaData['row_groups'][number]['columns'][number];
type PageHeader = Parameters<typeof writePageHeader>[1];
type Encoding = NonNullable<PageHeader['data_page_header_v2']>['encoding'];

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

export type ParquetCodec = 'SNAPPY' | 'UNCOMPRESSED';

export interface ParquetWriteOptions {
  /** Rows per row group (100,000). */
  rowGroupRows?: number;
  /** Uncompressed bytes of values after which a data page ends, at the next row (1 MiB, as pyarrow). */
  pageBytes?: number;
}

/** Longest string bound kept (Iceberg allows truncated bounds: lower truncated, upper truncated and incremented). */
const MAX_STRING_BOUND = 64;
/** A string column gets no dictionary once its distinct values pass this many UTF-16 units (pyarrow's dictionary page limit is 1 MiB). */
const MAX_DICTIONARY_CHARS = 1 << 20;
const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // PAR1
const TWO_32 = 4294967296;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

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
      b.writeBigInt64LE(BigInt(v as number | bigint));
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

/**
 * Iceberg orders strings by their UTF-8 bytes, which is code point order. JS compares UTF-16 units: the same order
 * except between a surrogate pair and U+E000..U+FFFF, so only two strings that both hold such units (`wide`) need
 * the byte comparison.
 */
function stringLess(a: string, aWide: boolean, b: string, bWide: boolean): boolean {
  if (aWide && bWide) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0;
  return a < b;
}

/** Running nulls and bounds of one column over the whole file. */
interface Bounds {
  nulls: number;
  lo: unknown;
  hi: unknown;
  loWide: boolean;
  hiWide: boolean;
}

function addString(b: Bounds, s: string, wide: boolean): void {
  if (b.lo === undefined) {
    b.lo = b.hi = s;
    b.loWide = b.hiWide = wide;
    return;
  }
  if (stringLess(s, wide, b.lo as string, b.loWide)) {
    b.lo = s;
    b.loWide = wide;
  } else if (stringLess(b.hi as string, b.hiWide, s, wide)) {
    b.hi = s;
    b.hiWide = wide;
  }
}

/** Code point (UTF-8 byte) order of two strings, as Iceberg orders them: negative, zero or positive. */
export function compareStrings(a: string, b: string): number {
  const aWide = BEYOND_SURROGATES.test(a);
  const bWide = BEYOND_SURROGATES.test(b);
  return stringLess(a, aWide, b, bWide) ? -1 : stringLess(b, bWide, a, aWide) ? 1 : 0;
}

/**
 * A column's Iceberg statistics from its lowest and highest value (undefined when it had none): strings truncated
 * to MAX_STRING_BOUND code points, the upper one incremented to stay an upper bound.
 */
export function columnStats(type: IcebergType, valueCount: number, nullCount: number, lo: unknown, hi: unknown): ColumnStats {
  const s: ColumnStats = { valueCount, nullCount };
  if (lo === undefined) return s;
  if (type === 'string') {
    s.lower = serialize('string', Array.from(lo as string).slice(0, MAX_STRING_BOUND).join(''));
    const up = upperString(hi as string);
    if (up !== undefined) s.upper = serialize('string', up);
  } else {
    s.lower = serialize(type, lo);
    s.upper = serialize(type, hi);
  }
  return s;
}

function noValue(c: ColumnSpec, row: number): Error {
  return new Error(`column ${c.name} is required but row ${row} has no value`);
}

function badValue(c: ColumnSpec, row: number, v: unknown, want: string): Error {
  return new Error(`column ${c.name}: row ${row} holds ${typeof v === 'string' ? JSON.stringify(v) : String(v)} (${typeof v}), not ${want}`);
}

/** One column chunk's values, encoded, with where its pages end. */
interface EncodedChunk {
  encoding: Encoding;
  /** PLAIN values (`values`), or dictionary indexes (`indexes`) with the PLAIN-encoded dictionary. */
  values?: Uint8Array;
  indexes?: Int32Array;
  dictionary?: { bytes: Uint8Array; count: number };
  /** Per row, 1 when the row has a value: only for optional columns. */
  defs?: Uint8Array;
  nulls: number;
  /** Page ends: row, number of values, and (PLAIN) byte offset in `values`. */
  pages: { rowEnd: number; valueEnd: number; byteEnd: number }[];
}

/** A growing byte buffer (a Buffer, for its native UTF-8 write). */
class Bytes {
  buf: Buffer;
  off = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, size));
  }
  ensure(n: number): Buffer {
    if (this.off + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.off + n));
      this.buf.copy(next, 0, 0, this.off);
      this.buf = next;
    }
    return this.buf;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.off);
  }
}

/**
 * Appends a PLAIN BYTE_ARRAY value (4-byte length, UTF-8 bytes) with Buffer#write: one native call per value
 * measured 1.5x faster than copying ASCII units in a JS loop (10.3 against 15.1 ms for this schema's two PLAIN
 * string columns of 100,000 rows). Returns whether the string holds a unit of U+D800..U+FFFF (see `stringLess`):
 * only a string whose UTF-8 is longer than its UTF-16 length (not ASCII) can.
 */
function putString(out: Bytes, s: string): boolean {
  const buf = out.ensure(4 + 3 * s.length);
  const start = out.off;
  const len = buf.write(s, start + 4, 'utf8');
  buf[start] = len & 0xff;
  buf[start + 1] = (len >>> 8) & 0xff;
  buf[start + 2] = (len >>> 16) & 0xff;
  buf[start + 3] = len >>> 24;
  out.off = start + 4 + len;
  return len !== s.length && BEYOND_SURROGATES.test(s);
}

function encodeInt64(c: ColumnSpec, rows: readonly unknown[], start: number, end: number, pageBytes: number, b: Bounds): EncodedChunk {
  const name = c.name;
  const micros = c.type === 'timestamptz';
  const values = new Uint8Array(8 * (end - start));
  const view = new DataView(values.buffer);
  const defs = c.required ? undefined : new Uint8Array(end - start);
  const pages: EncodedChunk['pages'] = [];
  const perPage = Math.max(1, Math.floor(pageBytes / 8));
  let lo = b.lo as number | bigint | undefined;
  let hi = b.hi as number | bigint | undefined;
  let n = 0;
  let pageStart = 0;
  for (let i = start; i < end; i++) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) {
      if (!defs) throw noValue(c, i);
      b.nulls++;
    } else {
      if (defs) defs[i - start] = 1;
      let x: number | bigint;
      if (typeof v === 'number' && Number.isSafeInteger(v) && (!micros || Number.isSafeInteger(v * 1000))) {
        x = micros ? v * 1000 : v;
        // Two 32-bit halves: exact for every safe integer, and no bigint made for it.
        const low = x >>> 0;
        view.setUint32(8 * n, low, true);
        view.setInt32(8 * n + 4, (x - low) / TWO_32, true);
      } else {
        if (typeof v === 'bigint') x = micros ? v * 1000n : v;
        else if (typeof v === 'number' && Number.isInteger(v)) x = micros ? BigInt(v) * 1000n : BigInt(v);
        else throw badValue(c, i, v, micros ? 'an integer of milliseconds' : 'a 64-bit integer');
        if (x < INT64_MIN || x > INT64_MAX) throw badValue(c, i, v, micros ? 'a timestamp within 64-bit microseconds' : 'a 64-bit integer');
        view.setBigInt64(8 * n, x, true);
      }
      // number < bigint and the like compare exactly.
      if (lo === undefined || x < lo) lo = x;
      if (hi === undefined || x > hi) hi = x;
      n++;
    }
    if (i + 1 - start - pageStart >= perPage) {
      pages.push({ rowEnd: i + 1 - start, valueEnd: n, byteEnd: 8 * n });
      pageStart = i + 1 - start;
    }
  }
  if (pageStart < end - start || pages.length === 0) pages.push({ rowEnd: end - start, valueEnd: n, byteEnd: 8 * n });
  b.lo = lo;
  b.hi = hi;
  return { encoding: 'PLAIN', values: values.subarray(0, 8 * n), defs, nulls: end - start - n, pages };
}

function encodeBoolean(c: ColumnSpec, rows: readonly unknown[], start: number, end: number, b: Bounds): EncodedChunk {
  const name = c.name;
  // Bit-packed PLAIN; a row group's booleans fit one page (100,000 rows: 12.5 kB).
  const values = new Uint8Array((end - start + 7) >>> 3);
  const defs = c.required ? undefined : new Uint8Array(end - start);
  let n = 0;
  let any = false;
  let all = true;
  for (let i = start; i < end; i++) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) {
      if (!defs) throw noValue(c, i);
      b.nulls++;
      continue;
    }
    if (typeof v !== 'boolean') throw badValue(c, i, v, 'a boolean');
    if (defs) defs[i - start] = 1;
    if (v) {
      values[n >>> 3]! |= 1 << (n & 7);
      any = true;
    } else all = false;
    n++;
  }
  if (n > 0) {
    if (b.lo === undefined) {
      b.lo = all;
      b.hi = any;
    } else {
      b.lo = (b.lo as boolean) && all;
      b.hi = (b.hi as boolean) || any;
    }
  }
  const bytes = (n + 7) >>> 3;
  return { encoding: 'PLAIN', values: values.subarray(0, bytes), defs, nulls: end - start - n, pages: [{ rowEnd: end - start, valueEnd: n, byteEnd: bytes }] };
}

/**
 * Whether a dictionary is worth trying: a stride sample of 1/16 of the chunk (at least 256 values) with at most
 * 70% distinct values. A sample of a fixed 1,000 values (hyparquet-writer's) sees 5,000 distinct values among
 * 100,000 as mostly distinct.
 */
function dictionaryLikely(name: string, rows: readonly unknown[], start: number, end: number): boolean {
  const n = end - start;
  if (n < 64) return false;
  const step = Math.max(1, Math.min(16, Math.floor(n / 256)));
  const seen = new Set<unknown>();
  let m = 0;
  for (let i = start; i < end; i += step) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) continue;
    seen.add(v);
    m++;
  }
  return m > 0 && seen.size <= 0.7 * m;
}

function encodeStringDictionary(c: ColumnSpec, rows: readonly unknown[], start: number, end: number, pageBytes: number, b: Bounds): EncodedChunk | undefined {
  const name = c.name;
  const ids = new Map<string, number>();
  const dict: string[] = [];
  const indexes = new Int32Array(end - start);
  const defs = c.required ? undefined : new Uint8Array(end - start);
  const maxDistinct = (end - start) >>> 1;
  let chars = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) {
      if (!defs) throw noValue(c, i);
      continue;
    }
    if (typeof v !== 'string') throw badValue(c, i, v, 'a string');
    if (defs) defs[i - start] = 1;
    let id = ids.get(v);
    if (id === undefined) {
      id = dict.length;
      chars += v.length;
      // Too many or too large distinct values: PLAIN instead (the work so far is lost, bounded by these limits).
      if (id >= maxDistinct || chars > MAX_DICTIONARY_CHARS) return undefined;
      ids.set(v, id);
      dict.push(v);
    }
    indexes[n++] = id;
  }
  b.nulls += end - start - n;
  const out = new Bytes(chars + 4 * dict.length);
  for (const s of dict) addString(b, s, putString(out, s));
  // Indexes cost at most 4 bytes each before bit packing.
  const perPage = Math.max(1, Math.floor(pageBytes / 4));
  const pages: EncodedChunk['pages'] = [];
  let pageStart = 0;
  let k = 0;
  for (let r = 0; r < end - start; r++) {
    if (!defs || defs[r]) k++;
    if (r + 1 - pageStart >= perPage) {
      pages.push({ rowEnd: r + 1, valueEnd: k, byteEnd: 0 });
      pageStart = r + 1;
    }
  }
  if (pageStart < end - start || pages.length === 0) pages.push({ rowEnd: end - start, valueEnd: k, byteEnd: 0 });
  return { encoding: 'RLE_DICTIONARY', indexes: indexes.subarray(0, n), dictionary: { bytes: out.bytes(), count: dict.length }, defs, nulls: end - start - n, pages };
}

function encodeStringPlain(c: ColumnSpec, rows: readonly unknown[], start: number, end: number, pageBytes: number, b: Bounds, sizeHint: number): EncodedChunk {
  const name = c.name;
  const out = new Bytes(sizeHint);
  const defs = c.required ? undefined : new Uint8Array(end - start);
  const pages: EncodedChunk['pages'] = [];
  let n = 0;
  let pageOff = 0;
  for (let i = start; i < end; i++) {
    const v = (rows[i] as Record<string, unknown>)[name];
    if (v === null || v === undefined) {
      if (!defs) throw noValue(c, i);
      b.nulls++;
    } else {
      if (typeof v !== 'string') throw badValue(c, i, v, 'a string');
      if (defs) defs[i - start] = 1;
      addString(b, v, putString(out, v));
      n++;
    }
    if (out.off - pageOff >= pageBytes) {
      pages.push({ rowEnd: i + 1 - start, valueEnd: n, byteEnd: out.off });
      pageOff = out.off;
    }
  }
  if (pages.length === 0 || pages[pages.length - 1]!.rowEnd < end - start) pages.push({ rowEnd: end - start, valueEnd: n, byteEnd: out.off });
  return { encoding: 'PLAIN', values: out.bytes(), defs, nulls: end - start - n, pages };
}

/** Collects the file's pieces and their offsets; one copy at the end. */
class Sink {
  readonly parts: Uint8Array[] = [];
  offset = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.offset += b.length;
  }
  thrift(write: (w: ByteWriter) => void): number {
    const w = new ByteWriter(256);
    write(w);
    this.push(w.getBytes());
    return w.offset;
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.parts, this.offset);
  }
}

function compress(codec: ParquetCodec, b: Uint8Array): Uint8Array {
  return codec === 'SNAPPY' ? compressSync(b) : b;
}

/** Writes a column chunk's pages (dictionary page first, then DATA_PAGE_V2s) and returns its metadata. */
function writeChunk(sink: Sink, c: ColumnSpec, el: SchemaElement, e: EncodedChunk, codec: ParquetCodec): { chunk: ColumnChunk; uncompressed: number } {
  const chunkStart = sink.offset;
  let uncompressed = 0;
  let dictionaryOffset: bigint | undefined;
  if (e.dictionary) {
    dictionaryOffset = BigInt(sink.offset);
    const data = compress(codec, e.dictionary.bytes);
    const header = sink.thrift((w) =>
      writePageHeader(w, {
        type: 'DICTIONARY_PAGE',
        uncompressed_page_size: e.dictionary!.bytes.length,
        compressed_page_size: data.length,
        dictionary_page_header: { num_values: e.dictionary!.count, encoding: 'PLAIN' },
      }),
    );
    sink.push(data);
    uncompressed += header + e.dictionary.bytes.length;
  }
  const dataOffset = BigInt(sink.offset);
  const bitWidth = e.dictionary ? Math.max(1, Math.ceil(Math.log2(e.dictionary.count))) : 0;
  let row = 0;
  let value = 0;
  let byte = 0;
  for (const p of e.pages) {
    const rowCount = p.rowEnd - row;
    const valueCount = p.valueEnd - value;
    let levels: Uint8Array = new Uint8Array(0);
    if (e.defs) {
      const w = new ByteWriter(64);
      writeRleBitPackedHybrid(w, e.defs.subarray(row, p.rowEnd), 1);
      levels = w.getBytes();
    }
    let body: Uint8Array;
    if (e.indexes) {
      const w = new ByteWriter(Math.ceil((valueCount * bitWidth) / 8) + 64);
      w.appendUint8(bitWidth);
      writeRleBitPackedHybrid(w, e.indexes.subarray(value, p.valueEnd), bitWidth);
      body = w.getBytes();
    } else {
      body = e.values!.subarray(byte, p.byteEnd);
    }
    const data = compress(codec, body);
    const header = sink.thrift((w) =>
      writePageHeader(w, {
        type: 'DATA_PAGE_V2',
        uncompressed_page_size: levels.length + body.length,
        compressed_page_size: levels.length + data.length,
        data_page_header_v2: {
          num_values: rowCount,
          num_nulls: rowCount - valueCount,
          num_rows: rowCount,
          encoding: e.encoding,
          definition_levels_byte_length: levels.length,
          repetition_levels_byte_length: 0,
          is_compressed: codec !== 'UNCOMPRESSED',
        },
      }),
    );
    sink.push(levels);
    sink.push(data);
    uncompressed += header + levels.length + body.length;
    row = p.rowEnd;
    value = p.valueEnd;
    byte = p.byteEnd;
  }
  const encodings: Encoding[] = e.dictionary ? ['PLAIN', 'RLE_DICTIONARY'] : ['PLAIN'];
  if (e.defs) encodings.push('RLE');
  return {
    uncompressed,
    chunk: {
      file_offset: BigInt(chunkStart),
      meta_data: {
        type: el.type!,
        encodings,
        path_in_schema: [c.name],
        codec,
        num_values: BigInt(row),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(sink.offset - chunkStart),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        encoding_stats: [
          ...(e.dictionary ? [{ page_type: 'DICTIONARY_PAGE' as const, encoding: 'PLAIN' as const, count: 1 }] : []),
          { page_type: 'DATA_PAGE_V2' as const, encoding: e.encoding, count: e.pages.length },
        ],
      },
    },
  };
}

/**
 * Writes rows (objects keyed by column name; long/timestamptz as numbers or bigints, timestamptz in ms) to one
 * Parquet file in memory: DATA_PAGE_V2 pages, SNAPPY by default, one row group per 100k rows; strings with a
 * dictionary where a sample says it pays, everything else PLAIN. No Parquet statistics: Iceberg readers prune
 * on the manifest's, returned in `stats`.
 */
export function writeParquet<R>(columns: ColumnSpec[], rows: readonly R[], codec: ParquetCodec = 'SNAPPY', options: ParquetWriteOptions = {}): WrittenParquet {
  const rowGroupRows = options.rowGroupRows ?? 100_000;
  const pageBytes = options.pageBytes ?? 1 << 20;
  const schema: SchemaElement[] = [{ name: 'table', num_children: columns.length }, ...columns.map(physical)];
  const bounds: Bounds[] = columns.map(() => ({ nulls: 0, lo: undefined, hi: undefined, loWide: false, hiWide: false }));
  // The previous row group's PLAIN size of each string column, to size the next one's buffer.
  const sizeHints = columns.map(() => 0);
  const sink = new Sink();
  sink.push(MAGIC);
  const rowGroups: FileMetaData['row_groups'] = [];
  for (let start = 0; start < rows.length; start += rowGroupRows) {
    const end = Math.min(rows.length, start + rowGroupRows);
    const groupStart = sink.offset;
    const chunks: ColumnChunk[] = [];
    let groupBytes = 0;
    columns.forEach((c, i) => {
      let e: EncodedChunk | undefined;
      if (c.type === 'long' || c.type === 'timestamptz') e = encodeInt64(c, rows, start, end, pageBytes, bounds[i]!);
      else if (c.type === 'boolean') e = encodeBoolean(c, rows, start, end, bounds[i]!);
      else {
        if (dictionaryLikely(c.name, rows, start, end)) e = encodeStringDictionary(c, rows, start, end, pageBytes, bounds[i]!);
        if (!e) {
          e = encodeStringPlain(c, rows, start, end, pageBytes, bounds[i]!, sizeHints[i]! || 32 * (end - start));
          sizeHints[i] = e.values!.length;
        }
      }
      const { chunk, uncompressed } = writeChunk(sink, c, schema[i + 1]!, e, codec);
      chunks.push(chunk);
      groupBytes += uncompressed;
    });
    rowGroups.push({
      columns: chunks,
      total_byte_size: BigInt(groupBytes),
      num_rows: BigInt(end - start),
      file_offset: BigInt(groupStart),
      total_compressed_size: BigInt(sink.offset - groupStart),
    });
  }
  sink.thrift((w) =>
    writeMetadata(w, { version: 2, created_by: 'actionbase-pipeline snapshotter', schema, num_rows: BigInt(rows.length), row_groups: rowGroups, metadata_length: 0 }),
  );
  sink.push(MAGIC);
  const stats = new Map<number, ColumnStats>();
  columns.forEach((c, i) => stats.set(c.id, columnStats(c.type, rows.length, bounds[i]!.nulls, bounds[i]!.lo, bounds[i]!.hi)));
  return { bytes: sink.bytes(), rowCount: rows.length, stats };
}

export function writeSnapshotParquet(rows: readonly SnapshotRow[], codec: ParquetCodec = 'SNAPPY', options: ParquetWriteOptions = {}): WrittenParquet {
  return writeParquet(SNAPSHOT_COLUMNS, rows, codec, options);
}
