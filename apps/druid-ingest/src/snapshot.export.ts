/**
 * Turns one snapshot of the snapshotter's current-state Iceberg table (`<warehouse>/<database>/<table>`, read
 * with @pipeline/iceberg) into fact rows a native batch task reads: each active edge becomes one row shaped like
 * a CDC record (the spec's flattenSpec reads the same paths), `status` CREATED, `accumulator` +1, `processedAt`
 * the snapshot's `timestamp-ms`. SUM(accumulator) per target of the loaded datasource is then the target's IN
 * count at the snapshot. The table keeps no request context, so `operation` and `actor` are null.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { readIcebergTable } from '@pipeline/iceberg';

export interface SnapshotTablePath {
  warehouse: string;
  database: string;
  table: string;
}

/** `<warehouse>/<db>/<table>` split into its parts (the warehouse may itself contain slashes). */
export function parseSnapshotPath(p: string): SnapshotTablePath {
  const parts = path.resolve(p).split(path.sep);
  const table = parts.pop();
  const database = parts.pop();
  if (!table || !database || parts.length === 0) throw new Error(`--from-snapshot needs <warehouse>/<database>/<table>, got ${p}`);
  return { warehouse: parts.join(path.sep) || path.sep, database, table };
}

/** One snapshot edge as the CDC-shaped fact the spec ingests. */
export function snapshotFact(database: string, table: string, edge: { source: string | number | bigint; target: string | number | bigint }, timestampMs: number) {
  return {
    type: 'e',
    processedAt: timestampMs,
    status: 'CREATED',
    accumulator: 1,
    context: { database, table, request: { actor: null } },
    after: { source: edge.source, target: edge.target },
    events: [],
  };
}

export interface SnapshotExportResult {
  file: string;
  written: number;
  snapshotId: number;
  snapshotTimestampMs: number;
}

export async function exportSnapshot(at: SnapshotTablePath, file: string, snapshotId?: number): Promise<SnapshotExportResult> {
  const read = await readIcebergTable(at.warehouse, at.database, at.table, false, [], snapshotId === undefined ? {} : { snapshotId });
  if (!read) throw new Error(`no Iceberg table at ${path.join(at.warehouse, at.database, at.table)} (no metadata/vN.metadata.json)`);
  if (read.snapshotId === null || read.snapshotTimestampMs === null) throw new Error(`the Iceberg table ${at.database}.${at.table} has no snapshot yet`);
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  for (const s of read.states) {
    if (!out.write(JSON.stringify(snapshotFact(at.database, at.table, s, read.snapshotTimestampMs)) + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { file, written: read.states.length, snapshotId: read.snapshotId, snapshotTimestampMs: read.snapshotTimestampMs };
}
