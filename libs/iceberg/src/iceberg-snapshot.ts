/**
 * Reads the snapshotter's current-state Iceberg tables (apps/snapshotter README: a Hadoop-catalog directory
 * `<warehouse>/<database>/<table>` with metadata/vN.metadata.json, Avro manifest list and manifests, Parquet
 * data files) into states the loader can send. Only metadata, manifests and data files are read, with avsc and
 * hyparquet; no Iceberg library.
 *
 * The table keeps less than CDC: active edges only (deleted ones leave it), and property values without
 * their per-property versions. Each property is therefore loaded at the edge's `version` (every cell of the
 * source is at or below it), which keeps later events ordered right; tombstones are not loaded.
 */
import { existsSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import avro from 'avsc';
import { parquetReadObjects } from 'hyparquet';
import type { CdcState } from '@pipeline/events';

interface Metadata {
  'current-snapshot-id': number | null;
  snapshots?: { 'snapshot-id': number; 'manifest-list': string; 'timestamp-ms': number; summary?: Record<string, string> }[];
}

export interface IcebergTableRead {
  states: CdcState[];
  /** Newest updated_at_ms (the processedAt of the newest CDC record folded into the table); 0 when empty. */
  newestChange: number;
  snapshotTimestampMs: number | null;
  /** The snapshot read (the current one unless asked for another); null when the table has none. */
  snapshotId: number | null;
  /**
   * CDC consumed into this snapshot: `topic:partition` -> next offset (the snapshotter's `snapshotter.offsets`
   * summary property); empty when absent.
   */
  offsets: Record<string, number>;
}

async function readAvro(path: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  await new Promise<void>((resolve, reject) => {
    avro
      .createFileDecoder(path)
      .on('data', (r: Record<string, unknown>) => records.push(r))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return records;
}

async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const fh = await open(path, 'r');
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
    return (await parquetReadObjects({ file })) as Record<string, unknown>[];
  } finally {
    await fh.close();
  }
}

export interface ReadOptions {
  /** Read this snapshot (time travel) instead of the current one; an id the metadata does not list throws. */
  snapshotId?: number;
}

/**
 * The table at `<warehouse>/<database>/<table>`, or undefined when the snapshotter never committed it.
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
  const metaDir = join(warehouse, database, table, 'metadata');
  if (!existsSync(metaDir)) return undefined;
  // The highest vN present, as the snapshotter's own loader does (version-hint.text may lag).
  const versions = (await readdir(metaDir)).map((f) => /^v(\d+)\.metadata\.json$/.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  if (versions.length === 0) return undefined;
  const latest = versions.sort((a, b) => Number(b[1]) - Number(a[1]))[0]![0];
  const meta = JSON.parse(await readFile(join(metaDir, latest), 'utf8')) as Metadata;
  const wanted = options.snapshotId ?? meta['current-snapshot-id'];
  // Snapshot ids are 64-bit; JSON.parse rounds ids beyond 2^53, so they are compared as parsed on both sides.
  const snap = meta.snapshots?.find((s) => s['snapshot-id'] === wanted);
  if (options.snapshotId !== undefined && !snap) {
    throw new Error(`snapshot ${options.snapshotId} not found in ${join(metaDir, latest)} (known: ${(meta.snapshots ?? []).map((s) => s['snapshot-id']).join(', ')})`);
  }
  if (!snap) return { states: [], newestChange: 0, snapshotTimestampMs: null, snapshotId: null, offsets: {} };
  const rawOffsets = snap.summary?.['snapshotter.offsets'];
  const offsets = rawOffsets ? (JSON.parse(rawOffsets) as Record<string, number>) : {};
  const files: string[] = [];
  for (const mf of await readAvro(snap['manifest-list'])) {
    for (const e of await readAvro(mf.manifest_path as string)) {
      if ((e.status as number) === 2) continue; // DELETED entry
      files.push((e.data_file as { file_path: string }).file_path);
    }
  }
  const states: CdcState[] = [];
  let newestChange = 0;
  for (const f of files) {
    for (const o of await readParquet(f)) {
      if (o.active === false) continue;
      const version = Number(o.version);
      const values = o.properties === null || o.properties === undefined ? {} : (JSON.parse(String(o.properties)) as Record<string, unknown>);
      const properties: CdcState['properties'] = {};
      for (const name of fields) properties[name] = { value: values[name] ?? null, version };
      const source = o.source as string | number;
      const target = o.target as string | number;
      if (multi) {
        properties._source = { value: source, version };
        properties._target = { value: target, version };
      }
      const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      states.push({
        source,
        target,
        ...(multi ? { edgeId: o.edge_id as string } : {}),
        active: true,
        version,
        createdAt: n(o.created_at),
        deletedAt: n(o.deleted_at),
        properties,
      });
      const ts = o.updated_at_ms;
      const ms = ts instanceof Date ? ts.getTime() : Number(ts) / 1000;
      if (ms > newestChange) newestChange = ms;
    }
  }
  return { states, newestChange, snapshotTimestampMs: snap['timestamp-ms'], snapshotId: snap['snapshot-id'], offsets };
}
