/**
 * Commit latency of the snapshotter's Iceberg tables: copy-on-write per data file (files holding a changed edge
 * are rewritten, new edges go to new files), then manifest, manifest list, vN.metadata.json. Measured for several
 * state sizes, with the state cached in memory (the steady case of one committer) and read back from Parquet
 * (after a restart, or when another writer made the last snapshot). Baseline in the same run: the time to
 * write the same rows to one Parquet file alone, so the ratio shows what the Iceberg bookkeeping costs.
 *
 * Then commit latency with 1, 2 and 4 concurrent committers on one table (each its own SnapshotTables, caches and
 * catalog connection, as separate instances would have), through the folder catalog and the JDBC catalog on the
 * stack's PostgreSQL; the baseline is one committer on the folder catalog in the same run.
 *
 *   npx tsx bench/snapshotter-commit.ts [rows,rows,...] [--no-concurrency] [--json <file>]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDatabase, ensurePostgres } from '@pipeline/stack';
import { JdbcCatalog, type Catalog } from '@pipeline/iceberg';
import { SnapshotTables, writeSnapshotParquet, type PendingChange, type SnapshotRow } from '@pipeline/snapshotter';
import { emitResult, positionalArgs, printLoad, spread, type ResultRow } from './lib/report';

const loadBefore = printLoad('before');
const resultRows: ResultRow[] = [];

const sizes = (positionalArgs().find((a) => !a.startsWith('--')) ?? '10000,100000').split(',').map(Number);
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
  const aloneMs = median(alone);
  const vsAlone = (xs: number[]) => spread(xs.map((x) => x / aloneMs));
  resultRows.push({ name: `state to Parquet alone, ${n} rows`, unit: 'ms', value: spread(alone) });
  resultRows.push({ name: `commit of 1% random updates, ${n} rows`, unit: 'ms', value: spread(cached), ratio: vsAlone(cached), baseline: 'state to Parquet alone' });
  resultRows.push({ name: `commit of 1% new edges, ${n} rows`, unit: 'ms', value: spread(appends), ratio: vsAlone(appends), baseline: 'state to Parquet alone' });
  resultRows.push({ name: `commit of 1% updates, state read back, ${n} rows`, unit: 'ms', value: spread(cold), ratio: vsAlone(cold), baseline: 'state to Parquet alone' });
  rmSync(dir, { recursive: true, force: true });
}

if (!process.argv.includes('--no-concurrency')) {
  const STATE = 10_000;
  const PER = 8; // commits per committer
  const EDGES = 100; // new edges per commit
  console.log(`\nconcurrent committers on one table of ${STATE.toLocaleString('en')} rows: each commits ${PER} times ${EDGES} new edges, retrying lost races`);
  console.log('| catalog | committers | commit latency ms (median) | p90 ms | lost races retried | commits/s | latency / 1 folder committer |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  const { url } = await ensurePostgres();
  let baseline = 0;
  for (const kind of ['folder', 'jdbc'] as const) {
    for (const k of [1, 2, 4]) {
      const dir = mkdtempSync(path.join(tmpdir(), 'snap-commit-bench-'));
      const db = kind === 'jdbc' ? await createDatabase(url, 'bench_catalog') : undefined;
      const catalogs: Catalog[] = [];
      const make = () => {
        const catalog = db ? new JdbcCatalog({ url: db.url, catalogName: 'bench', warehouse: dir }) : undefined;
        if (catalog) catalogs.push(catalog);
        return new SnapshotTables({
          warehouseDir: dir,
          ...(catalog ? { catalog } : {}),
          targetFileRows: FILE_ROWS,
          compaction: { smallFileRows: 1_000, minSmallFiles: 8 },
          retention: { maxSnapshotAgeMs: 3_600_000, minSnapshotsToKeep: 3, maxMetadataFiles: 10 },
          commitRetries: 100,
          writerId: 'bench',
        });
      };
      let seq = 1;
      await make().commit('db.t', Array.from({ length: STATE }, (_, i) => change(i, seq++)), { 'cdc:0': STATE });
      const latencies: number[] = [];
      let retried = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: k }, async (_, w) => {
          const tables = make();
          for (let c = 0; c < PER; c++) {
            const changes = Array.from({ length: EDGES }, (_, j) => change(STATE * 10 + (w * PER + c) * EDGES + j, seq++));
            const t = performance.now();
            const r = await tables.commit('db.t', changes, { [`cdc:${w}`]: c + 1 });
            latencies.push(performance.now() - t);
            retried += (r?.attempts ?? 1) - 1;
          }
        }),
      );
      const wall = performance.now() - t0;
      const sorted = [...latencies].sort((a, b) => a - b);
      const med = median(latencies);
      if (kind === 'folder' && k === 1) baseline = med;
      resultRows.push({ name: `${kind} catalog, ${k} committer(s), commit latency`, unit: 'ms', value: spread(latencies) });
      console.log(
        `| ${kind} | ${k} | ${med.toFixed(0)} | ${sorted[Math.floor(sorted.length * 0.9)]!.toFixed(0)} | ${retried} | ${((k * PER) / (wall / 1000)).toFixed(1)} | ${(med / baseline).toFixed(2)}x |`,
      );
      for (const c of catalogs) await c.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

emitResult({ bench: 'snapshotter-commit', rounds: COMMITS, params: { sizes, fileRows: FILE_ROWS }, load: { before: loadBefore, after: printLoad('after') }, rows: resultRows });
