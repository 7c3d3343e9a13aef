import { describe, expect, it } from '@jest/globals';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '@pipeline/testing';
import { CommitConflictError, FolderCatalog, type TableIdent } from './catalog';
import type { DataFile } from './manifest';
import { expireSnapshots, history, rollbackTo } from './maintenance';
import { currentSnapshot, newTableMetadata } from './metadata';
import { icebergSchema, SNAPSHOT_COLUMNS } from './row-schema';
import { commitSnapshot, liveFiles, removeOrphans, type LiveFile } from './table-ops';

const ident: TableIdent = { namespace: 'shop', name: 'likes' };

function setup() {
  const warehouse = tempDir('iceberg-ops');
  const catalog = new FolderCatalog(warehouse);
  const location = catalog.defaultLocation(ident);
  const init = () => newTableMetadata({ location, schema: icebergSchema(SNAPSHOT_COLUMNS), sortFieldIds: [1, 2, 3] });
  let n = 0;
  /** A data file that exists (the content is not read by these tests). */
  const file = (rows: number): DataFile => {
    mkdirSync(path.join(location, 'data'), { recursive: true });
    const p = path.join(location, 'data', `f${n++}.parquet`);
    writeFileSync(p, 'x');
    return { content: 0, file_path: p, file_format: 'PARQUET', partition: {}, record_count: rows, file_size_in_bytes: 1, column_sizes: null, value_counts: null, null_value_counts: null, nan_value_counts: null, lower_bounds: null, upper_bounds: null, key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: null };
  };
  /** Appends files (keeping every live file) on the latest version. */
  const append = async (rows: number[], extra: { now?: number; retention?: { maxSnapshotAgeMs: number; minSnapshotsToKeep: number; maxMetadataFiles: number } } = {}) => {
    const base = await catalog.loadTable(ident);
    const cur = base ? currentSnapshot(base.metadata) : undefined;
    const kept = cur ? await liveFiles(cur) : [];
    return commitSnapshot(catalog, ident, base, init, { added: rows.map(file), kept, removed: [], ...extra });
  };
  return { warehouse, catalog, location, init, file, append };
}

describe('commits through the folder catalog', () => {
  it('a commit on a stale base conflicts and leaves none of its files; the retry on the winner keeps both changes', async () => {
    const { catalog, init, file, append, location } = setup();
    await append([3]);
    const base = await catalog.loadTable(ident);
    const live = await liveFiles(currentSnapshot(base!.metadata)!);
    await append([4]); // another writer wins the next version
    const before = await readdir(path.join(location, 'metadata'));
    const mine = file(5);
    await expect(commitSnapshot(catalog, ident, base, init, { added: [mine], kept: live, removed: [] })).rejects.toBeInstanceOf(CommitConflictError);
    expect((await readdir(path.join(location, 'metadata'))).sort()).toEqual(before.sort());
    // Retry on the winner's snapshot.
    const winner = await catalog.loadTable(ident);
    const winnerLive = await liveFiles(currentSnapshot(winner!.metadata)!);
    const r = await commitSnapshot(catalog, ident, winner, init, { added: [mine], kept: winnerLive, removed: [] });
    expect(r.snapshot.summary['total-records']).toBe('12');
    expect(r.snapshot['parent-snapshot-id']).toBe(currentSnapshot(winner!.metadata)!['snapshot-id']);
    expect(r.table.metadataLocation).toMatch(/v3\.metadata\.json$/);
    expect((await liveFiles(r.snapshot)).map((f) => f.dataFile.record_count).sort()).toEqual([3, 4, 5]);
  });

  it('creating a table that another writer created first conflicts', async () => {
    const { catalog, init, file } = setup();
    await commitSnapshot(catalog, ident, null, init, { added: [file(1)], kept: [], removed: [] });
    await expect(commitSnapshot(catalog, ident, null, init, { added: [file(1)], kept: [], removed: [] })).rejects.toBeInstanceOf(CommitConflictError);
  });

  it('summaries: totals follow added, kept and removed files; overwrite when a file is removed', async () => {
    const { catalog, init, file, append } = setup();
    await append([10, 20]);
    const base = (await catalog.loadTable(ident))!;
    const live: LiveFile[] = await liveFiles(currentSnapshot(base.metadata)!);
    const r = await commitSnapshot(catalog, ident, base, init, { added: [file(7)], kept: [live[0]!], removed: [live[1]!] });
    expect(r.snapshot.summary).toMatchObject({ operation: 'overwrite', 'added-records': '7', 'deleted-records': '20', 'total-records': '17', 'total-data-files': '2', 'deleted-data-files': '1' });
    const entries = await liveFiles(r.snapshot);
    // The kept file keeps the snapshot id and sequence number it was added with.
    expect(entries.find((e) => e.dataFile.file_path === live[0]!.dataFile.file_path)).toMatchObject({ snapshotId: live[0]!.snapshotId, sequenceNumber: 1 });
  });
});

