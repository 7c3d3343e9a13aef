/**
 * An Iceberg v2 table in a local directory, in the file-based catalog layout engines open directly
 * (metadata/vN.metadata.json + metadata/version-hint.text, as Iceberg's HadoopTableOperations):
 *
 *   <location>/data/<snapshot>-<n>-<uuid>.parquet      data files (Parquet, field ids)
 *   <location>/metadata/<snapshot>-m0.avro             manifest (Avro, field ids)
 *   <location>/metadata/snap-<snapshot>-<uuid>.avro    manifest list
 *   <location>/metadata/vN.metadata.json               table metadata; the highest N is the table
 *
 * Commit protocol (optimistic, several writers allowed): read the highest vN, write every new file completely
 * and fsync it, then create v(N+1).metadata.json with link(2), which fails if the name exists: exactly one writer
 * wins each version, losers re-read and retry. A crash at any point leaves either the old or the new version,
 * never a metadata file naming a partial data file (data files are complete before any metadata names them).
 * version-hint.text is written after the link and is only a hint: loadLatest() lists the folder.
 *
 * Each commit writes the full current state as new data files and one manifest (new files ADDED, the previous
 * snapshot's files DELETED), operation "overwrite": every snapshot is a complete, independently readable state,
 * which is what time travel needs and what pyiceberg verifies.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { avroContainer, readAvroContainer } from './avro-file';
import { MANIFEST_ENTRY_SCHEMA, MANIFEST_FILE_SCHEMA } from './iceberg-avro-schemas';
import { writeParquet, type ColumnSpec, type IcebergType } from './parquet-file';

export interface SnapshotEntry {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: string };
  'schema-id': number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: unknown[];
  'default-spec-id': number;
  'partition-specs': unknown[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': unknown[];
  properties: Record<string, string>;
  'current-snapshot-id': number | null;
  refs: Record<string, { 'snapshot-id': number; type: 'branch' | 'tag' }>;
  snapshots: SnapshotEntry[];
  'snapshot-log': { 'snapshot-id': number; 'timestamp-ms': number }[];
  'metadata-log': { 'metadata-file': string; 'timestamp-ms': number }[];
}

export interface Loaded {
  version: number;
  metadataFile: string;
  metadata: TableMetadata;
}

export interface DataFileInfo {
  path: string;
  recordCount: number;
  sizeBytes: number;
}

export interface RetentionPolicy {
  /** Snapshots older than this are expired (the current one never is). */
  maxSnapshotAgeMs: number;
  /** At least this many of the newest snapshots are kept whatever their age. */
  minSnapshotsToKeep: number;
  /** Older metadata files beyond this many are deleted. */
  maxMetadataFiles: number;
}

export interface CommitOptions<R> {
  /** Builds the new full state from the current snapshot's rows (null when the table has no snapshot yet). */
  build: (current: { rows: R[]; summary: Record<string, string> } | null) => { rows: R[]; summary: Record<string, string> } | 'skip';
  /** Sort key of rows (the table's sort order); rows are written in this order. */
  sortKey: (r: R) => string;
}

export interface CommitResult {
  snapshotId: number;
  version: number;
  attempts: number;
  files: DataFileInfo[];
  expiredSnapshots: number;
}

export class CommitConflictError extends Error {}

const METADATA_RE = /^v(\d+)\.metadata\.json$/;

function icebergType(t: IcebergType): string {
  return t;
}

