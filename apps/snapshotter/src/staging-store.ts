/**
 * The durable staging area between Kafka and the periodic commits (SQLite, synchronous=FULL).
 *
 * The stream runtime commits Kafka offsets as soon as write() resolves, but Iceberg commits happen once per
 * COMMIT_INTERVAL_MS. Records acknowledged in between must survive a kill -9: write() puts them here in one
 * transaction, and a table commit removes exactly what it committed. Staging is idempotent: the latest `after`
 * per edge wins by the core's seq, change-log rows are keyed by their Kafka coordinates. Deleted multi-edges keep a
 * tombstone (their DELETE's seq), so an older record of theirs from another partition is not staged again.
 * Rows are kept as lossless JSON (libs/events json.ts): a version in nanoseconds (bigint) survives staging.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { parseJson, stringifyJson } from '@pipeline/events';
import type { ChangeLogRow } from './cdc-row';
import type { SnapshotRow } from './parquet-file';

export interface PendingChange {
  key: string;
  ord: number;
  /** null: the edge is no longer active and leaves the table. */
  row: SnapshotRow | null;
}

/** Next offset to read per `topic:partition`. */
export type Offsets = Record<string, number>;

export interface StagedRecord {
  table: string;
  key: string;
  ord: number;
  row: SnapshotRow | null;
  topic: string;
  partition: number;
  offset: number;
  changelog?: { hour: string; row: ChangeLogRow };
}

/** Multi-edges are keyed by id (cdc-row.ts); their records can sit in several partitions. */
const isMultiEdgeKey = (key: string): boolean => key.startsWith('id:');

