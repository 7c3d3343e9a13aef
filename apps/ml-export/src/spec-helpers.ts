/**
 * Test helpers: crafted change-log histories written as the snapshotter writes its change log (the columns the
 * export reads, same Parquet types), and a reader of the dataset the export writes.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readParquetFile } from '@pipeline/iceberg';
import { tempDir as testingTempDir } from '@pipeline/testing';

export interface CraftedChange {
  at: number;
  seq: number;
  source: string;
  target: string;
  /** Active before / after (null: no state on that side). */
  before: boolean | null;
  after: boolean | null;
  edgeId?: string;
  partition?: number;
  offset?: number;
}

const state = (c: CraftedChange, active: boolean) =>
  JSON.stringify({ source: c.source, target: c.target, ...(c.edgeId ? { edgeId: c.edgeId } : {}), active, version: c.at, createdAt: null, deletedAt: null, properties: {} });

/** One change-log file of crafted changes; the rows are written in the order given. */
export async function writeChangeLogFile(warehouse: string, table: string, hour: string, name: string, changes: CraftedChange[]): Promise<void> {
  const dir = path.join(warehouse, '_changelog', `table=${table}`, `hour=${hour}`);
  await mkdir(dir, { recursive: true });
  const col = (n: string, data: unknown[]) => ({ name: n, data });
  const buf = parquetWriteBuffer({
    columnData: [
      col('table', changes.map(() => table)),
      col('source', changes.map((c) => c.source)),
      col('target', changes.map((c) => c.target)),
      col('before', changes.map((c) => (c.before === null ? null : state(c, c.before)))),
      col('after', changes.map((c) => (c.after === null ? null : state(c, c.after)))),
      col('seq', changes.map((c) => BigInt(c.seq))),
      col('processed_at_ms', changes.map((c) => BigInt(c.at) * 1000n)),
      col('kafka_partition', changes.map((c) => BigInt(c.partition ?? 0))),
      col('kafka_offset', changes.map((c) => BigInt(c.offset ?? c.seq))),
    ] as never,
    schema: [
      { name: 'table', num_children: 9 },
      ...['table', 'source', 'target'].map((name) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'REQUIRED' as const })),
      ...['before', 'after'].map((name) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const })),
      { name: 'seq', type: 'INT64', repetition_type: 'OPTIONAL' },
      { name: 'processed_at_ms', type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } },
      { name: 'kafka_partition', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'kafka_offset', type: 'INT64', repetition_type: 'REQUIRED' },
    ] as never,
  });
  await writeFile(path.join(dir, name), new Uint8Array(buf));
}

/** `ml-export-<prefix>-XXXXXX`, removed after the spec file (libs/testing). */
export const tempDir = async (prefix: string) => testingTempDir(`ml-export-${prefix}`);

export interface DatasetRow {
  split: string;
  day: string;
  user: string;
  item: string;
  label: string;
  eventTimeMs: number;
  seq: number | null;
  itemIn: number;
  userOut: number;
}

/** Every row of an exported dataset, with split and day taken from the paths, in file then row order. */
export async function readDataset(dir: string): Promise<DatasetRow[]> {
  const out: DatasetRow[] = [];
  for (const split of (await readdir(dir)).filter((n) => n.startsWith('split=')).sort()) {
    for (const day of (await readdir(path.join(dir, split))).sort()) {
      for (const f of (await readdir(path.join(dir, split, day))).sort()) {
        for (const o of await readParquetFile(path.join(dir, split, day, f))) {
          out.push({
            split: split.slice(6),
            day: day.slice(4),
            user: o['user'] as string,
            item: o['item'] as string,
            label: o['label'] as string,
            eventTimeMs: (o['event_time'] as Date).getTime(),
            seq: o['seq'] === null ? null : Number(o['seq']),
            itemIn: Number(o['item_in_count']),
            userOut: Number(o['user_out_count']),
          });
        }
      }
    }
  }
  return out.sort((a, b) => a.eventTimeMs - b.eventTimeMs || (a.seq ?? 0) - (b.seq ?? 0));
}
