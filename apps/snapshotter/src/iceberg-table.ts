/**
 * One current-state table and its copy-on-write planning; the Iceberg format (manifests, metadata, summary,
 * expiry) and the commit through a catalog (folder or JDBC) are @pipeline/iceberg's.
 *
 * Commits are copy-on-write per data file: a file holding a changed edge is rewritten with the change applied,
 * untouched files stay (EXISTING entries), new edges go to new files, and small files are compacted together
 * once enough of them pile up. Each snapshot has one manifest listing all of its live files, so every snapshot
 * is complete on its own (time travel), and no delete files are needed.
 *
 * Several writers may commit: each attempt plans on the latest snapshot, writes its data files, and asks the
 * catalog to swap the metadata; on a conflict it removes its files, re-reads and re-plans on the winner's
 * snapshot (a change older than the winner's row loses).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import {
  CommitConflictError,
  commitSnapshot,
  currentSnapshot,
  icebergSchema,
  liveFiles,
  localPath,
  locationLike,
  newSnapshotId,
  newTableMetadata,
  removeOrphans,
  syncDir,
  writeDurable,
  type Catalog,
  type DataFile,
  type LiveFile,
  type LoadedTable,
  type Operation,
  type RetentionPolicy,
  type Snapshot,
  type SnapshotId,
  type TableIdent,
} from '@pipeline/iceberg';
import { writeParquet, type ColumnSpec } from './parquet-file';

export type { RetentionPolicy } from '@pipeline/iceberg';

export interface DataFileInfo {
  path: string;
  recordCount: number;
  sizeBytes: number;
}

/** One staged change of an edge: the new row (null: the edge leaves the table) and its order (the core's seq). */
export interface RowChange<R> {
  ord: number;
  row: R | null;
}

export interface CommitOptions<R> {
  /** Changes by row key; a change loses to a row of the table with a higher order. */
  changes: Map<string, RowChange<R>>;
  keyOf: (r: R) => string;
  ordOf: (r: R) => number;
  /** Sort key of rows (the table's sort order); every data file is written in this order. */
  sortKey: (r: R) => string;
  /** The new snapshot's extra summary properties, from the current snapshot's summary. */
  summary: (current: Record<string, string> | undefined) => Record<string, string>;
}

export interface CompactionPolicy {
  /** A data file with fewer rows than this counts as small. */
  smallFileRows: number;
  /** When at least this many small files would be live, they are rewritten together. */
  minSmallFiles: number;
}

export interface CommitResult {
  snapshotId: SnapshotId;
  version: string;
  attempts: number;
  operation: Operation;
  addedFiles: number;
  deletedFiles: number;
  existingFiles: number;
  compactedFiles: number;
  totalRecords: number;
  expiredSnapshots: number;
}

export type CommitStep = 'data-written' | 'manifests-written' | 'metadata-linked';

export { CommitConflictError };

export class IcebergTable<R extends object> {
  /** Rows per data file path: data files never change once written, so the cache never goes stale. */
  private readonly rowsByFile = new Map<string, R[]>();
  /**
   * Row key -> (data file, row) of the snapshot this instance committed last, so the next commit does not
   * rebuild it from every row; dropped whenever another writer's snapshot comes in between.
   */
  private keyIndex: { snapshotId: SnapshotId; map: Map<string, [string, R]> } | undefined;

  constructor(
    private readonly catalog: Catalog,
    readonly ident: TableIdent,
    private readonly columns: ColumnSpec[],
    private readonly opts: {
      properties?: Record<string, string>;
      /** Rows per data file written. */
      targetFileRows: number;
      compaction: CompactionPolicy;
      retention: RetentionPolicy;
      /** Field ids of the default sort order (ascending), and that order as one string key per row. */
      sortFieldIds: number[];
      sortKey: (r: R) => string;
      /** Converts a row read back from Parquet to R (types as written). */
      fromParquet: (o: Record<string, unknown>) => R;
      /** Called between steps of a commit; the crash tests use it to die at a chosen point. */
      onStep?: (step: CommitStep) => void | Promise<void>;
    },
  ) {}

