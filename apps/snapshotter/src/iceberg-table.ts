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
 * Commits are copy-on-write per data file: a file holding a changed edge is rewritten with the change applied,
 * untouched files stay (EXISTING entries), new edges go to new files, and small files are compacted together
 * once enough of them pile up. Each snapshot has one manifest listing all of its live files, so every snapshot
 * is complete on its own (time travel), and no delete files are needed.
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
  snapshotId: number;
  version: number;
  attempts: number;
  operation: 'append' | 'overwrite';
  addedFiles: number;
  deletedFiles: number;
  existingFiles: number;
  compactedFiles: number;
  totalRecords: number;
  expiredSnapshots: number;
}

/** A live data file of a snapshot, as its manifest entry says. */
interface LiveFile {
  dataFile: DataFileRecord;
  snapshotId: number;
  sequenceNumber: number;
  fileSequenceNumber: number;
}

interface DataFileRecord {
  content: number;
  file_path: string;
  file_format: string;
  partition: Record<string, never>;
  record_count: number;
  file_size_in_bytes: number;
  [k: string]: unknown;
}

interface ManifestEntry {
  status: number;
  snapshot_id: number | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: DataFileRecord;
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


export class IcebergTable<R extends object> {
  /** Rows per data file path: data files never change once written, so the cache never goes stale. */
  private readonly rowsByFile = new Map<string, R[]>();
  /**
   * Row key -> (data file, row) of the snapshot this instance committed last, so the next commit does not
   * rebuild it from every row; dropped whenever another writer's snapshot comes in between.
   */
  private keyIndex: { snapshotId: number; map: Map<string, [string, R]> } | undefined;