export class StagingStore {
  private readonly db: Database.Database;
  private genNow: number;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(path.join(dir, 'staging.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS pending (tbl TEXT NOT NULL, key TEXT NOT NULL, ord INTEGER NOT NULL, row TEXT, gen INTEGER NOT NULL, PRIMARY KEY (tbl, key));
      CREATE TABLE IF NOT EXISTS offsets (tbl TEXT NOT NULL, tp TEXT NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (tbl, tp));
      CREATE TABLE IF NOT EXISTS changelog (tp TEXT NOT NULL, off INTEGER NOT NULL, tbl TEXT NOT NULL, hour TEXT NOT NULL, row TEXT NOT NULL, gen INTEGER NOT NULL, PRIMARY KEY (tp, off));
      CREATE INDEX IF NOT EXISTS changelog_by_table ON changelog (tbl, hour, gen);
      CREATE TABLE IF NOT EXISTS changelog_hw (tp TEXT PRIMARY KEY, next INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS changelog_intent (file TEXT PRIMARY KEY, tbl TEXT NOT NULL, hour TEXT NOT NULL, gen INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tombstones (tbl TEXT NOT NULL, key TEXT NOT NULL, ord INTEGER NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
    `);
    const g = this.db.prepare('SELECT MAX(g) AS g FROM (SELECT MAX(gen) AS g FROM pending UNION ALL SELECT MAX(gen) FROM changelog)').get() as { g: number | null };
    this.genNow = g.g ?? 0;
  }

  /** The generation the next write gets; a commit takes everything at or below the current one. */
  get gen(): number {
    return this.genNow;
  }

  /** Stages one batch atomically (one SQLite transaction, fsynced). */
  stage(records: StagedRecord[]): void {
    const gen = ++this.genNow;
    const upsert = this.db.prepare(
      `INSERT INTO pending (tbl, key, ord, row, gen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (tbl, key) DO UPDATE SET ord = excluded.ord, row = excluded.row, gen = excluded.gen WHERE excluded.ord >= pending.ord`,
    );
    const offset = this.db.prepare(
      `INSERT INTO offsets (tbl, tp, next) VALUES (?, ?, ?) ON CONFLICT (tbl, tp) DO UPDATE SET next = MAX(next, excluded.next)`,
    );
    // A record redelivered after its change-log file was written (a crash between write() and the Kafka commit)
    // is below the flushed high-water mark of its partition: every record below it was staged, then flushed.
    const log = this.db.prepare(
      `INSERT OR IGNORE INTO changelog (tp, off, tbl, hour, row, gen)
       SELECT @tp, @off, @tbl, @hour, @row, @gen WHERE @off >= COALESCE((SELECT next FROM changelog_hw WHERE tp = @tp), 0)`,
    );
    const buried = this.db.prepare('SELECT ord FROM tombstones WHERE tbl = ? AND key = ?');
    const bury = this.db.prepare('INSERT INTO tombstones (tbl, key, ord) VALUES (?, ?, ?) ON CONFLICT (tbl, key) DO UPDATE SET ord = MAX(ord, excluded.ord)');
    this.db.transaction(() => {
      for (const r of records) {
        const tp = `${r.topic}:${r.partition}`;
        if (!isMultiEdgeKey(r.key)) {
          upsert.run(r.table, r.key, r.ord, r.row ? stringifyJson(r.row) : null, gen);
        } else {
          // A deleted edge leaves the table, and its seq with it; a multi-edge moved to other endpoints has older
          // records in another partition, which may come after the DELETE was committed. The tombstone keeps the
          // DELETE's seq so that such a record cannot bring the edge back.
          const t = (buried.get(r.table, r.key) as { ord: number } | undefined)?.ord;
          if (t === undefined || r.ord >= t) {
            upsert.run(r.table, r.key, r.ord, r.row ? stringifyJson(r.row) : null, gen);
            if (r.row === null) bury.run(r.table, r.key, r.ord);
          }
        }
        offset.run(r.table, tp, r.offset + 1);
        if (r.changelog) log.run({ tp, off: r.offset, tbl: r.table, hour: r.changelog.hour, row: stringifyJson(r.changelog.row), gen });
      }
    })();
  }

  /** Tables with staged state changes. */
  tablesWithPending(): string[] {
    return (this.db.prepare('SELECT DISTINCT tbl FROM pending').all() as { tbl: string }[]).map((r) => r.tbl);
  }

  /** The staged changes of a table up to generation `gen`, and the offsets they reach (one consistent read). */
  pending(table: string, gen: number): { changes: PendingChange[]; offsets: Offsets } {
    return this.db.transaction(() => {
      const changes = (this.db.prepare('SELECT key, ord, row FROM pending WHERE tbl = ? AND gen <= ?').all(table, gen) as { key: string; ord: number; row: string | null }[]).map(
        (r) => ({ key: r.key, ord: r.ord, row: r.row === null ? null : (parseJson(r.row) as SnapshotRow) }),
      );
      const offsets: Offsets = {};
      for (const o of this.db.prepare('SELECT tp, next FROM offsets WHERE tbl = ?').all(table) as { tp: string; next: number }[]) offsets[o.tp] = o.next;
      return { changes, offsets };
    })();
  }

  /** After a table commit: forget what it took (rows restaged since, with a higher gen, stay). */
  clearPending(table: string, gen: number): void {
    this.db.prepare('DELETE FROM pending WHERE tbl = ? AND gen <= ?').run(table, gen);
  }

  /** Change-log groups (table, hour) with rows up to `gen`. */
  changelogGroups(gen: number): { table: string; hour: string }[] {
    return (this.db.prepare('SELECT DISTINCT tbl, hour FROM changelog WHERE gen <= ?').all(gen) as { tbl: string; hour: string }[]).map((r) => ({ table: r.tbl, hour: r.hour }));
  }

  changelogRows(table: string, hour: string, gen: number): ChangeLogRow[] {
    return (this.db.prepare('SELECT row FROM changelog WHERE tbl = ? AND hour = ? AND gen <= ? ORDER BY tp, off').all(table, hour, gen) as { row: string }[]).map(
      (r) => parseJson(r.row) as ChangeLogRow,
    );
  }

  /** Records that `file` is about to hold the rows (table, hour, gen <= gen): decided on restart by whether it exists. */
  addIntent(file: string, table: string, hour: string, gen: number): void {
    this.db.prepare('INSERT OR REPLACE INTO changelog_intent (file, tbl, hour, gen) VALUES (?, ?, ?, ?)').run(file, table, hour, gen);
  }

  /** The file is in place: its rows leave staging, in the same transaction as the intent. */
  completeIntent(file: string): void {
    this.db.transaction(() => {
      const i = this.db.prepare('SELECT tbl, hour, gen FROM changelog_intent WHERE file = ?').get(file) as { tbl: string; hour: string; gen: number } | undefined;
      if (!i) return;
      this.db
        .prepare(
          `INSERT INTO changelog_hw (tp, next) SELECT tp, MAX(off) + 1 FROM changelog WHERE tbl = ? AND hour = ? AND gen <= ? GROUP BY tp
           ON CONFLICT (tp) DO UPDATE SET next = MAX(next, excluded.next)`,
        )
        .run(i.tbl, i.hour, i.gen);
      this.db.prepare('DELETE FROM changelog WHERE tbl = ? AND hour = ? AND gen <= ?').run(i.tbl, i.hour, i.gen);
      this.db.prepare('DELETE FROM changelog_intent WHERE file = ?').run(file);
    })();
  }

  dropIntent(file: string): void {
    this.db.prepare('DELETE FROM changelog_intent WHERE file = ?').run(file);
  }

  intents(): string[] {
    return (this.db.prepare('SELECT file FROM changelog_intent').all() as { file: string }[]).map((r) => r.file);
  }

  counts(): { pending: number; changelog: number } {
    const p = this.db.prepare('SELECT COUNT(*) AS n FROM pending').get() as { n: number };
    const c = this.db.prepare('SELECT COUNT(*) AS n FROM changelog').get() as { n: number };
    return { pending: p.n, changelog: c.n };
  }

  close(): void {
    this.db.close();
  }
}
