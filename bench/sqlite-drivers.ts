/**
 * better-sqlite3 against Node's built-in node:sqlite (DatabaseSync), on the core's access pattern: a file
 * database in WAL mode with synchronous=NORMAL, upserts of state rows into a WITHOUT ROWID table in batched
 * transactions, then point reads by key and short ordered range scans. better-sqlite3 is the baseline;
 * every figure is a ratio against it in the same run.
 *   npx tsx bench/sqlite-drivers.ts [--rows 200000] [--batch 500] [--reads 200000] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import BetterSqlite from 'better-sqlite3';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    reads: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
  },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const reads = Number(values.reads);
const rounds = Number(values.rounds);

/** What both drivers offer, reduced to what the bench uses. */
interface Driver {
  name: string;
  exec(sql: string): void;
  prepare(sql: string): { run(...a: unknown[]): unknown; get(...a: unknown[]): unknown; all(...a: unknown[]): unknown[] };
  transaction(fn: () => void): void;
  close(): void;
}

function betterSqlite(file: string): Driver {
  const db = new BetterSqlite(file);
  return {
    name: 'better-sqlite3',
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql) as unknown as ReturnType<Driver['prepare']>,
    // better-sqlite3's own transaction wrapper, as the core uses it.
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}

function nodeSqlite(file: string): Driver | undefined {
  let mod: typeof import('node:sqlite');
  try {
    // Loaded lazily: node:sqlite exists from Node 22.5 (flagged until 22.13) and is absent before.
    mod = createRequire(import.meta.url)('node:sqlite');
  } catch {
    return undefined;
  }
  const db = new mod.DatabaseSync(file);
  return {
    name: 'node:sqlite',
    exec: (sql) => db.exec(sql),
    prepare: (sql) => db.prepare(sql) as unknown as ReturnType<Driver['prepare']>,
    transaction: (fn) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        fn();
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    },
    close: () => db.close(),
  };
}

/** Deterministic keys and bodies, shared by both drivers. */
const key = (i: number) => `u${(i * 7919) % rows}:p${i}`;
const body = (i: number) => JSON.stringify({ version: i, active: i % 5 !== 0, props: { created_at: 1_700_000_000_000 + i } });

function run(make: (file: string) => Driver | undefined): { name: string; writeMs: number; readMs: number; scanMs: number } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
  try {
    const db = make(join(dir, 'bench.db'));
    if (!db) return undefined;
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -131072; PRAGMA wal_autocheckpoint = 20000');
    db.exec('CREATE TABLE state (tbl TEXT NOT NULL, ekey TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (tbl, ekey)) WITHOUT ROWID');
    const put = db.prepare(
      'INSERT INTO state (tbl, ekey, state) VALUES (?, ?, ?) ON CONFLICT (tbl, ekey) DO UPDATE SET state = excluded.state',
    );
    const get = db.prepare('SELECT state FROM state WHERE tbl = ? AND ekey = ?');
    const scan = db.prepare('SELECT ekey, state FROM state WHERE tbl = ? AND ekey > ? ORDER BY ekey LIMIT 20');

    let t = performance.now();
    for (let i = 0; i < rows; i += batch) {
      db.transaction(() => {
        for (let j = i; j < Math.min(rows, i + batch); j++) put.run('likes', key(j), body(j));
      });
    }
    const writeMs = performance.now() - t;

    t = performance.now();
    let found = 0;
    for (let i = 0; i < reads; i++) if (get.get('likes', key((i * 31) % rows))) found++;
    const readMs = performance.now() - t;
    if (found !== reads) throw new Error(`${db.name}: ${found} of ${reads} point reads found their row`);

    t = performance.now();
    let scanned = 0;
    const scans = Math.max(1, Math.floor(reads / 20));
    for (let i = 0; i < scans; i++) scanned += scan.all('likes', `u${(i * 131) % rows}`).length;
    const scanMs = performance.now() - t;
    if (scanned === 0) throw new Error(`${db.name}: range scans returned nothing`);

    db.close();
    return { name: db.name, writeMs, readMs, scanMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const best = new Map<string, { writeMs: number; readMs: number; scanMs: number }>();
for (let r = 0; r < rounds; r++) {
  // Alternate the order so that neither driver always runs on a warmer machine.
  const order = r % 2 === 0 ? [betterSqlite, nodeSqlite] : [nodeSqlite, betterSqlite];
  for (const make of order) {
    const res = run(make);
    if (!res) continue;
    const prev = best.get(res.name);
    best.set(res.name, {
      writeMs: Math.min(prev?.writeMs ?? Infinity, res.writeMs),
      readMs: Math.min(prev?.readMs ?? Infinity, res.readMs),
      scanMs: Math.min(prev?.scanMs ?? Infinity, res.scanMs),
    });
  }
}

const base = best.get('better-sqlite3')!;
console.log(`Node ${process.versions.node}, SQLite rows=${rows} batch=${batch} reads=${reads}, best of ${rounds} rounds`);
console.log('driver            upserts/s   point reads/s  scans/s   upsert ÷ base  read ÷ base  scan ÷ base');
for (const [name, m] of best) {
  const scans = Math.max(1, Math.floor(reads / 20));
  console.log(
    [
      name.padEnd(16),
      String(Math.round(rows / (m.writeMs / 1000))).padStart(10),
      String(Math.round(reads / (m.readMs / 1000))).padStart(14),
      String(Math.round(scans / (m.scanMs / 1000))).padStart(8),
      `${(base.writeMs / m.writeMs).toFixed(2)}x`.padStart(14),
      `${(base.readMs / m.readMs).toFixed(2)}x`.padStart(12),
      `${(base.scanMs / m.scanMs).toFixed(2)}x`.padStart(12),
    ].join(' '),
  );
}
if (!best.has('node:sqlite')) console.log('node:sqlite: not available on this Node');
