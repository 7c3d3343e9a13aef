/**
 * Reads the snapshotter's change log of one table (apps/snapshotter/README.md):
 *   <warehouse>/_changelog/table=<database.table>/hour=<yyyy-mm-dd-HH>/part-*.parquet
 * one Parquet row per CDC record, with its state before and after as JSON. The hour is the UTC hour of the
 * record's processedAt, so hours in name order are hours in time order; files inside an hour are in no useful
 * order (one per flush, several snapshotter instances), which is why the fold sorts every hour itself.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseJson } from '@pipeline/events';
import { readParquetFile } from '@pipeline/iceberg';

/** One side (before or after) of a change: what the fold needs of a CDC state. */
export interface EdgeSide {
  source: string;
  target: string;
  edgeId: string | null;
  active: boolean;
  version: number | null;
}

export interface Change {
  /** processedAt of the CDC record: when the core applied the change. The example's event time. */
  processedAtMs: number;
  /** The core's commit sequence (null in Actionbase v2 records). */
  seq: bigint | null;
  partition: number;
  offset: bigint;
  before: EdgeSide | null;
  after: EdgeSide | null;
}

/** `hour=` folders of the table, oldest first; empty when the table has no change log. */
export async function changeLogHours(warehouse: string, table: string): Promise<{ hour: string; dir: string }[]> {
  const dir = path.join(warehouse, '_changelog', `table=${table}`);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => /^hour=\d{4}-\d{2}-\d{2}-\d{2}$/.test(n))
    .sort()
    .map((n) => ({ hour: n.slice('hour='.length), dir: path.join(dir, n) }));
}

function sideOf(json: unknown): EdgeSide | null {
  if (typeof json !== 'string') return null;
  const s = parseJson(json) as { source?: unknown; target?: unknown; edgeId?: unknown; active?: unknown; version?: unknown };
  return {
    source: String(s.source),
    target: String(s.target),
    edgeId: s.edgeId === undefined || s.edgeId === null ? null : String(s.edgeId),
    active: s.active === true,
    version: typeof s.version === 'number' ? s.version : typeof s.version === 'bigint' ? Number(s.version) : null,
  };
}

const toMs = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v / 1000n) : Number(v));
const toBig = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(v as number));

export function changeOfRow(o: Record<string, unknown>): Change {
  return {
    processedAtMs: toMs(o['processed_at_ms']),
    seq: o['seq'] === null || o['seq'] === undefined ? null : toBig(o['seq']),
    partition: Number(o['kafka_partition']),
    offset: toBig(o['kafka_offset']),
    before: sideOf(o['before']),
    after: sideOf(o['after']),
  };
}

/** Every change of one hour folder, in file-name order (not yet in event-time order). Dot-prefixed temp files are skipped. */
export async function readHour(dir: string): Promise<Change[]> {
  const files = (await readdir(dir)).filter((n) => n.endsWith('.parquet') && !n.startsWith('.')).sort();
  const out: Change[] = [];
  for (const f of files) for (const o of await readParquetFile(path.join(dir, f))) out.push(changeOfRow(o));
  return out;
}
