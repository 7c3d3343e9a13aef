/**
 * Manifests and manifest lists (spec "Manifests", "Manifest Lists") as Avro object container files, written and
 * read with avsc's BlockEncoder/BlockDecoder. The encoder is given our schema object, so the header carries it
 * verbatim with every `field-id`/`element-id` Iceberg readers match on (avsc's exported schemas drop them).
 * Avro longs are bigint here: snapshot ids are 64-bit, and other engines' manifests may hold any of them.
 */
import avro from 'avsc';
import { MANIFEST_ENTRY_SCHEMA, MANIFEST_FILE_SCHEMA } from './manifest-schemas';
import type { SnapshotId } from './metadata';

/** Avro long <-> bigint (numbers are accepted when written). */
const BigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => n.toString(),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isSafeInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

const typeOf = (schema: unknown) => avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false, registry: { long: BigLong } } as unknown as Partial<avro.ForSchemaOptions>);
const ENTRY_TYPE = typeOf(MANIFEST_ENTRY_SCHEMA);
const LIST_TYPE = typeOf(MANIFEST_FILE_SCHEMA);

/** A data file as a manifest entry describes it (`data_file`, field 2); maps with int keys as key/value arrays. */
export interface DataFile {
  content: 0;
  file_path: string;
  file_format: 'PARQUET';
  partition: Record<string, never>;
  record_count: number;
  file_size_in_bytes: number;
  column_sizes: { key: number; value: number }[] | null;
  value_counts: { key: number; value: number }[] | null;
  null_value_counts: { key: number; value: number }[] | null;
  nan_value_counts: { key: number; value: number }[] | null;
  lower_bounds: { key: number; value: Buffer }[] | null;
  upper_bounds: { key: number; value: Buffer }[] | null;
  key_metadata: Buffer | null;
  split_offsets: number[] | null;
  equality_ids: number[] | null;
  sort_order_id: number | null;
}

export const EntryStatus = { EXISTING: 0, ADDED: 1, DELETED: 2 } as const;

export interface ManifestEntry {
  status: 0 | 1 | 2;
  /** Null in an ADDED entry means "the snapshot that added the manifest" (inherited). */
  snapshot_id: SnapshotId | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFile;
}

export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  /** 0 data, 1 deletes. */
  content: number;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: SnapshotId;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions: unknown[] | null;
  key_metadata: Buffer | null;
}

function encode(schema: object, type: avro.Type, records: readonly unknown[], metadata: Record<string, string>): Promise<Buffer> {
  const meta = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, { metadata: meta, codec: 'null', writeHeader: true } as never);
  // The encoder keeps the schema object for the header but builds its value type with default options
  // (longs as numbers); values are written with the same schema's type that reads longs as bigint.
  (encoder as unknown as { _type: avro.Type })._type = type;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    encoder.on('data', (c: Buffer) => chunks.push(c));
    encoder.on('error', reject);
    encoder.on('typeError', (err: Error) => reject(err));
    encoder.on('end', () => resolve(Buffer.concat(chunks)));
    for (const r of records) encoder.write(r);
    encoder.end();
  });
}

/** Records and header metadata of an Avro container file (null or deflate codec), longs as bigint. */
export function decodeAvro(buf: Buffer): Promise<{ metadata: Record<string, string>; records: Record<string, unknown>[] }> {
  const decoder = new avro.streams.BlockDecoder({ parseHook: (s: unknown) => typeOf(s) } as never);
  return new Promise((resolve, reject) => {
    const records: Record<string, unknown>[] = [];
    let metadata: Record<string, string> = {};
    decoder.on('metadata', (_t: unknown, _codec: unknown, header: { meta: Record<string, Buffer> }) => {
      metadata = Object.fromEntries(Object.entries(header.meta).map(([k, v]) => [k, v.toString('utf8')]));
    });
    decoder.on('data', (r: Record<string, unknown>) => records.push(r));
    decoder.on('error', reject);
    decoder.on('end', () => resolve({ metadata, records }));
    decoder.end(buf);
  });
}

