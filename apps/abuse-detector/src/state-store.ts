/**
 * The detector's windows on local disk (SQLite), saved in one transaction together with the offsets they cover.
 *
 * Why a local store and not a changelog topic: the state and "which records it already holds" must change
 * together. Here one SQLite transaction does it; with a changelog topic the state records and the input offsets
 * would need a Kafka transaction spanning both, or a crash between the two would count a batch twice after the
 * restart. Each batch writes only the entries it touched, so the cost follows the batch, not the state size.
 * On start, records at offsets the store already covers are skipped (the group's committed offsets can be
 * behind the store, never ahead: the store is saved before write() resolves and the runtime commits after).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { PartitionProgress, StateChanges, StateEntry } from './detector';

export interface PartitionCheckpoint extends PartitionProgress {
  /** The next offset not yet in the state. */
  nextOffset: bigint;
}

/** Batches of changes between two compactions: each compaction rewrites the whole state once. */
const COMPACT_EVERY = 500;
/** Entries per row of a compacted state. */
const CHUNK = 5_000;

/**
 * The state as a log: one row per batch holding the entries it changed and removed, appended in the batch's
 * transaction with the offsets (one insert per batch instead of one per entry, the bulk of a batch's cost
 * otherwise). Every COMPACT_EVERY batches the log is replaced by the current state, so its size stays near
 * the state's.
 */
export class StateStore {
  private readonly db: Database.Database;
  private readonly append: Database.Statement<[string]>;
  private readonly saveOffset: Database.Statement<[string, string, number]>;
  private rowsSinceCompaction: number;

  constructor(
    path: string,
    private readonly compactEvery = COMPACT_EVERY,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a transaction the runtime was told about (and then committed offsets behind) survives a power loss.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS progress (partition_key TEXT PRIMARY KEY, next_offset TEXT NOT NULL, max_time INTEGER NOT NULL);
    `);
    this.append = this.db.prepare('INSERT INTO changes (body) VALUES (?)');
    this.saveOffset = this.db.prepare(
      'INSERT INTO progress (partition_key, next_offset, max_time) VALUES (?, ?, ?) ON CONFLICT(partition_key) DO UPDATE SET next_offset = excluded.next_offset, max_time = excluded.max_time',
    );
    this.rowsSinceCompaction = (this.db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n;
  }

  /** Every saved entry, least recently updated first (the detector's eviction order). */
  *entries(): Generator<[string, StateEntry]> {
    const state = new Map<string, StateEntry>();
    for (const row of this.db.prepare('SELECT body FROM changes ORDER BY id').iterate() as Iterable<{ body: string }>) {
      const { u, d } = JSON.parse(row.body) as { u: [string, StateEntry][]; d: string[] };
      // Deleted first, then set: a later update moves the entry to the end, as the detector's touch does.
      for (const [key, entry] of u) {
        state.delete(key);
        state.set(key, entry);
      }
      for (const key of d) state.delete(key);
    }
    yield* state;
  }

  progress(): Map<string, PartitionCheckpoint> {
    const rows = this.db.prepare('SELECT partition_key, next_offset, max_time FROM progress').all() as { partition_key: string; next_offset: string; max_time: number }[];
    return new Map(rows.map((r) => [r.partition_key, { nextOffset: BigInt(r.next_offset), maxTime: r.max_time }]));
  }

  /**
   * The changed entries and the partitions' progress, all or nothing. `all` gives the whole state in eviction
   * order, for a compaction.
   */
  save(changes: StateChanges, progress: Map<string, PartitionCheckpoint>, all?: () => Iterable<[string, StateEntry]>): void {
    const compact = all !== undefined && this.rowsSinceCompaction >= this.compactEvery;
    this.db.transaction(() => {
      if (compact) {
        this.db.exec('DELETE FROM changes');
        let chunk: [string, StateEntry][] = [];
        for (const e of all()) {
          chunk.push(e);
          if (chunk.length === CHUNK) {
            this.append.run(JSON.stringify({ u: chunk, d: [] }));
            chunk = [];
          }
        }
        if (chunk.length > 0) this.append.run(JSON.stringify({ u: chunk, d: [] }));
      } else if (changes.upserts.length > 0 || changes.deletes.length > 0) {
        this.append.run(JSON.stringify({ u: changes.upserts, d: changes.deletes }));
      }
      for (const [p, c] of progress) this.saveOffset.run(p, c.nextOffset.toString(), c.maxTime);
    })();
    this.rowsSinceCompaction = compact ? 0 : this.rowsSinceCompaction + 1;
  }

  close(): void {
    this.db.close();
  }
}
