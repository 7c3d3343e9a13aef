/**
 * Writing snapshots and cleaning up after them, for any catalog: the live files of a snapshot, a new snapshot
 * from added/kept/removed data files (manifest, manifest list, summary, metadata updates, catalog swap), the
 * deletion of what expired snapshots alone used, and orphan removal.
 *
 * Order of a commit, so a crash at any point leaves the old or the new version and never a reference to a
 * missing or partial file: data files (the caller's), then the manifest and manifest list (complete, fsynced),
 * then the metadata file and the catalog swap; deletions of expired files come only after the swap.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CommitConflictError, locationLike, type Catalog, type LoadedTable, type TableIdent } from './catalog';
import { localPath, syncDir, writeDurable } from './io';
import { EntryStatus, readManifest, readManifestList, writeManifest, writeManifestList, type DataFile, type ManifestEntry } from './manifest';
import {
  applyUpdates,
  currentSnapshot,
  newSnapshotId,
  snapshotsToExpire,
  type RetentionPolicy,
  type Snapshot,
  type SnapshotId,
  type TableMetadata,
  type TableUpdate,
} from './metadata';
import { snapshotSummary, type Operation } from './summary';

/** A live data file of a snapshot with the snapshot and sequence numbers its entry carries (inherited when null). */
export interface LiveFile {
  dataFile: DataFile;
  snapshotId: SnapshotId;
  sequenceNumber: number;
  fileSequenceNumber: number;
}