const num = (v: unknown): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`count ${String(v)} is beyond 2^53`);
  return n;
};
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
const optId = (v: unknown): SnapshotId | null => (v === null || v === undefined ? null : BigInt(v as bigint));
const kv = <V>(v: unknown, f: (x: unknown) => V) =>
  v === null || v === undefined ? null : (v as { key: number; value: unknown }[]).map((e) => ({ key: e.key, value: f(e.value) }));

export interface ManifestMetadata {
  schemaJson: string;
  schemaId: number;
  specId: number;
}

/** A data manifest of an unpartitioned v2 table. */
export function writeManifest(entries: readonly ManifestEntry[], meta: ManifestMetadata): Promise<Buffer> {
  return encode(MANIFEST_ENTRY_SCHEMA, ENTRY_TYPE, entries, {
    schema: meta.schemaJson,
    'schema-id': String(meta.schemaId),
    'partition-spec': '[]',
    'partition-spec-id': String(meta.specId),
    'format-version': '2',
    content: 'data',
  });
}

export async function readManifest(buf: Buffer): Promise<ManifestEntry[]> {
  const { records } = await decodeAvro(buf);
  return records.map((e) => {
    const d = e['data_file'] as Record<string, unknown>;
    return {
      status: Number(e['status']) as 0 | 1 | 2,
      snapshot_id: optId(e['snapshot_id']),
      sequence_number: optNum(e['sequence_number']),
      file_sequence_number: optNum(e['file_sequence_number']),
      data_file: {
        content: Number(d['content'] ?? 0) as 0,
        file_path: String(d['file_path']),
        file_format: String(d['file_format']).toUpperCase() as 'PARQUET',
        partition: {},
        record_count: num(d['record_count']),
        file_size_in_bytes: num(d['file_size_in_bytes']),
        column_sizes: kv(d['column_sizes'], num),
        value_counts: kv(d['value_counts'], num),
        null_value_counts: kv(d['null_value_counts'], num),
        nan_value_counts: kv(d['nan_value_counts'], num),
        lower_bounds: kv(d['lower_bounds'], (x) => x as Buffer),
        upper_bounds: kv(d['upper_bounds'], (x) => x as Buffer),
        key_metadata: (d['key_metadata'] as Buffer | null) ?? null,
        split_offsets: d['split_offsets'] ? (d['split_offsets'] as unknown[]).map(num) : null,
        equality_ids: (d['equality_ids'] as number[] | null) ?? null,
        sort_order_id: (d['sort_order_id'] as number | null) ?? null,
      },
    };
  });
}

export function writeManifestList(files: readonly ManifestFile[], meta: { snapshotId: SnapshotId; parentId: SnapshotId | undefined; sequenceNumber: number }): Promise<Buffer> {
  return encode(MANIFEST_FILE_SCHEMA, LIST_TYPE, files, {
    'snapshot-id': meta.snapshotId.toString(),
    'parent-snapshot-id': meta.parentId === undefined ? 'null' : meta.parentId.toString(),
    'sequence-number': String(meta.sequenceNumber),
    'format-version': '2',
  });
}

export async function readManifestList(buf: Buffer): Promise<ManifestFile[]> {
  const { records } = await decodeAvro(buf);
  return records.map((m) => ({
    manifest_path: String(m['manifest_path']),
    manifest_length: num(m['manifest_length']),
    partition_spec_id: Number(m['partition_spec_id']),
    content: Number(m['content'] ?? 0),
    sequence_number: num(m['sequence_number'] ?? 0),
    min_sequence_number: num(m['min_sequence_number'] ?? 0),
    added_snapshot_id: BigInt(m['added_snapshot_id'] as bigint),
    added_files_count: num(m['added_files_count'] ?? m['added_data_files_count'] ?? 0),
    existing_files_count: num(m['existing_files_count'] ?? m['existing_data_files_count'] ?? 0),
    deleted_files_count: num(m['deleted_files_count'] ?? m['deleted_data_files_count'] ?? 0),
    added_rows_count: num(m['added_rows_count'] ?? 0),
    existing_rows_count: num(m['existing_rows_count'] ?? 0),
    deleted_rows_count: num(m['deleted_rows_count'] ?? 0),
    partitions: (m['partitions'] as unknown[] | null) ?? null,
    key_metadata: (m['key_metadata'] as Buffer | null) ?? null,
  }));
}