  /** The table's current metadata from the catalog (null: not created yet). */
  loadLatest(): Promise<LoadedTable | null> {
    return this.catalog.loadTable(this.ident);
  }

  currentSnapshot(loaded: LoadedTable | null): Snapshot | undefined {
    return loaded ? currentSnapshot(loaded.metadata) : undefined;
  }

  async dataFiles(snapshot: Snapshot): Promise<DataFileInfo[]> {
    return (await liveFiles(snapshot)).map((f) => ({ path: f.dataFile.file_path, recordCount: f.dataFile.record_count, sizeBytes: f.dataFile.file_size_in_bytes }));
  }

  private async rowsOf(file: string): Promise<R[]> {
    let rows = this.rowsByFile.get(file);
    if (!rows) {
      const buf = await readFile(localPath(file));
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const objs = (await parquetReadObjects({ file: ab as ArrayBuffer, utf8: true })) as Record<string, unknown>[];
      rows = objs.map((o) => this.opts.fromParquet(o));
      this.rowsByFile.set(file, rows);
    }
    return rows;
  }

  /** Every row of a snapshot (read with hyparquet, cached per data file). */
  async readRows(snapshot: Snapshot): Promise<R[]> {
    const out: R[] = [];
    for (const f of await liveFiles(snapshot)) out.push(...(await this.rowsOf(f.dataFile.file_path)));
    return out;
  }

  /**
   * Commits the changes on top of the latest snapshot (whoever wrote it). Retries from a fresh read when another
   * writer committed first. Returns null when no change applies (every change lost to a newer row).
   */
  async commit(options: CommitOptions<R>, maxAttempts = 10): Promise<CommitResult | null> {
    for (let attempt = 1; ; attempt++) {
      const base = await this.loadLatest();
      try {
        const result = await this.tryCommit(base, options);
        return result && { ...result, attempts: attempt };
      } catch (err) {
        if (!(err instanceof CommitConflictError) || attempt >= maxAttempts) throw err;
      }
    }
  }

  /**
   * Rewrites every live file with fewer than `smallFileRows` rows (Infinity: every file) into files of
   * `targetFileRows`, as one `replace` snapshot: the rows do not change. Retries on conflicts. Null when fewer
   * than two files qualify.
   */
  async compact(smallFileRows: number, summary: Record<string, string> = {}, maxAttempts = 10): Promise<CommitResult | null> {
    for (let attempt = 1; ; attempt++) {
      const base = await this.loadLatest();
      const parent = this.currentSnapshot(base);
      if (!base || !parent) return null;
      const live = await liveFiles(parent);
      const small = live.filter((f) => f.dataFile.record_count < smallFileRows);
      if (small.length < 2) return null;
      const rows: R[] = [];
      for (const f of small) rows.push(...(await this.rowsOf(f.dataFile.file_path)));
      try {
        const r = await this.writeAndCommit(base, {
          keep: live.filter((f) => !small.includes(f)),
          remove: small,
          rows,
          compacted: small.length,
          sortKey: this.opts.sortKey,
          // The writer's own properties (the consumed offsets above all) carry over; the figures are recomputed.
          summary: { ...Object.fromEntries(Object.entries(parent.summary).filter(([k]) => k.startsWith('snapshotter.'))), ...summary },
          operation: 'replace',
        });
        return { ...r, attempts: attempt };
      } catch (err) {
        if (!(err instanceof CommitConflictError) || attempt >= maxAttempts) throw err;
      }
    }
  }

  private newMetadata() {
    return newTableMetadata({
      location: this.catalog.defaultLocation(this.ident),
      schema: icebergSchema(this.columns),
      sortFieldIds: this.opts.sortFieldIds,
      properties: this.opts.properties ?? {},
    });
  }

  private async keyMap(parentId: SnapshotId | undefined, live: LiveFile[], keyOf: (r: R) => string): Promise<Map<string, [string, R]>> {
    if (parentId !== undefined && this.keyIndex?.snapshotId === parentId) return this.keyIndex.map;
    const map = new Map<string, [string, R]>();
    for (const f of live) for (const r of await this.rowsOf(f.dataFile.file_path)) map.set(keyOf(r), [f.dataFile.file_path, r]);
    this.keyIndex = parentId === undefined ? undefined : { snapshotId: parentId, map };
    return map;
  }

