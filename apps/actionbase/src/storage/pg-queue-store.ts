import type pg from 'pg';
import { seqOf, type QueueDef, type QueueMessage, type QueueStore, type Seq } from './queue-store';

/**
 * queue/v1 on PostgreSQL. Every operation is one statement, so instances sharing the database need no
 * coordination: enqueue is an insert of fresh ULID keys, poll a range read, commit one bounded delete.
 * `seq` travels as text both ways, so 64-bit values stay exact (the pool parses int8 as JS numbers).
 */
export class PgQueueStore implements QueueStore {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async getQueue(namespace: string, name: string): Promise<QueueDef | undefined> {
    const r = await this.db.query<{ def: string }>('SELECT def FROM meta_queue WHERE ns = $1 AND name = $2', [namespace, name]);
    return r.rows[0] ? (JSON.parse(r.rows[0].def) as QueueDef) : undefined;
  }

  async listQueues(namespace: string): Promise<QueueDef[]> {
    const r = await this.db.query<{ def: string }>('SELECT def FROM meta_queue WHERE ns = $1 ORDER BY name', [namespace]);
    return r.rows.map((x) => JSON.parse(x.def) as QueueDef);
  }

  async createQueue(def: QueueDef): Promise<boolean> {
    const r = await this.db.query('INSERT INTO meta_queue (ns, name, def) VALUES ($1, $2, $3) ON CONFLICT (ns, name) DO NOTHING', [
      def.namespace,
      def.name,
      JSON.stringify(def),
    ]);
    return r.rowCount === 1;
  }

  async updateQueue(def: QueueDef): Promise<void> {
    await this.db.query('UPDATE meta_queue SET def = $1 WHERE ns = $2 AND name = $3', [JSON.stringify(def), def.namespace, def.name]);
  }

  async deleteQueue(def: QueueDef): Promise<void> {
    // One statement: the definition goes and its messages are queued for the purge, or neither.
    await this.db.query(
      `WITH gone AS (DELETE FROM meta_queue WHERE ns = $1 AND name = $2 RETURNING 1)
       INSERT INTO purge_queue (tbl) SELECT $3 FROM gone ON CONFLICT DO NOTHING`,
      [def.namespace, def.name, String(def.qid)],
    );
  }

  async enqueue(qid: number, messages: QueueMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.db.query(
      `INSERT INTO queue_message (tbl, part, seq, id, value)
       SELECT $1, p, s, i, v FROM unnest($2::int[], $3::bigint[], $4::text[], $5::text[]) AS m(p, s, i, v)`,
      [String(qid), messages.map((m) => m.partition), messages.map((m) => String(m.seq)), messages.map((m) => m.id), messages.map((m) => m.value)],
    );
  }

  async poll(qid: number, partition: number, after: Seq | null, until: Seq | null, limit: number): Promise<QueueMessage[]> {
    const where = ['tbl = $1', 'part = $2'];
    const args: unknown[] = [String(qid), partition];
    if (after !== null) {
      args.push(String(after));
      where.push(`seq > $${args.length}::bigint`);
    }
    if (until !== null) {
      args.push(String(until));
      where.push(`seq <= $${args.length}::bigint`);
    }
    args.push(limit);
    const r = await this.db.query<{ part: number; seq: string; id: string; value: string }>(
      `SELECT part, seq::text AS seq, id, value FROM queue_message WHERE ${where.join(' AND ')} ORDER BY seq, id LIMIT $${args.length}`,
      args,
    );
    return r.rows.map((m) => ({ partition: m.part, id: m.id, seq: seqOf(m.seq), value: m.value }));
  }

  async commit(qid: number, partition: number, upto: Seq, cap: number): Promise<number | null> {
    // One statement: the count looks at cap+1 rows at most, and it gates the delete as a one-time
    // condition, so with more than cap matching nothing is deleted or even visited.
    const r = await this.db.query<{ matched: string; deleted: string }>(
      `WITH n AS (SELECT count(*) AS c FROM (SELECT 1 FROM queue_message WHERE tbl = $1 AND part = $2 AND seq <= $3::bigint LIMIT $4 + 1) AS x),
       del AS (DELETE FROM queue_message WHERE tbl = $1 AND part = $2 AND seq <= $3::bigint AND (SELECT c FROM n) <= $4 RETURNING 1)
       SELECT (SELECT c FROM n)::text AS matched, (SELECT count(*) FROM del)::text AS deleted`,
      [String(qid), partition, String(upto), cap],
    );
    const row = r.rows[0]!;
    return Number(row.matched) > cap ? null : Number(row.deleted);
  }
}
