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

export class StateStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly remove: Database.Statement<[string]>;
  private readonly saveOffset: Database.Statement<[string, string, number]>;
  private seq = 0;

  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a transaction the runtime was told about (and then committed offsets behind) survives a power loss.
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS progress (partition_key TEXT PRIMARY KEY, next_offset TEXT NOT NULL, max_time INTEGER NOT NULL);
    `);
    this.upsert = this.db.prepare('INSERT INTO state (key, value, seq) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, seq = excluded.seq');
    this.remove = this.db.prepare('DELETE FROM state WHERE key = ?');
    this.saveOffset = this.db.prepare(
      'INSERT INTO progress (partition_key, next_offset, max_time) VALUES (?, ?, ?) ON CONFLICT(partition_key) DO UPDATE SET next_offset = excluded.next_offset, max_time = excluded.max_time',
    );
    this.seq = (this.db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM state').get() as { s: number }).s;
  }

  /** Every saved entry, least recently updated first (the detector's eviction order). */
  *entries(): Generator<[string, StateEntry]> {
    for (const row of this.db.prepare('SELECT key, value FROM state ORDER BY seq').iterate() as Iterable<{ key: string; value: string }>) {
      yield [row.key, JSON.parse(row.value) as StateEntry];
    }
  }

  progress(): Map<string, PartitionCheckpoint> {
    const rows = this.db.prepare('SELECT partition_key, next_offset, max_time FROM progress').all() as { partition_key: string; next_offset: string; max_time: number }[];
    return new Map(rows.map((r) => [r.partition_key, { nextOffset: BigInt(r.next_offset), maxTime: r.max_time }]));
  }

  /** The changed entries and the partitions' progress, all or nothing. */
  save(changes: StateChanges, progress: Map<string, PartitionCheckpoint>): void {
    this.db.transaction(() => {
      for (const [key, entry] of changes.upserts) this.upsert.run(key, JSON.stringify(entry), ++this.seq);
      for (const key of changes.deletes) this.remove.run(key);
      for (const [p, c] of progress) this.saveOffset.run(p, c.nextOffset.toString(), c.maxTime);
    })();
  }

  close(): void {
    this.db.close();
  }
}
