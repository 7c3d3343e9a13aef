/**
 * Writes examples as Parquet, Hive-style: `<dir>/split=<train|validation>/day=<yyyy-mm-dd>/part-<n>.parquet`.
 * Examples arrive in event-time order, so a day, once left, never comes back: only the current day's rows are
 * held, and a file is written when the day changes or `maxRowsPerFile` is reached.
 *
 * Written with hyparquet-writer (the writer the snapshotter measured and chose, see its README), with a raw
 * Parquet schema so that event_time is a real `TIMESTAMP(MICROS, UTC)` for pyarrow, DuckDB and Spark. `split` and
 * `day` live in the paths only: a reader with Hive partitioning adds them as columns.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { Example } from './fold';

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

export type Split = 'train' | 'validation';

const str = (name: string, required: boolean): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  logical_type: { type: 'STRING' },
  repetition_type: required ? 'REQUIRED' : 'OPTIONAL',
});
const long = (name: string, required: boolean): SchemaElement => ({ name, type: 'INT64', repetition_type: required ? 'REQUIRED' : 'OPTIONAL' });

/** The columns, in file order (README "Columns" describes each). */
export const DATASET_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 9 },
  str('user', true),
  str('item', true),
  str('edge_id', false),
  str('label', true),
  { name: 'event_time', type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
  long('seq', false),
  long('edge_version', false),
  long('item_in_count', true),
  long('user_out_count', true),
];

export function examplesToParquet(rows: readonly Example[]): ArrayBuffer {
  const columnData = [
    { name: 'user', data: rows.map((r) => r.user) },
    { name: 'item', data: rows.map((r) => r.item) },
    { name: 'edge_id', data: rows.map((r) => r.edgeId) },
    { name: 'label', data: rows.map((r) => r.label) },
    { name: 'event_time', data: rows.map((r) => BigInt(r.eventTimeMs) * 1000n) },
    { name: 'seq', data: rows.map((r) => r.seq) },
    { name: 'edge_version', data: rows.map((r) => (r.edgeVersion === null ? null : BigInt(r.edgeVersion))) },
    { name: 'item_in_count', data: rows.map((r) => BigInt(r.itemInCount)) },
    { name: 'user_out_count', data: rows.map((r) => BigInt(r.userOutCount)) },
  ];
  return parquetWriteBuffer({ columnData: columnData as never, schema: DATASET_SCHEMA, codec: 'SNAPPY', rowGroupSize: 100_000 });
}

/** UTC day of a time: `2026-11-29`. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export interface WrittenFile {
  path: string;
  split: Split;
  day: string;
  rows: number;
}

export class DatasetWriter {
  readonly files: WrittenFile[] = [];
  private buffer: Example[] = [];
  private current: { split: Split; day: string } | undefined;
  private readonly parts = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly maxRowsPerFile: number,
  ) {}

  async add(split: Split, e: Example): Promise<void> {
    const day = dayOf(e.eventTimeMs);
    if (this.current && (this.current.split !== split || this.current.day !== day)) await this.flush();
    this.current = { split, day };
    this.buffer.push(e);
    if (this.buffer.length >= this.maxRowsPerFile) await this.flush();
  }

  async flush(): Promise<void> {
    if (!this.current || this.buffer.length === 0) return;
    const { split, day } = this.current;
    const folder = path.join(this.dir, `split=${split}`, `day=${day}`);
    const key = `${split}/${day}`;
    const n = this.parts.get(key) ?? 0;
    this.parts.set(key, n + 1);
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, `part-${String(n).padStart(5, '0')}.parquet`);
    await writeFile(file, new Uint8Array(examplesToParquet(this.buffer)));
    this.files.push({ path: path.relative(this.dir, file), split, day, rows: this.buffer.length });
    this.buffer = [];
  }
}
