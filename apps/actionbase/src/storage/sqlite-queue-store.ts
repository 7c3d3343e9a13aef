import type Database from 'better-sqlite3';
import { seqOf, type QueueDef, type QueueMessage, type QueueStore, type Seq } from './queue-store';

/**
 * queue/v1 on the embedded SQLite store, on its one connection: every write first waits for an open
 * `atomically` unit of the edge store to end (`writable`), as the edge store's own writes do.
 */
export class SqliteQueueStore implements QueueStore {
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly writable: () => Promise<void>,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta_queue (ns TEXT NOT NULL, name TEXT NOT NULL, def TEXT NOT NULL, PRIMARY KEY (ns, name));
      CREATE TABLE IF NOT EXISTS queue_message (
        tbl TEXT NOT NULL, part INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (tbl, part, seq, id)) WITHOUT ROWID;
    `);
    this.stmt = {
      get: db.prepare('SELECT def FROM meta_queue WHERE ns = ? AND name = ?'),
      list: db.prepare('SELECT def FROM meta_queue WHERE ns = ? ORDER BY name'),
      insert: db.prepare('INSERT INTO meta_queue (ns, name, def) VALUES (?, ?, ?) ON CONFLICT (ns, name) DO NOTHING'),
      update: db.prepare('UPDATE meta_queue SET def = ? WHERE ns = ? AND name = ?'),
      remove: db.prepare('DELETE FROM meta_queue WHERE ns = ? AND name = ?'),
      purge: db.prepare('INSERT OR IGNORE INTO purge_queue (tbl) VALUES (?)'),
      put: db.prepare('INSERT INTO queue_message (tbl, part, seq, id, value) VALUES (?, ?, ?, ?, ?)'),
      // seq as text: a 64-bit value comes back exactly whatever its size.
      pollAfter: db.prepare(
        `SELECT part, CAST(seq AS TEXT) AS seq, id, value FROM queue_message
         WHERE tbl = ? AND part = ? AND seq > ? AND seq <= ? ORDER BY seq, id LIMIT ?`,
      ),
      pollFrom: db.prepare(
        `SELECT part, CAST(seq AS TEXT) AS seq, id, value FROM queue_message
         WHERE tbl = ? AND part = ? AND seq >= ? AND seq <= ? ORDER BY seq, id LIMIT ?`,
      ),
      countUpTo: db.prepare('SELECT count(*) AS n FROM (SELECT 1 FROM queue_message WHERE tbl = ? AND part = ? AND seq <= ? LIMIT ?)'),
      commit: db.prepare('DELETE FROM queue_message WHERE tbl = ? AND part = ? AND seq <= ?'),
    };
  }

  async getQueue(namespace: string, name: string): Promise<QueueDef | undefined> {
    const r = this.stmt.get.get(namespace, name) as { def: string } | undefined;
    return r ? (JSON.parse(r.def) as QueueDef) : undefined;
  }

  async listQueues(namespace: string): Promise<QueueDef[]> {
    return (this.stmt.list.all(namespace) as { def: string }[]).map((r) => JSON.parse(r.def) as QueueDef);
  }

  async createQueue(def: QueueDef): Promise<boolean> {
    await this.writable();
    return this.stmt.insert.run(def.namespace, def.name, JSON.stringify(def)).changes === 1;
  }

  async updateQueue(def: QueueDef): Promise<void> {
    await this.writable();
    this.stmt.update.run(JSON.stringify(def), def.namespace, def.name);
  }

  async deleteQueue(def: QueueDef): Promise<void> {
    await this.writable();
    this.db.transaction(() => {
      this.stmt.remove.run(def.namespace, def.name);
      this.stmt.purge.run(String(def.qid));
    })();
  }

  async enqueue(qid: number, messages: QueueMessage[]): Promise<void> {
    await this.writable();
    const tbl = String(qid);
    this.db.transaction(() => {
      for (const m of messages) this.stmt.put.run(tbl, m.partition, BigInt(m.seq), m.id, m.value);
    })();
  }

  async poll(qid: number, partition: number, after: Seq | null, until: Seq | null, limit: number): Promise<QueueMessage[]> {
    const stmt = after === null ? this.stmt.pollFrom : this.stmt.pollAfter;
    const rows = stmt.all(String(qid), partition, after === null ? MIN_SEQ : BigInt(after), until === null ? MAX_SEQ : BigInt(until), limit) as {
      part: number;
      seq: string;
      id: string;
      value: string;
    }[];
    return rows.map((r) => ({ partition: r.part, id: r.id, seq: seqOf(r.seq), value: r.value }));
  }

  async commit(qid: number, partition: number, upto: Seq, cap: number): Promise<number | null> {
    await this.writable();
    const tbl = String(qid);
    // Counted first (cap+1 rows at most), in the same synchronous transaction as the delete.
    return this.db.transaction(() => {
      const n = (this.stmt.countUpTo.get(tbl, partition, BigInt(upto), cap + 1) as { n: number }).n;
      return n > cap ? null : this.stmt.commit.run(tbl, partition, BigInt(upto)).changes;
    }).immediate();
  }
}

/** Below and above every 64-bit seq: the open ends of a poll's range. */
const MIN_SEQ = -(2n ** 63n);
const MAX_SEQ = 2n ** 63n - 1n;