  /** Which live files change: rewritten files (a changed edge in them), compacted ones, and the rows to write. */
  private async plan(
    parentId: SnapshotId | undefined,
    live: LiveFile[],
    options: CommitOptions<R>,
  ): Promise<{ keep: LiveFile[]; remove: LiveFile[]; rows: R[]; compacted: number; keys: Map<string, [string, R]> } | null> {
    const keys = await this.keyMap(parentId, live, options.keyOf);
    const indexOfPath = new Map(live.map((f, i) => [f.dataFile.file_path, i]));
    const touched = new Map<number, Map<string, R | null>>();
    const added: R[] = [];
    let applied = 0;
    for (const [key, change] of options.changes) {
      const hit = keys.get(key);
      if (hit === undefined) {
        if (change.row) {
          added.push(change.row);
          applied++;
        }
        continue;
      }
      const i = indexOfPath.get(hit[0]);
      if (i === undefined) throw new Error(`key index names ${hit[0]}, which is not live`);
      if (options.ordOf(hit[1]) > change.ord) continue; // the table holds a newer state of this edge
      let m = touched.get(i);
      if (!m) touched.set(i, (m = new Map()));
      m.set(key, change.row);
      applied++;
    }
    if (applied === 0) return null;
    const rows: R[] = [...added];
    const keep: LiveFile[] = [];
    const remove: LiveFile[] = [];
    for (const [i, f] of live.entries()) {
      const m = touched.get(i);
      if (!m) {
        keep.push(f);
        continue;
      }
      remove.push(f);
      for (const r of await this.rowsOf(f.dataFile.file_path)) {
        const k = options.keyOf(r);
        if (!m.has(k)) rows.push(r);
        else {
          const next = m.get(k);
          if (next) rows.push(next);
        }
      }
    }
    // Compaction: when small files pile up (each commit adds at least one), rewrite them together.
    const { smallFileRows, minSmallFiles } = this.opts.compaction;
    const small = keep.filter((f) => f.dataFile.record_count < smallFileRows);
    let compacted = 0;
    if (small.length + 1 >= minSmallFiles) {
      for (const f of small) {
        keep.splice(keep.indexOf(f), 1);
        remove.push(f);
        rows.push(...(await this.rowsOf(f.dataFile.file_path)));
        compacted++;
      }
    }
    return { keep, remove, rows, compacted, keys };
  }

  private async tryCommit(base: LoadedTable | null, options: CommitOptions<R>): Promise<Omit<CommitResult, 'attempts'> | null> {
    const parent = this.currentSnapshot(base);
    const live = parent ? await liveFiles(parent) : [];
    const planned = await this.plan(parent?.['snapshot-id'], live, options);
    if (!planned) return null;
    const result = await this.writeAndCommit(base, {
      keep: planned.keep,
      remove: planned.remove,
      rows: planned.rows,
      compacted: planned.compacted,
      sortKey: options.sortKey,
      summary: options.summary(parent?.summary),
    });
    // The key index follows the new snapshot: keys of removed files out, keys of the new files in.
    const keys = planned.keys;
    for (const f of planned.remove) for (const r of this.rowsByFile.get(f.dataFile.file_path) ?? []) keys.delete(options.keyOf(r));
    for (const f of result.files) for (const r of this.rowsByFile.get(f.file_path) ?? []) keys.set(options.keyOf(r), [f.file_path, r]);
    this.keyIndex = { snapshotId: result.snapshotId, map: keys };
    for (const f of planned.remove) this.rowsByFile.delete(f.dataFile.file_path);
    const { files: _files, ...rest } = result;
    return rest;
  }