describe('expiry, rollback, history, orphans', () => {
  it('expiry in a commit deletes the files only expired snapshots used, and trims the metadata log', async () => {
    const { catalog, init, file, append } = setup();
    await append([1], { now: 1000 });
    const base = (await catalog.loadTable(ident))!;
    const first = await liveFiles(currentSnapshot(base.metadata)!);
    // Replace the first file: afterwards only the first snapshot names it.
    const second = await commitSnapshot(catalog, ident, base, init, { added: [file(2)], kept: [], removed: first, now: 2000 });
    const r = await append([3], { now: 3000, retention: { maxSnapshotAgeMs: 0, minSnapshotsToKeep: 1, maxMetadataFiles: 1 } });
    expect(r.expired.map((s) => s['snapshot-id']).sort()).toEqual([currentSnapshot(base.metadata)!['snapshot-id'], second.snapshot['snapshot-id']].sort());
    expect(existsSync(first[0]!.dataFile.file_path)).toBe(false);
    expect(existsSync(base.metadataLocation)).toBe(false); // dropped from the metadata log
    expect(r.table.metadata.snapshots).toHaveLength(1);
    expect((await liveFiles(r.snapshot)).every((f) => existsSync(f.dataFile.file_path))).toBe(true);
  });

  it('rollback points main at an earlier snapshot; history lists them; expireSnapshots through the catalog', async () => {
    const { catalog, append } = setup();
    const a = await append([1], { now: 1000 });
    await append([2], { now: 2000 });
    await append([3], { now: 3000 });
    const progress: string[] = [];
    await rollbackTo(catalog, ident, a.snapshot['snapshot-id'], (m) => progress.push(m));
    expect(progress.join('\n')).toMatch(/-> \d+/);
    const h = await history(catalog, ident);
    expect(h.map((e) => e.current)).toEqual([true, false, false]);
    expect(h.map((e) => e.totalRecords)).toEqual([1, 3, 6]);
    await expect(rollbackTo(catalog, ident, 12345n)).rejects.toThrow(/not in shop.likes/);
    const r = await expireSnapshots(catalog, ident, { olderThanMs: 0, retainLast: 0, now: 10_000 }); // the current one stays anyway
    expect(r.expired).toHaveLength(2);
    expect((await history(catalog, ident)).map((e) => e.snapshotId)).toEqual([a.snapshot['snapshot-id']]);
  });

  it('removeOrphans deletes old unreachable files only', async () => {
    const { catalog, append, location } = setup();
    await append([1]);
    const orphan = path.join(location, 'data', 'crashed.parquet');
    writeFileSync(orphan, 'partial');
    const t = (await catalog.loadTable(ident))!;
    expect(await removeOrphans(t, 60_000)).toEqual([]); // too young: may be a commit in flight
    expect(await removeOrphans(t, 0, Date.now() + 1000)).toEqual([orphan]);
    expect((await liveFiles(currentSnapshot(t.metadata)!)).every((f) => existsSync(f.dataFile.file_path))).toBe(true);
  });
});

describe('locations', () => {
  it('reads bare paths and file:/, file:///, local:/// URIs as local files; refuses object stores with what to do', async () => {
    const { localPath } = await import('./io');
    expect(localPath('/w/t/data/a.parquet')).toBe('/w/t/data/a.parquet');
    expect(localPath('file:/w/t/a b.parquet')).toBe('/w/t/a b.parquet');
    expect(localPath('file:///w/t/a%20b.parquet')).toBe('/w/t/a b.parquet');
    expect(localPath('local:///w/t/x')).toBe('/w/t/x');
    expect(() => localPath('s3://bucket/t/x')).toThrow(/only local files.*mount the warehouse/);
  });
});
