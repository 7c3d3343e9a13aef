/**
 * Commit latency of the snapshotter's Iceberg tables: copy-on-write per data file (files holding a changed edge
 * are rewritten, new edges go to new files), then manifest, manifest list, vN.metadata.json. Measured for several
 * state sizes, with the state cached in memory (the steady case of one committer) and read back from Parquet
 * (after a restart, or when another writer made the last snapshot). Baseline in the same run: the time to
 * write the same rows to one Parquet file alone, so the ratio shows what the Iceberg bookkeeping costs.
 *
 *   npx tsx bench/snapshotter-commit.ts [rows,rows,...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeSnapshotParquet, type SnapshotRow } from '../apps/snapshotter/src/parquet-file';
import { SnapshotTables } from '../apps/snapshotter/src/snapshot-tables';
import type { PendingChange } from '../apps/snapshotter/src/staging-store';

const sizes = (process.argv[2] ?? '10000,100000').split(',').map(Number);
const COMMITS = 5;
/** Rows per data file: a state of 100k rows is 4 files, so a commit rewrites only the files it touches. */
const FILE_ROWS = 25_000;

const row = (i: number, seq: number): SnapshotRow => ({
  source: `user${i % 5000}`,
  target: `item${i}`,
  edge_id: null,
  active: true,
  version: 1_700_000_000_000 + seq,
  created_at: 1_700_000_000_000 + seq,
  deleted_at: null,
  seq,
  properties: JSON.stringify({ created_at: 1_700_000_000_000 + seq }),
  updated_at_ms: Date.now(),
});
const change = (i: number, seq: number): PendingChange => ({ key: `st:user${i % 5000}\u0000item${i}`, ord: seq, row: row(i, seq) });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`snapshotter commits: ${COMMITS} commits per size, 1% of the edges changed per commit, node ${process.version}\n`);
console.log(`data files of ${FILE_ROWS} rows; updates hit random edges (so every file), appends add new edges only`);
console.log('| state rows | first commit ms | 1% random updates ms (median) | 1% new edges ms (median) | updates, state read back ms (median) | state to Parquet alone ms | updates / alone | appends / alone |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const n of sizes) {
  const dir = mkdtempSync(path.join(tmpdir(), 'snap-commit-bench-'));
  const tables = new SnapshotTables({
    warehouseDir: dir,
    targetFileRows: FILE_ROWS, compaction: { smallFileRows: 100_000, minSmallFiles: 8 },
    retention: { maxSnapshotAgeMs: 3_600_000, minSnapshotsToKeep: 3, maxMetadataFiles: 10 },
    commitRetries: 3,
    writerId: 'bench',
  });
  let seq = 1;
  const initial = Array.from({ length: n }, (_, i) => change(i, seq++));
  let t0 = performance.now();
  await tables.commit('db.t', initial, { 'cdc:0': n });
  const first = performance.now() - t0;
  const cached: number[] = [];
  const cold: number[] = [];
  for (let c = 0; c < COMMITS; c++) {
    const changes = Array.from({ length: Math.max(1, n / 100) }, () => change(Math.floor(Math.random() * n), seq++));
    t0 = performance.now();
    await tables.commit('db.t', changes, { 'cdc:0': n + c });
    cached.push(performance.now() - t0);
  }
  const appends: number[] = [];
  for (let c = 0; c < COMMITS; c++) {
    const changes = Array.from({ length: Math.max(1, n / 100) }, (_, j) => change(n * 10 + c * n + j, seq++));
    t0 = performance.now();
    await tables.commit('db.t', changes, { 'cdc:0': n + 50 + c });
    appends.push(performance.now() - t0);
  }
  for (let c = 0; c < COMMITS; c++) {
    const fresh = new SnapshotTables({ warehouseDir: dir, targetFileRows: FILE_ROWS, compaction: { smallFileRows: 100_000, minSmallFiles: 8 }, retention: { maxSnapshotAgeMs: 3_600_000, minSnapshotsToKeep: 3, maxMetadataFiles: 10 }, commitRetries: 3, writerId: 'bench' });
    const changes = Array.from({ length: Math.max(1, n / 100) }, () => change(Math.floor(Math.random() * n), seq++));
    t0 = performance.now();
    await fresh.commit('db.t', changes, { 'cdc:0': n + 100 + c });
    cold.push(performance.now() - t0);
  }
  const rows = initial.map((c) => c.row!);
  const alone: number[] = [];
  for (let c = 0; c < 3; c++) {
    t0 = performance.now();
    writeSnapshotParquet(rows);
    alone.push(performance.now() - t0);
  }
  console.log(
    `| ${n.toLocaleString('en')} | ${first.toFixed(0)} | ${median(cached).toFixed(0)} | ${median(appends).toFixed(0)} | ${median(cold).toFixed(0)} | ${median(alone).toFixed(0)} | ${(median(cached) / median(alone)).toFixed(2)}x | ${(median(appends) / median(alone)).toFixed(2)}x |`,
  );
  rmSync(dir, { recursive: true, force: true });
}