  /** Writes the rows as new data files (sorted, complete, fsynced) and commits them with the kept/removed files. */
  private async writeAndCommit(
    base: LoadedTable | null,
    p: { keep: LiveFile[]; remove: LiveFile[]; rows: R[]; compacted: number; sortKey: (r: R) => string; summary: Record<string, string>; operation?: Operation },
  ): Promise<Omit<CommitResult, 'attempts'> & { files: DataFile[] }> {
    const tableLocation = base?.metadata.location ?? this.catalog.defaultLocation(this.ident);
    const dataDir = path.join(localPath(tableLocation), 'data');
    await mkdir(dataDir, { recursive: true });
    const written: string[] = [];
    const batch = randomUUID();
    try {
      const keyed = p.rows.map((r) => [p.sortKey(r), r] as const);
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const rows = keyed.map((k) => k[1]);
      const files: DataFile[] = [];
      for (let i = 0, n = 0; i < rows.length; i += this.opts.targetFileRows, n++) {
        const chunk = rows.slice(i, i + this.opts.targetFileRows);
        const pq = writeParquet(this.columns, chunk);
        const file = path.join(dataDir, `${batch}-${n}.parquet`);
        await writeDurable(file, pq.bytes);
        written.push(file);
        const ref = locationLike(tableLocation, file);
        this.rowsByFile.set(ref, chunk);
        const st = [...pq.stats];
        files.push({
          content: 0,
          file_path: ref,
          file_format: 'PARQUET',
          partition: {},
          record_count: chunk.length,
          file_size_in_bytes: pq.bytes.length,
          column_sizes: null,
          value_counts: st.map(([key, s]) => ({ key, value: s.valueCount })),
          null_value_counts: st.map(([key, s]) => ({ key, value: s.nullCount })),
          nan_value_counts: null,
          lower_bounds: st.filter(([, s]) => s.lower).map(([key, s]) => ({ key, value: s.lower! })),
          upper_bounds: st.filter(([, s]) => s.upper).map(([key, s]) => ({ key, value: s.upper! })),
          key_metadata: null,
          split_offsets: null,
          equality_ids: null,
          sort_order_id: 1,
        });
      }
      await syncDir(dataDir);
      await this.opts.onStep?.('data-written');
      const r = await commitSnapshot(this.catalog, this.ident, base, () => this.newMetadata(), {
        // Below 2^53: readers that hold JSON numbers as doubles (druid-ingest's CLI, jq) see the exact id too.
        snapshotId: newSnapshotId(53),
        added: files,
        kept: p.keep,
        removed: p.remove,
        summary: p.summary,
        ...(p.operation ? { operation: p.operation } : {}),
        retention: this.opts.retention,
        ...(this.opts.onStep ? { onStep: this.opts.onStep } : {}),
      });
      written.length = 0; // committed: the files belong to the table now
      return {
        snapshotId: r.snapshot['snapshot-id'],
        version: path.basename(r.table.metadataLocation),
        operation: r.snapshot.summary.operation as Operation,
        addedFiles: files.length,
        deletedFiles: p.remove.length,
        existingFiles: p.keep.length,
        compactedFiles: p.compacted,
        totalRecords: Number(r.snapshot.summary['total-records']),
        expiredSnapshots: r.expired.length,
        files,
      };
    } finally {
      // A failed or lost attempt removes what it wrote; nothing references those files.
      for (const f of written) {
        this.rowsByFile.delete(locationLike(tableLocation, f));
        await rm(f, { force: true });
      }
    }
  }

  /** Files under data/ and metadata/ the current metadata does not reach, older than minAgeMs, deleted. */
  /**
   * Deletes the files under the table's location that no snapshot reaches and that are older than `minAgeMs`.
   * With `within`, only when the table lives inside that folder: a table of a shared catalog elsewhere is
   * another writer's, and its files are not ours to judge.
   */
  async removeOrphans(minAgeMs: number, within?: string): Promise<string[]> {
    const t = await this.loadLatest();
    if (!t) return [];
    if (within !== undefined) {
      const rel = path.relative(path.resolve(within), path.resolve(localPath(t.metadata.location)));
      if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return [];
    }
    const removed = await removeOrphans(t, minAgeMs);
    for (const f of removed) this.rowsByFile.delete(f);
    return removed;
  }

  /** Total bytes of the live data files (for logs and tests). */
  async sizeOf(files: DataFileInfo[]): Promise<number> {
    let n = 0;
    for (const f of files) n += (await stat(localPath(f.path))).size;
    return n;
  }
}
