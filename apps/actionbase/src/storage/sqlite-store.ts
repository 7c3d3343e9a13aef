import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Direction, Endpoint } from '@pipeline/edge-model';
import type { AliasDef, DatabaseDef, TableDef } from '../catalog/model';
import { nextSeq, tablespaceOf, toJsonText, toRow, type RawRow } from './edge-store';
import type { QueueStore } from './queue-store';
import { SqliteQueueStore } from './sqlite-queue-store';
import { SqliteCheckpointer } from './sqlite-checkpointer';
import type {
  CatalogSnapshot,
  EdgeRow,
  EdgeStorageKey,
  EdgeStore,
  IndexHit,
  IndexRowAdd,
  IndexScan,
  KeyWrite,
  OutboxRow,
  RelayLease,
} from './edge-store';

/**
 * The embedded engine: SQLite in WAL mode. State, index rows, counts and the CDC outbox of a
 * request are written in one transaction, so unlike HBase-backed Actionbase, counts and indexes can
 * never drift from the state, and a crash after commit cannot lose the CDC record (docs/model.md,
 * "Mutation flow", step 6).
 */
export class SqliteEdgeStore implements EdgeStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  /** Shared with the transaction view (see `atomically`), so both see one sequence. */
  private readonly clock: { seq: number };
  /** Settles when the open `atomically` unit ends; writes from outside it wait for that. */
  private gate: Promise<void> | null = null;
  /** True on the view handed to an `atomically` callback: its writes belong to the open unit. */
  private inUnit = false;
  private readonly scanStatements = new Map<string, Database.Statement>();
  private readonly stmt;
  private readonly queueStore: SqliteQueueStore;
  private readonly checkpointer: SqliteCheckpointer | undefined;

  constructor(path: string, opts: { synchronous: 'NORMAL' | 'FULL' } = { synchronous: 'NORMAL' }) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives a process crash (kill -9); only an OS crash or power
    // loss can drop the last commits, and those mutations are still in the Kafka WAL (acks=all),
    // from which wal-replay rebuilds them. FULL would fsync on every commit.
    this.db.pragma(`synchronous = ${opts.synchronous}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('cache_size = -131072');
    this.db.pragma('temp_store = MEMORY');
    // Checkpoint less often than the default 1000 pages: at batch write rates the default spends
    // about a third of the time copying pages back (measured with bench/core-mutations.ts).
    this.db.pragma('wal_autocheckpoint = 20000');
    this.migrate();
    // Checkpoints off the event loop; the autocheckpoint above is the backstop.
    if (path !== ':memory:') this.checkpointer = new SqliteCheckpointer(path, (message) => process.emitWarning(message, 'SqliteCheckpointWarning'));
    this.stmt = {
      // One statement for a whole request's keys: per-statement overhead dominates small reads.
      getRows: this.db.prepare('SELECT ekey, source, target, eid, state FROM edge_state WHERE tbl = ? AND ekey IN (SELECT value FROM json_each(?))'),
      // One key (a single-edge get or mutation, most of the traffic): a plain primary-key lookup, without
      // the key list's JSON and the temporary index SQLite builds for `IN (SELECT ...)`.
      getRow: this.db.prepare('SELECT ekey, source, target, eid, state FROM edge_state WHERE tbl = ? AND ekey = ?'),
      putRow: this.db.prepare(
        'INSERT INTO edge_state (tbl, ekey, source, target, eid, state) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (tbl, ekey) DO UPDATE SET source = excluded.source, target = excluded.target, eid = excluded.eid, state = excluded.state',
      ),
      addIndex: this.db.prepare('INSERT OR REPLACE INTO edge_index (tbl, idx, dir, start, sortkey, ekey) VALUES (?, ?, ?, ?, ?, ?)'),
      delIndex: this.db.prepare('DELETE FROM edge_index WHERE tbl = ? AND idx = ? AND dir = ? AND start = ? AND sortkey = ? AND ekey = ?'),
      addCount: this.db.prepare(
        'INSERT INTO edge_count (tbl, dir, start, n) VALUES (?, ?, ?, ?) ON CONFLICT (tbl, dir, start) DO UPDATE SET n = n + excluded.n',
      ),
      getCount: this.db.prepare('SELECT n FROM edge_count WHERE tbl = ? AND dir = ? AND start = ?'),
      addOutbox: this.db.prepare('INSERT INTO outbox (seq, key, value) VALUES (?, ?, ?)'),
      readOutbox: this.db.prepare('SELECT seq, key, value FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      deleteOutbox: this.db.prepare('DELETE FROM outbox WHERE seq <= ?'),
      outboxSize: this.db.prepare('SELECT count(*) AS n FROM outbox'),
      scanRows: this.db.prepare('SELECT ekey, source, target, eid, state FROM edge_state WHERE tbl = ? AND ekey > ? ORDER BY ekey LIMIT ?'),
    };
    const row = this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as { seq: number } | undefined;
    this.clock = { seq: row?.seq ?? 0 };
    // Created with the store: the purge of a deleted queue's messages needs its table.
    this.queueStore = new SqliteQueueStore(this.db, () => this.writable());
  }

  /**
   * An `atomically` unit spans awaits, and SQLite has one connection: a write from another request in
   * between would join the open transaction (and be rolled back with it). Writes outside the unit wait
   * for it to end; with no unit open this costs nothing.
   */
  private async writable(): Promise<void> {
    while (!this.inUnit && this.gate) await this.gate;
  }

  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta_database (name TEXT PRIMARY KEY, def TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta_table (db TEXT NOT NULL, name TEXT NOT NULL, def TEXT NOT NULL, PRIMARY KEY (db, name));
      CREATE TABLE IF NOT EXISTS meta_alias (db TEXT NOT NULL, name TEXT NOT NULL, def TEXT NOT NULL, PRIMARY KEY (db, name));
      CREATE TABLE IF NOT EXISTS edge_state (
        tbl TEXT NOT NULL, ekey TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, eid TEXT, state TEXT NOT NULL,
        PRIMARY KEY (tbl, ekey)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS edge_index (
        tbl TEXT NOT NULL, idx TEXT NOT NULL, dir TEXT NOT NULL, start TEXT NOT NULL, sortkey BLOB NOT NULL, ekey TEXT NOT NULL,
        PRIMARY KEY (tbl, idx, dir, start, sortkey, ekey)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS edge_count (
        tbl TEXT NOT NULL, dir TEXT NOT NULL, start TEXT NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (tbl, dir, start)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS purge_queue (tbl TEXT PRIMARY KEY);
    `);
    this.assignTablespaces();
  }

  /**
   * Tables created before tablespaces existed kept their rows under `db.table`, a key two different
   * names could share (`a.b`+`c` and `a`+`b.c`). Give each its own number and move its rows, once.
   */
  private assignTablespaces(): void {
    const rows = this.db.prepare('SELECT db, name, def FROM meta_table').all() as { db: string; name: string; def: string }[];
    const old = rows.map((r) => ({ ...r, t: JSON.parse(r.def) as TableDef })).filter((r) => typeof r.t.tid !== 'number');
    if (old.length === 0) return;
    this.db.transaction(() => {
      for (const r of old) {
        const tid = this.nextTableId();
        const from = `${r.db}.${r.name}`;
        for (const table of ['edge_state', 'edge_index', 'edge_count']) this.db.prepare(`UPDATE ${table} SET tbl = ? WHERE tbl = ?`).run(String(tid), from);
        this.db.prepare('UPDATE meta_table SET def = ? WHERE db = ? AND name = ?').run(JSON.stringify({ ...r.t, tid }), r.db, r.name);
      }
    })();
  }

  async allocateTableId(): Promise<number> {
    await this.writable();
    return this.nextTableId();
  }

  private nextTableId(): number {
    const row = this.db
      .prepare("INSERT INTO meta_counter (name, value) VALUES ('table', 1) ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value")
      .get() as { value: number };
    return row.value;
  }

  /** One process owns the file: the catalog's own queue already runs its changes one at a time. */
  exclusively<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async atomically<T>(fn: (tx: EdgeStore) => Promise<T>): Promise<T> {
    if (this.inUnit) return fn(this);
    await this.writable();
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    const tx = Object.create(this) as SqliteEdgeStore;
    tx.inUnit = true;
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = await fn(tx);
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    } finally {
      this.gate = null;
      release();
    }
  }

  onCatalogChange(): void {
    // One process owns the file: there is no other instance to hear from.
  }

  async hasRows(table: string): Promise<boolean> {
    table = tablespaceOf(table);
    return this.db.prepare('SELECT 1 FROM edge_state WHERE tbl = ? LIMIT 1').get(table) !== undefined;
  }

  async countRows(table: string, cap: number): Promise<number> {
    table = tablespaceOf(table);
    return (this.db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM edge_state WHERE tbl = ? LIMIT ?)').get(table, cap) as { n: number }).n;
  }

  async dropIndex(table: string, index: string): Promise<void> {
    await this.writable();
    table = tablespaceOf(table);
    this.db.prepare('DELETE FROM edge_index WHERE tbl = ? AND idx = ?').run(table, index);
  }

  async addIndexRows(table: string, rows: IndexRowAdd[]): Promise<void> {
    await this.writable();
    table = tablespaceOf(table);
    for (const e of rows) this.stmt.addIndex.run(table, e.index, e.direction, toJsonText(e.start), e.sortKey, e.key);
  }

  async schedulePurge(table: string): Promise<void> {
    await this.writable();
    table = tablespaceOf(table);
    this.db.prepare('INSERT OR IGNORE INTO purge_queue (tbl) VALUES (?)').run(table);
  }

  async pendingPurges(): Promise<string[]> {
    return (this.db.prepare('SELECT tbl FROM purge_queue').all() as { tbl: string }[]).map((r) => r.tbl);
  }

  async purgeSome(table: string, limit: number): Promise<number> {
    await this.writable();
    table = tablespaceOf(table);
    return this.db.transaction(() => {
      let n = 0;
      for (const [t, key] of [
        ['edge_index', 'idx, dir, start, sortkey, ekey'],
        ['edge_count', 'dir, start'],
        ['edge_state', 'ekey'],
        ['queue_message', 'part, seq, id'],
      ] as const) {
        if (n >= limit) break;
        n += this.db.prepare(`DELETE FROM ${t} WHERE tbl = ? AND (${key}) IN (SELECT ${key} FROM ${t} WHERE tbl = ? LIMIT ?)`).run(table, table, limit - n).changes;
      }
      if (n === 0) this.db.prepare('DELETE FROM purge_queue WHERE tbl = ?').run(table);
      return n;
    })();
  }

  isOpen(): boolean {
    return this.db.open;
  }

  async loadCatalog(): Promise<CatalogSnapshot> {
    const parse = <T>(rows: unknown[]): T[] => (rows as { def: string }[]).map((r) => JSON.parse(r.def) as T);
    return {
      databases: parse<DatabaseDef>(this.db.prepare('SELECT def FROM meta_database').all()),
      tables: parse<TableDef>(this.db.prepare('SELECT def FROM meta_table').all()),
      aliases: parse<AliasDef>(this.db.prepare('SELECT def FROM meta_alias').all()),
    };
  }
  async saveDatabase(db: DatabaseDef): Promise<void> {
    await this.writable();
    this.db.prepare('INSERT OR REPLACE INTO meta_database (name, def) VALUES (?, ?)').run(db.name, JSON.stringify(db));
  }
  async deleteDatabase(name: string): Promise<void> {
    await this.writable();
    this.db.prepare('DELETE FROM meta_database WHERE name = ?').run(name);
  }
  async saveTable(t: TableDef): Promise<void> {
    await this.writable();
    this.db.prepare('INSERT OR REPLACE INTO meta_table (db, name, def) VALUES (?, ?, ?)').run(t.database, t.name, JSON.stringify(t));
  }
  async deleteTable(database: string, name: string): Promise<void> {
    await this.writable();
    this.db.prepare('DELETE FROM meta_table WHERE db = ? AND name = ?').run(database, name);
  }
  async saveAlias(a: AliasDef): Promise<void> {
    await this.writable();
    this.db.prepare('INSERT OR REPLACE INTO meta_alias (db, name, def) VALUES (?, ?, ?)').run(a.database, a.name, JSON.stringify(a));
  }
  async deleteAlias(database: string, name: string): Promise<void> {
    await this.writable();
    this.db.prepare('DELETE FROM meta_alias WHERE db = ? AND name = ?').run(database, name);
  }

  async applyMutations(
    table: string,
    keys: EdgeStorageKey[],
    compute: (before: Map<EdgeStorageKey, EdgeRow>) => KeyWrite[],
    readUnderLocks?: Map<EdgeStorageKey, EdgeRow>,
  ): Promise<number[]> {
    if (this.gate && !this.inUnit) await this.writable();
    table = tablespaceOf(table);
    const clock = this.clock;
    const run = this.db.transaction(() => {
      // This process is the file's only writer, and the caller's key locks kept its other writers of these
      // keys out since it read them: reading them again would find the same rows.
      const writes = compute(readUnderLocks ?? this.rowsOf(table, keys));
      const seqs: number[] = [];
      for (const w of writes) {
        const r = w.row;
        if (r) {
          this.stmt.putRow.run(table, r.key, toJsonText(r.source), toJsonText(r.target), r.id === undefined ? null : toJsonText(r.id), toJsonText(r.state));
          for (const e of w.removeIndex) this.stmt.delIndex.run(table, e.index, e.direction, toJsonText(e.start), e.sortKey, r.key);
          for (const e of w.addIndex) this.stmt.addIndex.run(table, e.index, e.direction, toJsonText(e.start), e.sortKey, r.key);
        }
        for (const c of w.counts) this.stmt.addCount.run(table, c.direction, toJsonText(c.start), c.delta);
        if (w.cdc) {
          const seq = (clock.seq = nextSeq(clock.seq));
          this.stmt.addOutbox.run(seq, w.cdc.kafkaKey, w.cdc.build(seq));
          seqs.push(seq);
        }
      }
      return seqs;
    });
    const before = clock.seq;
    try {
      return run.immediate();
    } catch (err) {
      clock.seq = before; // rolled back: reuse the sequence numbers
      throw err;
    }
  }

  async getRows(table: string, keys: EdgeStorageKey[]): Promise<Map<EdgeStorageKey, EdgeRow>> {
    return this.rowsOf(tablespaceOf(table), keys);
  }

  private rowsOf(table: string, keys: EdgeStorageKey[]): Map<EdgeStorageKey, EdgeRow> {
    const out = new Map<EdgeStorageKey, EdgeRow>();
    if (keys.length === 1) {
      const r = this.stmt.getRow.get(table, keys[0]) as RawRow | undefined;
      if (r) out.set(r.ekey, toRow(r));
      return out;
    }
    for (const r of this.stmt.getRows.all(table, JSON.stringify(keys)) as RawRow[]) out.set(r.ekey, toRow(r));
    return out;
  }

  async scanIndex(scan: IndexScan): Promise<IndexHit[]> {
    const where = ['i.tbl = ?', 'i.idx = ?', 'i.dir = ?', 'i.start = ?'];
    const args: unknown[] = [tablespaceOf(scan.table), scan.index, scan.direction, toJsonText(scan.start)];
    if (scan.lower) {
      where.push('i.sortkey >= ?');
      args.push(scan.lower);
    }
    if (scan.upper) {
      where.push('i.sortkey < ?');
      args.push(scan.upper);
    }
    if (scan.after) {
      where.push('(i.sortkey > ? OR (i.sortkey = ? AND i.ekey > ?))');
      args.push(scan.after.sortKey, scan.after.sortKey, scan.after.key);
    }
    args.push(scan.limit);
    const sql = `SELECT i.sortkey AS sortkey, s.ekey, s.source, s.target, s.eid, s.state FROM edge_index i
         JOIN edge_state s ON s.tbl = i.tbl AND s.ekey = i.ekey
         WHERE ${where.join(' AND ')} ORDER BY i.sortkey, i.ekey LIMIT ?`;
    // Eight shapes at most (lower/upper/after present or not): prepare each once.
    let stmt = this.scanStatements.get(sql);
    if (!stmt) this.scanStatements.set(sql, (stmt = this.db.prepare(sql)));
    const rows = stmt.all(...args) as (RawRow & { sortkey: Buffer })[];
    return rows.map((r) => ({ sortKey: r.sortkey, key: r.ekey, row: toRow(r) }));
  }

  async count(table: string, direction: Direction, start: Endpoint): Promise<number> {
    return this.countOf(tablespaceOf(table), direction, start);
  }

  async counts(table: string, direction: Direction, starts: (Endpoint)[]): Promise<number[]> {
    table = tablespaceOf(table);
    return starts.map((s) => this.countOf(table, direction, s));
  }

  private countOf(table: string, direction: Direction, start: Endpoint): number {
    const r = this.stmt.getCount.get(table, direction, toJsonText(start)) as { n: number } | undefined;
    return r?.n ?? 0;
  }

  async scanRows(table: string, afterKey: EdgeStorageKey | null, limit: number): Promise<EdgeRow[]> {
    table = tablespaceOf(table);
    return (this.stmt.scanRows.all(table, afterKey ?? '', limit) as RawRow[]).map(toRow);
  }

  async tryLeadRelay(): Promise<RelayLease> {
    // One process owns the file: it always leads, and only closing ends that.
    return { lost: new Promise<void>(() => undefined), release: async () => undefined };
  }
  async readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return this.stmt.readOutbox.all(afterSeq, limit) as OutboxRow[];
  }
  async deleteOutbox(uptoSeq: number): Promise<void> {
    await this.writable();
    this.stmt.deleteOutbox.run(uptoSeq);
  }
  async outboxSize(): Promise<number> {
    return (this.stmt.outboxSize.get() as { n: number }).n;
  }
  queues(): QueueStore {
    return this.queueStore;
  }
  async close(): Promise<void> {
    while (this.gate) await this.gate;
    await this.checkpointer?.close();
    this.db.close();
  }
}

