/**
 * Table maintenance through a catalog, each a metadata commit that retries on top of a concurrent writer:
 * snapshot expiry (then deletion of what only expired snapshots used), rollback of `main` to an earlier
 * snapshot, and the history for time travel. Compaction rewrites data, so it lives with the writer
 * (apps/snapshotter `maintain compact`), on the same commit path.
 */
import type { Catalog, TableIdent } from './catalog';
import { currentSnapshot, snapshotById, snapshotsToExpire, type Snapshot, type SnapshotId } from './metadata';
import { commitWithRetry, deleteExpiredFiles } from './table-ops';

export type Progress = (msg: string) => void;

export interface ExpireOptions {
  /** Expire snapshots older than this... */
  olderThanMs: number;
  /** ...beyond the newest this many (the current one and any ref's are always kept). */
  retainLast: number;
  now?: number;
  onProgress?: Progress;
}

export async function expireSnapshots(catalog: Catalog, ident: TableIdent, o: ExpireOptions): Promise<{ expired: SnapshotId[]; deletedFiles: number }> {
  const progress = o.onProgress ?? (() => undefined);
  const now = o.now ?? Date.now();
  let expired: Snapshot[] = [];
  const done = await commitWithRetry(catalog, ident, (t) => {
    const ids = snapshotsToExpire(t.metadata, { maxSnapshotAgeMs: o.olderThanMs, minSnapshotsToKeep: o.retainLast }, now);
    progress(`${t.metadata.snapshots.length} snapshots, ${ids.length} to expire`);
    if (!ids.length) return null;
    expired = t.metadata.snapshots.filter((s) => ids.includes(s['snapshot-id']));
    return { updates: [{ action: 'remove-snapshots', 'snapshot-ids': ids }], result: ids };
  });
  if (!done) return { expired: [], deletedFiles: 0 };
  progress(`committed ${done.table.metadataLocation}; deleting files only expired snapshots used`);
  const deletedFiles = await deleteExpiredFiles(done.table.metadata, expired);
  progress(`expired ${done.result.length} snapshots, deleted ${deletedFiles} files`);
  return { expired: done.result, deletedFiles };
}

/**
 * Points `main` at an earlier snapshot the table still has (spec: set-snapshot-ref). The snapshots after it stay
 * until expiry, so a rollback can itself be undone by rolling forward to one of them.
 */
export async function rollbackTo(catalog: Catalog, ident: TableIdent, snapshotId: SnapshotId, onProgress: Progress = () => undefined): Promise<{ from: SnapshotId | null; to: SnapshotId }> {
  const done = await commitWithRetry(catalog, ident, (t) => {
    const target = snapshotById(t.metadata, snapshotId);
    if (!target) {
      throw new Error(
        `snapshot ${snapshotId} is not in ${ident.namespace}.${ident.name} (known: ${t.metadata.snapshots.map((s) => s['snapshot-id'].toString()).join(', ')}); list them with the history command`,
      );
    }
    const from = t.metadata['current-snapshot-id'];
    onProgress(`main: ${from ?? 'none'} -> ${snapshotId} (${new Date(target['timestamp-ms']).toISOString()})`);
    if (from === snapshotId) return null;
    return { updates: [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId }], result: from };
  });
  if (!done) onProgress('already current');
  else onProgress(`committed ${done.table.metadataLocation}`);
  return { from: done ? done.result : snapshotId, to: snapshotId };
}

export interface HistoryEntry {
  snapshotId: SnapshotId;
  parentId: SnapshotId | null;
  timestampMs: number;
  operation: string;
  totalRecords: number | null;
  current: boolean;
}

/** The table's snapshots, oldest first, for time travel (`--snapshot-id`) and rollback. */
export async function history(catalog: Catalog, ident: TableIdent): Promise<HistoryEntry[]> {
  const t = await catalog.loadTable(ident);
  if (!t) throw new Error(`table ${ident.namespace}.${ident.name} does not exist in the ${catalog.kind} catalog`);
  const cur = currentSnapshot(t.metadata)?.['snapshot-id'];
  return [...t.metadata.snapshots]
    .sort((a, b) => a['sequence-number'] - b['sequence-number'])
    .map((s) => ({
      snapshotId: s['snapshot-id'],
      parentId: s['parent-snapshot-id'] ?? null,
      timestampMs: s['timestamp-ms'],
      operation: s.summary.operation,
      totalRecords: s.summary['total-records'] !== undefined ? Number(s.summary['total-records']) : null,
      current: s['snapshot-id'] === cur,
    }));
}
