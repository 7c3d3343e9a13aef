/**
 * Reads the snapshotter's current-state tables, any snapshot, through a catalog (folder or JDBC): metadata,
 * manifests (avsc), Parquet data files (hyparquet), rows in the shared row schema.
 *
 * `readIcebergTable` turns rows into the states the loaders of apps/wal-replay and apps/druid-ingest send. The
 * table keeps less than CDC: active edges only (deleted ones leave it), and property values without their
 * per-property versions. Each property is therefore loaded at the edge's `version` (every cell of the source is
 * at or below it), which keeps later events ordered right; tombstones are not loaded.
 */
import { open } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { parseJson, type CdcState } from '@pipeline/events';
import { FolderCatalog, type Catalog, type TableIdent } from './catalog';
import { currentSnapshot, snapshotById, toSnapshotId, type Snapshot, type SnapshotId } from './metadata';
import { snapshotRowFromParquet, type SnapshotRow } from './row-schema';
import { liveFiles } from './table-ops';
import { localPath } from './io';

export async function readParquetFile(path: string): Promise<Record<string, unknown>[]> {
  const fh = await open(localPath(path), 'r');
  try {
    const { size } = await fh.stat();
    const file = {
      byteLength: size,
      slice: async (start: number, end?: number) => {
        const len = (end ?? size) - start;
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, start);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + len) as ArrayBuffer;
      },
    };
    return (await parquetReadObjects({ file, utf8: true })) as Record<string, unknown>[];
  } finally {
    await fh.close();
  }
}

export interface TableRead {
  /** The snapshot read; undefined when the table has none yet. */
  snapshot: Snapshot | undefined;
  rows: SnapshotRow[];
  metadataLocation: string;
}

/**
 * The rows of a snapshot (the current one by default), or undefined when the catalog has no such table.
 * An id the table does not list throws, naming the ids it has.
 */
export async function readTable(catalog: Catalog, ident: TableIdent, options: { snapshotId?: SnapshotId } = {}): Promise<TableRead | undefined> {
  const t = await catalog.loadTable(ident);
  if (!t) return undefined;
  const snap = options.snapshotId !== undefined ? snapshotById(t.metadata, options.snapshotId) : currentSnapshot(t.metadata);
  if (options.snapshotId !== undefined && !snap) {
    throw new Error(`snapshot ${options.snapshotId} not found in ${t.metadataLocation} (known: ${t.metadata.snapshots.map((s) => s['snapshot-id'].toString()).join(', ')})`);
  }
  if (!snap) return { snapshot: undefined, rows: [], metadataLocation: t.metadataLocation };
  const rows: SnapshotRow[] = [];
  for (const f of await liveFiles(snap)) for (const o of await readParquetFile(f.dataFile.file_path)) rows.push(snapshotRowFromParquet(o));
  return { snapshot: snap, rows, metadataLocation: t.metadataLocation };
}

export interface IcebergTableRead {
  states: CdcState[];
  /** Newest updated_at_ms (the processedAt of the newest CDC record folded into the table); 0 when empty. */
  newestChange: number;
  snapshotTimestampMs: number | null;
  /**
   * The snapshot read (the current one unless asked for another); null when the table has none. A number for
   * the callers that print or pass it as one; an id beyond 2^53 throws instead of rounding (`readTable` gives
   * every id exactly as a bigint). The snapshotter's own ids stay below 2^53.
   */
  snapshotId: number | null;
  /** CDC consumed into this snapshot: `topic:partition` -> next offset (`snapshotter.offsets`); empty when absent. */
  offsets: Record<string, number>;
}

export interface ReadOptions {
  /** Read this snapshot (time travel) instead of the current one; an id the metadata does not list throws. */
  snapshotId?: number | bigint | string;
  /** Default: the folder catalog at `warehouse`. */
  catalog?: Catalog;
}

/**
 * The table `<database>.<table>` as CDC states, or undefined when the snapshotter never committed it.
 * `multi`: a multi-edge table (edge_id, with `_source`/`_target` properties); `fields`: property names to load.
 */
export async function readIcebergTable(
  warehouse: string,
  database: string,
  table: string,
  multi: boolean,
  fields: readonly string[],
  options: ReadOptions = {},
): Promise<IcebergTableRead | undefined> {
  const catalog = options.catalog ?? new FolderCatalog(warehouse);
  const read = await readTable(catalog, { namespace: database, name: table }, options.snapshotId !== undefined ? { snapshotId: toSnapshotId(options.snapshotId) } : {});
  if (!read) return undefined;
  const snap = read.snapshot;
  if (!snap) return { states: [], newestChange: 0, snapshotTimestampMs: null, snapshotId: null, offsets: {} };
  const id = Number(snap['snapshot-id']);
  if (!Number.isSafeInteger(id)) throw new Error(`snapshot id ${snap['snapshot-id']} is beyond 2^53; use readTable, which returns it as a bigint`);
  const rawOffsets = snap.summary['snapshotter.offsets'];
  const offsets = rawOffsets ? (JSON.parse(rawOffsets) as Record<string, number>) : {};
  const states: CdcState[] = [];
  let newestChange = 0;
  for (const r of read.rows) {
    if (!r.active) continue;
    const version = r.version;
    const values = r.properties === null ? {} : (parseJson(r.properties) as Record<string, unknown>);
    const properties: CdcState['properties'] = {};
    for (const name of fields) properties[name] = { value: values[name] ?? null, version };
    if (multi) {
      properties._source = { value: r.source, version };
      properties._target = { value: r.target, version };
    }
    states.push({
      source: r.source,
      target: r.target,
      ...(multi ? { edgeId: r.edge_id as string } : {}),
      active: true,
      version,
      createdAt: r.created_at,
      deletedAt: r.deleted_at,
      properties,
    });
    if (r.updated_at_ms > newestChange) newestChange = r.updated_at_ms;
  }
  return { states, newestChange, snapshotTimestampMs: snap['timestamp-ms'], snapshotId: id, offsets };
}
