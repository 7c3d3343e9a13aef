import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { tempDir } from '@pipeline/testing';
import type { SnapshotRow } from './parquet-file';
import { keyOfRow, SnapshotTables } from './snapshot-tables';
import type { PendingChange } from './staging-store';

const row = (source: string, seq: number): SnapshotRow => ({
  source,
  target: 't',
  edge_id: null,
  active: true,
  version: seq,
  created_at: seq,
  deleted_at: null,
  seq,
  properties: JSON.stringify({ n: seq }),
  updated_at_ms: 1_700_000_000_000,
});
const put = (source: string, seq: number): PendingChange => ({ key: keyOfRow(row(source, seq)), ord: seq, row: row(source, seq) });
const del = (source: string, seq: number): PendingChange => ({ key: keyOfRow(row(source, seq)), ord: seq, row: null });

function tables(opts: { minSmallFiles?: number; minKeep?: number } = {}) {
  return new SnapshotTables({
    warehouseDir: tempDir('snapshot-tables-spec'),
    targetFileRows: 1000,
    compaction: { smallFileRows: 100, minSmallFiles: opts.minSmallFiles ?? 100 },
    retention: { maxSnapshotAgeMs: 0, minSnapshotsToKeep: opts.minKeep ?? 100, maxMetadataFiles: 100 },
    commitRetries: 3,
    writerId: 'spec',
  });
}

async function state(t: SnapshotTables, name = 'db.t') {
  const table = t.table(name);
  const snap = table.currentSnapshot(await table.loadLatest())!;
  return { snap, rows: (await table.readRows(snap)).map((r) => `${r.source}@${r.seq}`).sort(), files: await table.dataFiles(snap) };
}

describe('SnapshotTables (copy-on-write per data file)', () => {
  it('rewrites only the files holding a changed edge, adds new edges in new files, removes deleted edges', async () => {
    const t = tables();
    await t.commit('db.t', [put('a', 1), put('b', 2)], { 'cdc:0': 2 });
    const first = await state(t);
    await t.commit('db.t', [put('c', 3)], { 'cdc:0': 3 });
    const second = await state(t);
    expect(second.rows).toEqual(['a@1', 'b@2', 'c@3']);
    expect(second.snap.summary.operation).toBe('append');
    expect(second.files.map((f) => f.path)).toContain(first.files[0]!.path); // untouched file kept
    const r = await t.commit('db.t', [del('a', 4), put('c', 5)], { 'cdc:0': 5 });
    expect(r).toMatchObject({ operation: 'overwrite', deletedFiles: 2 });
    expect((await state(t)).rows).toEqual(['b@2', 'c@5']);
    expect(JSON.parse((await state(t)).snap.summary['snapshotter.offsets']!)).toEqual({ 'cdc:0': 5 });
  });

  it('a change older than the row in the table loses (no resurrected delete, no stale update)', async () => {
    const t = tables();
    await t.commit('db.t', [put('a', 10)], {});
    expect(await t.commit('db.t', [del('a', 5), put('a', 7)].slice(0, 1), {})).toBeNull();
    expect((await state(t)).rows).toEqual(['a@10']);
  });

  it('compacts small files once enough pile up', async () => {
    const t = tables({ minSmallFiles: 3 });
    await t.commit('db.t', [put('a', 1)], {});
    await t.commit('db.t', [put('b', 2)], {});
    expect((await state(t)).files).toHaveLength(2);
    const r = await t.commit('db.t', [put('c', 3)], {});
    expect(r).toMatchObject({ compactedFiles: 2, addedFiles: 1, existingFiles: 0 });
    const s = await state(t);
    expect(s.files).toHaveLength(1);
    expect(s.rows).toEqual(['a@1', 'b@2', 'c@3']);
  });

  it('expiring snapshots deletes only the files no retained snapshot uses', async () => {
    const t = tables({ minKeep: 1 });
    await t.commit('db.t', [put('a', 1)], {});
    const kept = (await state(t)).files[0]!.path;
    await t.commit('db.t', [put('b', 2)], {});
    const rewritten = (await state(t)).files.find((f) => f.path !== kept)!.path;
    const r = await t.commit('db.t', [put('b', 3)], {});
    expect(r?.expiredSnapshots).toBe(1); // the second one (the first expired at the second commit)
    expect(existsSync(kept)).toBe(true); // still live in the current snapshot
    expect(existsSync(rewritten)).toBe(false); // only expired snapshots named it
    const s = await state(t);
    expect(s.rows).toEqual(['a@1', 'b@3']);
    const meta = (await t.table('db.t').loadLatest())!.metadata;
    expect(meta.snapshots).toHaveLength(1);
    expect(meta['snapshot-log'].map((e) => e['snapshot-id'])).toEqual([s.snap['snapshot-id']]);
  });

  it('two writers on one warehouse alternate commits: each merges on top of the other (key index rebuilt, not stale)', async () => {
    const a = tables();
    const dir = (a as unknown as { opts: { warehouseDir: string } }).opts.warehouseDir;
    const b = new SnapshotTables({ ...(a as unknown as { opts: ConstructorParameters<typeof SnapshotTables>[0] }).opts, warehouseDir: dir, writerId: 'b' });
    await a.commit('db.t', [put('a', 1), put('b', 2)], { 'cdc:0': 2 });
    await b.commit('db.t', [put('a', 3), put('c', 4)], { 'cdc:1': 7 });
    await a.commit('db.t', [del('b', 5), put('a', 2)], { 'cdc:0': 4 }); // a@2 is older than b's a@3: loses
    const s = await state(a);
    expect(s.rows).toEqual(['a@3', 'c@4']);
    expect(JSON.parse(s.snap.summary['snapshotter.offsets']!)).toEqual({ 'cdc:0': 4, 'cdc:1': 7 });
  });
});