  constructor(
    readonly location: string,
    private readonly columns: ColumnSpec[],
    private readonly opts: {
      properties?: Record<string, string>;
      /** Rows per data file written. */
      targetFileRows: number;
      compaction: CompactionPolicy;
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

  /** Live data files of a snapshot with their sequence numbers (an ADDED entry inherits its manifest's). */
  private async liveFiles(snapshot: SnapshotEntry): Promise<LiveFile[]> {
    const list = readAvroContainer(await readFile(snapshot['manifest-list']));
    const files: LiveFile[] = [];
    for (const mf of list.records as { manifest_path: string; content: number; sequence_number: number; added_snapshot_id: number }[]) {
      if (mf.content !== 0) continue;
      const manifest = readAvroContainer(await readFile(mf.manifest_path));
      for (const e of manifest.records as ManifestEntry[]) {
        if (e.status === 2) continue;
        files.push({
          dataFile: e.data_file,
          snapshotId: e.snapshot_id ?? mf.added_snapshot_id,
          sequenceNumber: e.sequence_number ?? mf.sequence_number,
          fileSequenceNumber: e.file_sequence_number ?? mf.sequence_number,
        });
      }
    }
    return files;
  }

  async dataFiles(snapshot: SnapshotEntry): Promise<DataFileInfo[]> {
    return (await this.liveFiles(snapshot)).map((f) => ({ path: f.dataFile.file_path, recordCount: f.dataFile.record_count, sizeBytes: f.dataFile.file_size_in_bytes }));
  }

  private async rowsOf(file: string): Promise<R[]> {
    let rows = this.rowsByFile.get(file);
    if (!rows) {
      const buf = await readFile(file);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const objs = (await parquetReadObjects({ file: ab as ArrayBuffer, utf8: true })) as Record<string, unknown>[];
      rows = objs.map((o) => this.opts.fromParquet(o));
      this.rowsByFile.set(file, rows);
    }
    return rows;
  }

  /** Every row of a snapshot (read with hyparquet, cached per data file). */
  async readRows(snapshot: SnapshotEntry): Promise<R[]> {
    const out: R[] = [];
    for (const f of await this.liveFiles(snapshot)) out.push(...(await this.rowsOf(f.dataFile.file_path)));
    return out;
  }

  /**
   * Commits the changes on top of the latest snapshot (whoever wrote it), copy-on-write per data file: files
   * holding a changed edge are rewritten, untouched files stay (EXISTING), new edges go to new files, and small
   * files are compacted together. Retries from a fresh read when another writer created the next version first.
   * Returns null when no change applies (every change lost to a newer row).
   */
  async commit(options: CommitOptions<R>, maxAttempts = 10): Promise<CommitResult | null> {
    for (let attempt = 1; ; attempt++) {
      const base = await this.loadLatest();
      const parent = this.currentSnapshot(base);
      try {
        const result = await this.tryCommit(base, parent, options);
        return result && { ...result, attempts: attempt };
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

  /** Which live files change: rewritten files (a changed edge in them), compacted ones, and the rows to write. */
  private async keyMap(parentId: number | undefined, live: LiveFile[], keyOf: (r: R) => string): Promise<Map<string, [string, R]>> {
    if (parentId !== undefined && this.keyIndex?.snapshotId === parentId) return this.keyIndex.map;
    const map = new Map<string, [string, R]>();
    for (const f of live) for (const r of await this.rowsOf(f.dataFile.file_path)) map.set(keyOf(r), [f.dataFile.file_path, r]);
    this.keyIndex = parentId === undefined ? undefined : { snapshotId: parentId, map };
    return map;
  }

  private async plan(
    parentId: number | undefined,
    live: LiveFile[],
    options: CommitOptions<R>,
  ): Promise<{ keep: LiveFile[]; remove: LiveFile[]; rows: R[]; compacted: number; keys: Map<string, [string, R]> } | null> {
    const keys = await this.keyMap(parentId, live, options.keyOf);
    const indexOfPath = new Map(live.map((f, i) => [f.dataFile.file_path, i]));
    const fileRows: R[][] = [];
    for (const f of live) fileRows.push(await this.rowsOf(f.dataFile.file_path));
    const fileOfKey = {
      get: (key: string): [number, R] | undefined => {
        const hit = keys.get(key);
        if (!hit) return undefined;
        const i = indexOfPath.get(hit[0]);
        if (i === undefined) throw new Error(`key index names ${hit[0]}, which is not live`);
        return [i, hit[1]];
      },
    };
    const touched = new Map<number, Map<string, R | null>>();
    const added: R[] = [];
    let applied = 0;
    for (const [key, change] of options.changes) {
      const found = fileOfKey.get(key);
      if (found === undefined) {
        if (change.row) {
          added.push(change.row);
          applied++;
        }
        continue;
      }
      const [i, have] = found;
      if (options.ordOf(have) > change.ord) continue; // the table holds a newer state of this edge
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
      for (const r of fileRows[i]!) {
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

  private async tryCommit(base: Loaded | null, parent: SnapshotEntry | undefined, options: CommitOptions<R>): Promise<Omit<CommitResult, 'attempts'> | null> {
    const live = parent ? await this.liveFiles(parent) : [];
    const planned = await this.plan(parent?.['snapshot-id'], live, options);
    if (!planned) return null;
    const { keep, remove } = planned;
    const dataDir = path.join(this.location, 'data');
    await mkdir(dataDir, { recursive: true });
    await mkdir(this.metadataDir, { recursive: true });
    const meta: TableMetadata = base ? structuredClone(base.metadata) : this.newMetadata();
    const snapshotId = newSnapshotId();
    const sequenceNumber = meta['last-sequence-number'] + 1;
    const now = Date.now();
    const written: string[] = [];
    try {
      // 1. New data files, sorted by the table's sort order, complete and fsynced before anything names them.
      const keyed = planned.rows.map((r) => [options.sortKey(r), r] as const);
      keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const rows = keyed.map((k) => k[1]);
      const files: DataFileRecord[] = [];
      for (let i = 0, n = 0; i < rows.length; i += this.opts.targetFileRows, n++) {
        const chunk = rows.slice(i, i + this.opts.targetFileRows);
        const pq = writeParquet(this.columns, chunk);
        const file = path.join(dataDir, `${snapshotId}-${n}-${randomUUID()}.parquet`);
        await writeDurable(file, pq.bytes);
        written.push(file);
        this.rowsByFile.set(file, chunk);
        const st = [...pq.stats];
        files.push({
          content: 0,
          file_path: file,
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

      // 2. One manifest listing the whole snapshot: new files ADDED (sequence numbers inherited), untouched files
      //    EXISTING (their own snapshot and sequence numbers), rewritten or compacted files DELETED.
      const entries: ManifestEntry[] = [
        ...files.map((f) => ({ status: 1, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null, data_file: f })),
        ...keep.map((f) => ({ status: 0, snapshot_id: f.snapshotId, sequence_number: f.sequenceNumber, file_sequence_number: f.fileSequenceNumber, data_file: f.dataFile })),
        ...remove.map((f) => ({ status: 2, snapshot_id: snapshotId, sequence_number: f.sequenceNumber, file_sequence_number: f.fileSequenceNumber, data_file: f.dataFile })),
      ];
      const manifestBytes = avroContainer(MANIFEST_ENTRY_SCHEMA, entries, {
        schema: JSON.stringify(meta.schemas[0]),
        'schema-id': '0',
        'partition-spec': '[]',
        'partition-spec-id': '0',
        'format-version': '2',
        content: 'data',
      });
      const manifestPath = path.join(this.metadataDir, `${snapshotId}-${randomUUID()}-m0.avro`);
      await writeDurable(manifestPath, manifestBytes);
      written.push(manifestPath);
      const sum = (fs: DataFileRecord[], k: 'record_count' | 'file_size_in_bytes') => fs.reduce((a, f) => a + f[k], 0);
      const keptFiles = keep.map((f) => f.dataFile);
      const removedFiles = remove.map((f) => f.dataFile);
      const minSeq = Math.min(sequenceNumber, ...keep.map((f) => f.sequenceNumber));
      const listBytes = avroContainer(
        MANIFEST_FILE_SCHEMA,
        [
          {
            manifest_path: manifestPath,
            manifest_length: manifestBytes.length,
            partition_spec_id: 0,
            content: 0,
            sequence_number: sequenceNumber,
            min_sequence_number: minSeq,
            added_snapshot_id: snapshotId,
            added_files_count: files.length,
            existing_files_count: keep.length,
            deleted_files_count: remove.length,
            added_rows_count: sum(files, 'record_count'),
            existing_rows_count: sum(keptFiles, 'record_count'),
            deleted_rows_count: sum(removedFiles, 'record_count'),
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

      // 3. The new metadata: snapshot, refs, logs, and expiry of old snapshots in the same version.
      const operation = remove.length ? 'overwrite' : 'append';
      const totalRecords = sum(files, 'record_count') + sum(keptFiles, 'record_count');
      const snapshot: SnapshotEntry = {
        'snapshot-id': snapshotId,
        ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
        'sequence-number': sequenceNumber,
        'timestamp-ms': now,
        'manifest-list': listPath,
        'schema-id': 0,
        summary: {
          operation,
          'added-data-files': String(files.length),
          'deleted-data-files': String(remove.length),
          'added-records': String(sum(files, 'record_count')),
          'deleted-records': String(sum(removedFiles, 'record_count')),
          'added-files-size': String(sum(files, 'file_size_in_bytes')),
          'removed-files-size': String(sum(removedFiles, 'file_size_in_bytes')),
          'total-records': String(totalRecords),
          'total-data-files': String(files.length + keep.length),
          'total-files-size': String(sum(files, 'file_size_in_bytes') + sum(keptFiles, 'file_size_in_bytes')),
          'total-delete-files': '0',
          'total-position-deletes': '0',
          'total-equality-deletes': '0',
          ...options.summary(parent?.summary),
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
      // The key index follows the new snapshot: keys of removed files out, keys of the new files in.
      const keys = planned.keys;
      for (const f of remove) for (const r of this.rowsByFile.get(f.dataFile.file_path) ?? []) keys.delete(options.keyOf(r));
      for (const f of files) for (const r of this.rowsByFile.get(f.file_path) ?? []) keys.set(options.keyOf(r), [f.file_path, r]);
      this.keyIndex = { snapshotId, map: keys };
      for (const f of remove) this.rowsByFile.delete(f.dataFile.file_path);
      // Files only expired snapshots used go after the commit, best effort: a crash here leaves unreferenced
      // files, never a reference to a missing one.
      await this.deleteExpired(meta, expired, droppedMetadata.map((m) => m['metadata-file']));
      return {
        snapshotId,
        version,
        operation,
        addedFiles: files.length,
        deletedFiles: remove.length,
        existingFiles: keep.length,
        compactedFiles: planned.compacted,
        totalRecords,
        expiredSnapshots: expired.length,
      };
    } finally {
      // A failed or lost attempt removes what it wrote; nothing references those files.
      for (const f of written) {
        this.rowsByFile.delete(f);
        await rm(f, { force: true });
      }
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

  /**
   * Deletes what only expired snapshots used: their manifest lists and manifests, and every data file they
   * name that no retained snapshot lists as live (files are shared between snapshots: EXISTING entries).
   */
  private async deleteExpired(meta: TableMetadata, expired: SnapshotEntry[], metadataFiles: string[]): Promise<void> {
    if (expired.length) {
      const referenced = new Set<string>();
      for (const s of meta.snapshots) for (const f of await this.liveFiles(s)) referenced.add(f.dataFile.file_path);
      for (const s of expired) {
        try {
          const list = readAvroContainer(await readFile(s['manifest-list']));
          for (const mf of list.records as { manifest_path: string }[]) {
            const manifest = readAvroContainer(await readFile(mf.manifest_path));
            for (const e of manifest.records as ManifestEntry[]) {
              if (!referenced.has(e.data_file.file_path)) await rm(e.data_file.file_path, { force: true });
            }
            await rm(mf.manifest_path, { force: true });
          }
          await rm(s['manifest-list'], { force: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    }
    for (const f of metadataFiles) await rm(f, { force: true });
  }

  /**
   * Deletes files under data/ and metadata/ that the latest metadata does not reach (left by crashed or lost
   * commits), if older than minAgeMs: a younger file may belong to a commit in flight in another instance.
   * Metadata JSON files are left to the METADATA_MAX_FILES policy.
   */
  async removeOrphans(minAgeMs: number): Promise<string[]> {
    const latest = await this.loadLatest();
    if (!latest) return [];
    const reachable = new Set<string>();
    for (const s of latest.metadata.snapshots) {
      reachable.add(s['manifest-list']);
      const list = readAvroContainer(await readFile(s['manifest-list']));
      for (const mf of list.records as { manifest_path: string }[]) reachable.add(mf.manifest_path);
      for (const f of await this.liveFiles(s)) reachable.add(f.dataFile.file_path);
    }
    const removed: string[] = [];
    const now = Date.now();
    for (const dir of [path.join(this.location, 'data'), this.metadataDir]) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        const file = path.join(dir, n);
        if (METADATA_RE.test(n) || n === 'version-hint.text' || reachable.has(file)) continue;
        const st = await stat(file).catch(() => undefined);
        if (!st?.isFile() || now - st.mtimeMs < minAgeMs) continue;
        await rm(file, { force: true });
        this.rowsByFile.delete(file);
        removed.push(file);
      }
    }
    return removed;
  }

  /** Total bytes of the live data files (for logs and tests). */
  async sizeOf(files: DataFileInfo[]): Promise<number> {
    let n = 0;
    for (const f of files) n += (await stat(f.path)).size;
    return n;
  }
}