export async function liveFiles(snapshot: Snapshot): Promise<LiveFile[]> {
  const files: LiveFile[] = [];
  for (const mf of await readManifestList(await readFile(localPath(snapshot['manifest-list'])))) {
    if (mf.content !== 0) throw new Error(`${snapshot['manifest-list']}: delete manifests are not supported (merge-on-read); rewrite the table first`);
    for (const e of await readManifest(await readFile(localPath(mf.manifest_path)))) {
      if (e.status === EntryStatus.DELETED) continue;
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

/** Manifest lists, manifests and data files a snapshot names (`liveOnly`: without its DELETED entries). */
async function filesOf(snapshot: Snapshot, liveOnly = false): Promise<{ lists: string[]; manifests: string[]; data: string[] }> {
  const manifests: string[] = [];
  const data: string[] = [];
  for (const mf of await readManifestList(await readFile(localPath(snapshot['manifest-list'])))) {
    manifests.push(mf.manifest_path);
    for (const e of await readManifest(await readFile(localPath(mf.manifest_path)))) if (!liveOnly || e.status !== EntryStatus.DELETED) data.push(e.data_file.file_path);
  }
  return { lists: [snapshot['manifest-list']], manifests, data };
}

export interface SnapshotChange {
  added: DataFile[];
  kept: LiveFile[];
  removed: LiveFile[];
  /** Extra summary properties (e.g. the consumed offsets). */
  summary?: Record<string, string>;
  /** Default: `append` when nothing is removed, else `overwrite`. */
  operation?: Operation;
  /** The new snapshot's id; default a random 63-bit one. */
  snapshotId?: SnapshotId;
  /** Expire by this policy in the same commit. */
  retention?: RetentionPolicy;
  now?: number;
  onStep?: (step: 'manifests-written' | 'metadata-linked') => void | Promise<void>;
}

export interface SnapshotCommitResult {
  table: LoadedTable;
  snapshot: Snapshot;
  expired: Snapshot[];
}

/** Adds the base's metadata file to the metadata log and trims the log to `max` entries; returns the dropped files. */
export function withMetadataLog(m: TableMetadata, base: LoadedTable | null, max: number): { metadata: TableMetadata; dropped: string[] } {
  const log = [...m['metadata-log']];
  if (base) log.push({ 'metadata-file': base.metadataLocation, 'timestamp-ms': base.metadata['last-updated-ms'] });
  const dropped = log.splice(0, Math.max(0, log.length - max)).map((e) => e['metadata-file']);
  return { metadata: { ...m, 'metadata-log': log }, dropped };
}

/**
 * Commits one snapshot on top of `base` (null: a new table from `init()`): one manifest listing every live file
 * (added ADDED, kept EXISTING with their own ids, removed DELETED), its manifest list, the metadata updates, the
 * catalog swap. On a conflict the manifest files are removed and CommitConflictError is thrown; the caller
 * re-plans on the winner's snapshot.
 */
export async function commitSnapshot(catalog: Catalog, ident: TableIdent, base: LoadedTable | null, init: () => TableMetadata, change: SnapshotChange): Promise<SnapshotCommitResult> {
  const meta = base?.metadata ?? init();
  const parent = currentSnapshot(meta);
  const now = change.now ?? Date.now();
  const snapshotId = change.snapshotId ?? newSnapshotId();
  const sequenceNumber = meta['last-sequence-number'] + 1;
  const metaDir = path.join(localPath(meta.location), 'metadata');
  await mkdir(metaDir, { recursive: true });
  const written: string[] = [];
  try {
    const entries: ManifestEntry[] = [
      ...change.added.map((f) => ({ status: EntryStatus.ADDED, snapshot_id: snapshotId, sequence_number: null, file_sequence_number: null, data_file: f })),
      ...change.kept.map((f) => ({ status: EntryStatus.EXISTING, snapshot_id: f.snapshotId, sequence_number: f.sequenceNumber, file_sequence_number: f.fileSequenceNumber, data_file: f.dataFile })),
      ...change.removed.map((f) => ({ status: EntryStatus.DELETED, snapshot_id: snapshotId, sequence_number: f.sequenceNumber, file_sequence_number: f.fileSequenceNumber, data_file: f.dataFile })),
    ];
    const schema = meta.schemas.find((s) => s['schema-id'] === meta['current-schema-id']) ?? meta.schemas[0];
    const manifestBytes = await writeManifest(entries, { schemaJson: JSON.stringify(schema), schemaId: meta['current-schema-id'], specId: meta['default-spec-id'] });
    const manifestPath = path.join(metaDir, `${snapshotId}-${randomUUID()}-m0.avro`);
    await writeDurable(manifestPath, manifestBytes);
    written.push(manifestPath);
    const rows = (fs: readonly DataFile[]) => fs.reduce((a, f) => a + f.record_count, 0);
    const keptFiles = change.kept.map((f) => f.dataFile);
    const removedFiles = change.removed.map((f) => f.dataFile);
    const listBytes = await writeManifestList(
      [
        {
          manifest_path: locationLike(meta.location, manifestPath),
          manifest_length: manifestBytes.length,
          partition_spec_id: meta['default-spec-id'],
          content: 0,
          sequence_number: sequenceNumber,
          min_sequence_number: Math.min(sequenceNumber, ...change.kept.map((f) => f.sequenceNumber)),
          added_snapshot_id: snapshotId,
          added_files_count: change.added.length,
          existing_files_count: change.kept.length,
          deleted_files_count: change.removed.length,
          added_rows_count: rows(change.added),
          existing_rows_count: rows(keptFiles),
          deleted_rows_count: rows(removedFiles),
          partitions: [],
          key_metadata: null,
        },
      ],
      { snapshotId, parentId: parent?.['snapshot-id'], sequenceNumber },
    );
    const listPath = path.join(metaDir, `snap-${snapshotId}-1-${randomUUID()}.avro`);
    await writeDurable(listPath, listBytes);
    written.push(listPath);
    await syncDir(metaDir);
    await change.onStep?.('manifests-written');

    const operation = change.operation ?? (change.removed.length ? 'overwrite' : 'append');
    const snapshot: Snapshot = {
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
      'sequence-number': sequenceNumber,
      'timestamp-ms': now,
      'manifest-list': locationLike(meta.location, listPath),
      'schema-id': meta['current-schema-id'],
      summary: snapshotSummary(operation, { added: change.added, kept: keptFiles, removed: removedFiles }, change.summary),
    };
    const updates: TableUpdate[] = [
      { action: 'add-snapshot', snapshot },
      { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
    ];
    let next = applyUpdates(meta, updates, now);
    let expiredIds: SnapshotId[] = [];
    if (change.retention) {
      expiredIds = snapshotsToExpire(next, change.retention, now);
      if (expiredIds.length) next = applyUpdates(next, [{ action: 'remove-snapshots', 'snapshot-ids': expiredIds }], now);
    }
    const logged = withMetadataLog(next, base, change.retention?.maxMetadataFiles ?? Number.MAX_SAFE_INTEGER);
    const table = await catalog.commitTable(ident, base, logged.metadata);
    written.length = 0; // committed: the files belong to the table now
    await change.onStep?.('metadata-linked');
    const expired = meta.snapshots.filter((s) => expiredIds.includes(s['snapshot-id']));
    await deleteExpiredFiles(table.metadata, expired, logged.dropped);
    return { table, snapshot, expired };
  } finally {
    for (const f of written) await rm(f, { force: true });
  }
}

/**
 * Deletes what only expired snapshots used: their manifest lists and manifests, every data file they name that
 * no retained snapshot reaches (files are shared between snapshots through EXISTING entries), and dropped
 * metadata files. Best effort after the commit: a crash here leaves unreferenced files, never a reference to a
 * missing one.
 */
export async function deleteExpiredFiles(after: TableMetadata, expired: readonly Snapshot[], metadataFiles: readonly string[] = []): Promise<number> {
  let deleted = 0;
  if (expired.length) {
    const keep = new Set<string>();
    // A retained snapshot's DELETED entries name files it no longer has: those may go.
    for (const s of after.snapshots) {
      const f = await filesOf(s, true);
      for (const p of [...f.lists, ...f.manifests, ...f.data]) keep.add(p);
    }
    for (const s of expired) {
      let f: Awaited<ReturnType<typeof filesOf>>;
      try {
        f = await filesOf(s);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed by an earlier, interrupted run
        throw err;
      }
      for (const p of [...f.data, ...f.manifests, ...f.lists]) {
        if (keep.has(p)) continue;
        await rm(localPath(p), { force: true });
        deleted++;
      }
    }
  }
  for (const m of metadataFiles) {
    await rm(localPath(m), { force: true });
    deleted++;
  }
  return deleted;
}

/** Everything the table's current metadata reaches: metadata files of the log, manifest lists, manifests, data. */
export async function reachableFiles(t: LoadedTable): Promise<Set<string>> {
  const out = new Set<string>([t.metadataLocation, ...t.metadata['metadata-log'].map((e) => e['metadata-file'])].map(localPath));
  for (const s of t.metadata.snapshots) {
    const f = await filesOf(s);
    for (const p of [...f.lists, ...f.manifests, ...f.data]) out.add(localPath(p));
  }
  return out;
}

/**
 * Deletes files under the table's data/ and metadata/ that its current metadata does not reach (left by crashed
 * or lost commits), if older than minAgeMs: a younger file may belong to another writer's commit in flight.
 * Folder-catalog metadata files (`vN.metadata.json`) and the version hint are left to the metadata-log policy.
 */
export async function removeOrphans(t: LoadedTable, minAgeMs: number, now = Date.now()): Promise<string[]> {
  const reachable = await reachableFiles(t);
  const removed: string[] = [];
  for (const dir of [path.join(localPath(t.metadata.location), 'data'), path.join(localPath(t.metadata.location), 'metadata')]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      const file = path.join(dir, n);
      if (/^v\d+\.metadata\.json$/.test(n) || n === 'version-hint.text' || reachable.has(file)) continue;
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile() || now - st.mtimeMs < minAgeMs) continue;
      await rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}

/**
 * Loads, applies `plan` to the current metadata, commits; on a conflict re-loads and re-plans, up to `attempts`.
 * For metadata-only changes (expiry, rollback, properties).
 */
export async function commitWithRetry<T>(
  catalog: Catalog,
  ident: TableIdent,
  plan: (current: LoadedTable) => { updates: TableUpdate[]; result: T } | null,
  attempts = 10,
  now = () => Date.now(),
): Promise<{ table: LoadedTable; result: T; base: LoadedTable } | null> {
  for (let attempt = 1; ; attempt++) {
    const base = await catalog.loadTable(ident);
    if (!base) throw new Error(`table ${ident.namespace}.${ident.name} does not exist in the ${catalog.kind} catalog`);
    const planned = plan(base);
    if (!planned) return null;
    const max = Number(base.metadata.properties['write.metadata.previous-versions-max'] ?? 100);
    const next = withMetadataLog(applyUpdates(base.metadata, planned.updates, now()), base, Number.isInteger(max) && max > 0 ? max : 100);
    try {
      const table = await catalog.commitTable(ident, base, next.metadata);
      for (const f of next.dropped) await rm(localPath(f), { force: true });
      return { table, result: planned.result, base };
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt >= attempts) throw err;
    }
  }
}