async function writeDurable(file: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A positive snapshot id below 2^53 (JSON numbers and Avro longs both carry it exactly). */
function newSnapshotId(): number {
  const b = randomBytes(8);
  return Number(b.readBigUInt64BE() >> 12n) || 1;
}

function statsMap<T>(m: Map<number, T>): { key: number; value: T }[] {
  return [...m.entries()].map(([key, value]) => ({ key, value }));
}

export class IcebergTable<R extends object> {
  private cache: { snapshotId: number; rows: R[] } | undefined;

  constructor(
    readonly location: string,
    private readonly columns: ColumnSpec[],
    private readonly opts: {
      properties?: Record<string, string>;
      /** Rows per data file; a state larger than this is split. */
      targetFileRows: number;
      retention: RetentionPolicy;
      /** Field ids of the default sort order (ascending). */
      sortFieldIds: number[];
      /** Converts a row read back from Parquet to R (types as written). */
      fromParquet: (o: Record<string, unknown>) => R;
      /** Called between steps of a commit; the crash tests use it to die at a chosen point. */
      onStep?: (step: 'data-written' | 'manifests-written' | 'metadata-linked') => void | Promise<void>;
    },
  ) {}

  get metadataDir(): string {
    return path.join(this.location, 'metadata');
  }

  /** The highest committed version, found by listing metadata/ (version-hint.text may lag after a crash). */
  async loadLatest(): Promise<Loaded | null> {
    let names: string[];
    try {
      names = await readdir(this.metadataDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let best = -1;
    for (const n of names) {
      const m = METADATA_RE.exec(n);
      if (m) best = Math.max(best, Number(m[1]));
    }
    if (best < 0) return null;
    const metadataFile = path.join(this.metadataDir, `v${best}.metadata.json`);
    const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as TableMetadata;
    return { version: best, metadataFile, metadata };
  }

  currentSnapshot(loaded: Loaded | null): SnapshotEntry | undefined {
    const id = loaded?.metadata['current-snapshot-id'];
    if (id === null || id === undefined) return undefined;
    return loaded!.metadata.snapshots.find((s) => s['snapshot-id'] === id);
  }

  /** Live data files of a snapshot, from its manifest list and manifests. */
  async dataFiles(snapshot: SnapshotEntry): Promise<DataFileInfo[]> {
    const list = readAvroContainer(await readFile(snapshot['manifest-list']));
    const files: DataFileInfo[] = [];
    for (const mf of list.records as { manifest_path: string; content: number }[]) {
      if (mf.content !== 0) continue;
      const manifest = readAvroContainer(await readFile(mf.manifest_path));
      for (const e of manifest.records as { status: number; data_file: { file_path: string; record_count: number; file_size_in_bytes: number } }[]) {
        if (e.status === 2) continue;
        files.push({ path: e.data_file.file_path, recordCount: e.data_file.record_count, sizeBytes: e.data_file.file_size_in_bytes });
      }
    }
    return files;
  }

  /** Every row of a snapshot (read with hyparquet; the cache spares it when we made the snapshot ourselves). */
  async readRows(snapshot: SnapshotEntry): Promise<R[]> {
    if (this.cache?.snapshotId === snapshot['snapshot-id']) return this.cache.rows;
    const rows: R[] = [];
    for (const f of await this.dataFiles(snapshot)) {
      const buf = await readFile(f.path);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const objs = (await parquetReadObjects({ file: ab as ArrayBuffer, utf8: true })) as Record<string, unknown>[];
      for (const o of objs) rows.push(this.opts.fromParquet(o));
    }
    this.cache = { snapshotId: snapshot['snapshot-id'], rows };
    return rows;
  }

  /**
   * Commits a new snapshot holding the full state build() returns, retrying on a lost race (another writer
   * created the same version first) with a fresh read. Returns null when build() answered 'skip'.
   */
  async commit(options: CommitOptions<R>, maxAttempts = 10): Promise<CommitResult | null> {
    for (let attempt = 1; ; attempt++) {
      const base = await this.loadLatest();
      const current = this.currentSnapshot(base);
      const input = current ? { rows: await this.readRows(current), summary: current.summary } : null;
      const built = options.build(input);
      if (built === 'skip') return null;
      try {
        const result = await this.tryCommit(base, current, built.rows, built.summary, options.sortKey);
        return { ...result, attempts: attempt };
      } catch (err) {
        if (!(err instanceof CommitConflictError) || attempt >= maxAttempts) throw err;
      }
    }
  }

  private schemaJson(): unknown {
    return {
      type: 'struct',
      'schema-id': 0,
      fields: this.columns.map((c) => ({ id: c.id, name: c.name, required: c.required, type: icebergType(c.type), ...(c.doc ? { doc: c.doc } : {}) })),
    };
  }

  private newMetadata(): TableMetadata {
    const now = Date.now();
    return {
      'format-version': 2,
      'table-uuid': randomUUID(),
      location: this.location,
      'last-sequence-number': 0,
      'last-updated-ms': now,
      'last-column-id': Math.max(...this.columns.map((c) => c.id)),
      'current-schema-id': 0,
      schemas: [this.schemaJson()],
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: [] }],
      'last-partition-id': 999,
      'default-sort-order-id': 1,
      'sort-orders': [
        { 'order-id': 0, fields: [] },
        {
          'order-id': 1,
          fields: this.opts.sortFieldIds.map((id) => ({ transform: 'identity', 'source-id': id, direction: 'asc', 'null-order': 'nulls-first' })),
        },
      ],
      properties: { ...this.opts.properties },
      'current-snapshot-id': null,
      refs: {},
      snapshots: [],
      'snapshot-log': [],
      'metadata-log': [],
    };
  }

  private async tryCommit(
    base: Loaded | null,
    parent: SnapshotEntry | undefined,
    rowsIn: R[],
    extraSummary: Record<string, string>,
    sortKey: (r: R) => string,
  ): Promise<Omit<CommitResult, 'attempts'>> {
    const dataDir = path.join(this.location, 'data');
    await mkdir(dataDir, { recursive: true });
    await mkdir(this.metadataDir, { recursive: true });
    const meta: TableMetadata = base ? structuredClone(base.metadata) : this.newMetadata();
    const snapshotId = newSnapshotId();
    const sequenceNumber = meta['last-sequence-number'] + 1;
    const now = Date.now();
    const written: string[] = [];
    try {
      // 1. Data files, sorted by the table's sort order, complete and fsynced before anything names them.
      const keyed = rowsIn.map((r) => [sortKey(r), r] as const);
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const rows = keyed.map((k) => k[1]);
      const files: (DataFileInfo & { stats: ReturnType<typeof writeParquet>['stats'] })[] = [];
      for (let i = 0, n = 0; i < rows.length; i += this.opts.targetFileRows, n++) {
        const chunk = rows.slice(i, i + this.opts.targetFileRows);
        const pq = writeParquet(this.columns, chunk);
        const file = path.join(dataDir, `${snapshotId}-${n}-${randomUUID()}.parquet`);
        await writeDurable(file, pq.bytes);
        written.push(file);
        files.push({ path: file, recordCount: chunk.length, sizeBytes: pq.bytes.length, stats: pq.stats });
      }
      await syncDir(dataDir);
      await this.opts.onStep?.('data-written');

      // 2. One manifest: the new files ADDED (sequence numbers inherited), the parent's files DELETED.
      const previous = parent ? await this.dataFiles(parent) : [];
      const entries = [
        ...files.map((f) => ({
          status: 1,
          snapshot_id: snapshotId,
          sequence_number: null,
          file_sequence_number: null,
          data_file: {
            content: 0,
            file_path: f.path,
            file_format: 'PARQUET',
            partition: {},
            record_count: f.recordCount,
            file_size_in_bytes: f.sizeBytes,
            column_sizes: null,
            value_counts: statsMap(new Map([...f.stats].map(([id, s]) => [id, s.valueCount]))),
            null_value_counts: statsMap(new Map([...f.stats].map(([id, s]) => [id, s.nullCount]))),
            nan_value_counts: null,
            lower_bounds: statsMap(new Map([...f.stats].filter(([, s]) => s.lower).map(([id, s]) => [id, s.lower!]))),
            upper_bounds: statsMap(new Map([...f.stats].filter(([, s]) => s.upper).map(([id, s]) => [id, s.upper!]))),
            key_metadata: null,
            split_offsets: null,
            equality_ids: null,
            sort_order_id: 1,
          },
        })),
        ...previous.map((f) => ({
          status: 2,
          snapshot_id: snapshotId,
          sequence_number: parent!['sequence-number'],
          file_sequence_number: parent!['sequence-number'],
          data_file: {
            content: 0,
            file_path: f.path,
            file_format: 'PARQUET',
            partition: {},
            record_count: f.recordCount,
            file_size_in_bytes: f.sizeBytes,
            column_sizes: null,
            value_counts: null,
            null_value_counts: null,
            nan_value_counts: null,
            lower_bounds: null,
            upper_bounds: null,
            key_metadata: null,
            split_offsets: null,
            equality_ids: null,
            sort_order_id: 1,
          },
        })),
      ];
      const schemaJson = JSON.stringify(meta.schemas[0]);
      const manifestBytes = avroContainer(MANIFEST_ENTRY_SCHEMA, entries, {
        schema: schemaJson,
        'schema-id': '0',
        'partition-spec': '[]',
        'partition-spec-id': '0',
        'format-version': '2',
        content: 'data',
      });
      const manifestPath = path.join(this.metadataDir, `${snapshotId}-${randomUUID()}-m0.avro`);
      await writeDurable(manifestPath, manifestBytes);
      written.push(manifestPath);
      const addedRows = rows.length;
      const deletedRows = previous.reduce((a, f) => a + f.recordCount, 0);
      const listBytes = avroContainer(
        MANIFEST_FILE_SCHEMA,
        [
          {
            manifest_path: manifestPath,
            manifest_length: manifestBytes.length,
            partition_spec_id: 0,
            content: 0,
            sequence_number: sequenceNumber,
            min_sequence_number: sequenceNumber,
            added_snapshot_id: snapshotId,
            added_files_count: files.length,
            existing_files_count: 0,
            deleted_files_count: previous.length,
            added_rows_count: addedRows,
            existing_rows_count: 0,
            deleted_rows_count: deletedRows,
            partitions: [],
            key_metadata: null,
          },
        ],
        {
          'snapshot-id': String(snapshotId),
          'parent-snapshot-id': parent ? String(parent['snapshot-id']) : 'null',
          'sequence-number': String(sequenceNumber),
          'format-version': '2',
        },
      );
      const listPath = path.join(this.metadataDir, `snap-${snapshotId}-1-${randomUUID()}.avro`);
      await writeDurable(listPath, listBytes);
      written.push(listPath);
      await syncDir(this.metadataDir);
      await this.opts.onStep?.('manifests-written');

      // 3. The new metadata: snapshot, refs, logs, then expiry of old snapshots in the same version.
      const addedSize = files.reduce((a, f) => a + f.sizeBytes, 0);
      const removedSize = previous.reduce((a, f) => a + f.sizeBytes, 0);
      const snapshot: SnapshotEntry = {
        'snapshot-id': snapshotId,
        ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
        'sequence-number': sequenceNumber,
        'timestamp-ms': now,
        'manifest-list': listPath,
        'schema-id': 0,
        summary: {
          operation: 'overwrite',
          'added-data-files': String(files.length),
          'deleted-data-files': String(previous.length),
          'added-records': String(addedRows),
          'deleted-records': String(deletedRows),
          'added-files-size': String(addedSize),
          'removed-files-size': String(removedSize),
          'total-records': String(addedRows),
          'total-data-files': String(files.length),
          'total-files-size': String(addedSize),
          'total-delete-files': '0',
          'total-position-deletes': '0',
          'total-equality-deletes': '0',
          ...extraSummary,
        },
      };
      meta.snapshots.push(snapshot);
      meta['current-snapshot-id'] = snapshotId;
      meta.refs = { ...meta.refs, main: { 'snapshot-id': snapshotId, type: 'branch' } };
      meta['last-sequence-number'] = sequenceNumber;
      meta['last-updated-ms'] = now;
      meta['snapshot-log'].push({ 'snapshot-id': snapshotId, 'timestamp-ms': now });
      if (base) meta['metadata-log'].push({ 'metadata-file': base.metadataFile, 'timestamp-ms': base.metadata['last-updated-ms'] });
      const expired = this.expire(meta, now);
      const droppedMetadata = meta['metadata-log'].splice(0, Math.max(0, meta['metadata-log'].length - this.opts.retention.maxMetadataFiles));

      const version = (base?.version ?? 0) + 1;
      const tmp = path.join(this.metadataDir, `.v${version}-${randomUUID()}.metadata.json.tmp`);
      await writeDurable(tmp, Buffer.from(JSON.stringify(meta, null, 1)));
      const target = path.join(this.metadataDir, `v${version}.metadata.json`);
      try {
        await link(tmp, target);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CommitConflictError(`v${version} was created by another writer`);
        throw err;
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
      written.length = 0; // committed: the files belong to the table now
      await syncDir(this.metadataDir);
      await this.opts.onStep?.('metadata-linked');
      await this.writeVersionHint(version);
      this.cache = { snapshotId, rows };
      // Files of expired snapshots and dropped metadata versions go after the commit, best effort: a crash
      // here leaves unreferenced files, never a reference to a missing one.
      await this.deleteExpired(expired, droppedMetadata.map((m) => m['metadata-file']));
      return { snapshotId, version, files: files.map(({ stats: _s, ...f }) => f), expiredSnapshots: expired.length };
    } finally {
      // A failed or lost attempt removes what it wrote; nothing references those files.
      for (const f of written) await rm(f, { force: true });
    }
  }

  private async writeVersionHint(version: number): Promise<void> {
    const tmp = path.join(this.metadataDir, `.version-hint-${randomUUID()}.tmp`);
    await writeDurable(tmp, Buffer.from(String(version)));
    await rename(tmp, path.join(this.metadataDir, 'version-hint.text'));
  }

  /** Removes expired snapshots from meta (in place) and returns them. */
  private expire(meta: TableMetadata, now: number): SnapshotEntry[] {
    const { maxSnapshotAgeMs, minSnapshotsToKeep } = this.opts.retention;
    const newestFirst = [...meta.snapshots].sort((a, b) => b['sequence-number'] - a['sequence-number']);
    const keep = new Set<number>();
    newestFirst.forEach((s, i) => {
      if (i < minSnapshotsToKeep || now - s['timestamp-ms'] <= maxSnapshotAgeMs || s['snapshot-id'] === meta['current-snapshot-id']) keep.add(s['snapshot-id']);
    });
    for (const ref of Object.values(meta.refs)) keep.add(ref['snapshot-id']);
    const expired = meta.snapshots.filter((s) => !keep.has(s['snapshot-id']));
    if (expired.length === 0) return [];
    meta.snapshots = meta.snapshots.filter((s) => keep.has(s['snapshot-id']));
    // The snapshot log must only name snapshots that still exist; drop its entries up to the last expired one.
    const lastExpired = Math.max(...meta['snapshot-log'].map((e, i) => (keep.has(e['snapshot-id']) ? -1 : i)));
    meta['snapshot-log'] = meta['snapshot-log'].slice(lastExpired + 1);
    return expired;
  }

  /** Every snapshot owns its data files, manifest and manifest list (full rewrite per commit), so they go with it. */
  private async deleteExpired(expired: SnapshotEntry[], metadataFiles: string[]): Promise<void> {
    for (const s of expired) {
      try {
        const list = readAvroContainer(await readFile(s['manifest-list']));
        for (const mf of list.records as { manifest_path: string }[]) {
          const manifest = readAvroContainer(await readFile(mf.manifest_path));
          for (const e of manifest.records as { status: number; snapshot_id: number; data_file: { file_path: string } }[]) {
            if (e.status === 1 && e.snapshot_id === s['snapshot-id']) await rm(e.data_file.file_path, { force: true });
          }
          await rm(mf.manifest_path, { force: true });
        }
        await rm(s['manifest-list'], { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    for (const f of metadataFiles) await rm(f, { force: true });
  }

  /** Total bytes of the live data files (for logs and tests). */
  async sizeOf(files: DataFileInfo[]): Promise<number> {
    let n = 0;
    for (const f of files) n += (await stat(f.path)).size;
    return n;
  }
}
