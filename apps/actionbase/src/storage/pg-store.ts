import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { parseJson } from '@pipeline/events';
import type { Direction, Endpoint } from '@pipeline/edge-model';
import type { AliasDef, DatabaseDef, TableDef } from '../catalog/model';
import { SEQ_TICKS_PER_MS, tablespaceOf, toJsonText, toRow, type RawRow } from './edge-store';
import { PgQueueStore } from './pg-queue-store';
import type { QueueStore } from './queue-store';
import type { CatalogSnapshot, EdgeRow, EdgeStorageKey, EdgeStore, IndexHit, IndexRowAdd, IndexScan, KeyWrite, OutboxRow, RelayLease } from './edge-store';

/** Where the schema migrations live (SQL files run by node-pg-migrate at start). */
export const PG_MIGRATIONS_DIR = join(import.meta.dirname, 'pg-migrations');
const MIGRATIONS_TABLE = 'schema_migrations';
/** NOTIFY channel of catalog changes; the payload is the id of the instance that made them. */
const CATALOG_CHANNEL = 'actionbase_catalog';
/** Advisory lock key taken by every catalog change, so instances change the catalog one at a time. */
const CATALOG_LOCK = 4_120_517_311;
/** Advisory lock key held, for as long as it leads, by the one instance that relays the outbox. */
const RELAY_LOCK = 4_120_517_312;
const RELAY_PING_MS = 2_000;

/** The catalog unit (`exclusively`) an async call chain runs in, for `atomically` to join it. */
interface HeldUnit {
  pool: pg.Pool;
  view: PgEdgeStore;
  open: boolean;
}
const heldUnit = new AsyncLocalStorage<HeldUnit>();

/** PostgreSQL's int8 (counts, sequences) as JS numbers: every value this store keeps is below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export interface PgStoreOptions {
  connectionString: string;
  poolSize: number;
  migrationsDir?: string;
}

/**
 * The store on PostgreSQL, for several core instances over one database. One transaction writes a
 * slice's state, index rows, counts and CDC outbox records, as the SQLite store does; what one process
 * got from SQLite for free is made explicit:
 * - per-key serialization across instances: transaction-level advisory locks on a 64-bit hash of
 *   table and key, taken in hash order (two transactions never wait on each other in a cycle);
 * - CDC order per key is commit order: the sequence comes from one clock row updated as the last step
 *   before COMMIT, under the key locks, so sequence order is commit order for every key and globally
 *   (the relay can read the outbox by `seq > last` without skipping a late commit). The row keeps the
 *   hybrid-clock floor of edge-store.ts (`max(previous + 1, now_ms × 2048)`, PostgreSQL's clock);
 * - catalog changes: serialized by an advisory lock and announced by NOTIFY; every instance LISTENs
 *   and reloads its catalog.
 */
export class PgEdgeStore implements EdgeStore {
  readonly kind = 'postgres';
  private open = true;
  private readonly instanceId = randomUUID();
  private readonly listeners: (() => void)[] = [];
  private listener: pg.Client | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly db: Queryable,
    private readonly opts: PgStoreOptions,
    private readonly inUnit: boolean,
  ) {}

  /** Connects, runs the schema migrations (node-pg-migrate, under its advisory lock), and opens the pool. */
  static async open(opts: PgStoreOptions): Promise<PgEdgeStore> {
    const client = new pg.Client({ connectionString: opts.connectionString });
    await client.connect();
    try {
      await runner({
        dbClient: client,
        dir: opts.migrationsDir ?? PG_MIGRATIONS_DIR,
        direction: 'up',
        migrationsTable: MIGRATIONS_TABLE,
        // Several instances may start at once: the later ones wait for the first to migrate.
        advisoryLockMode: 'wait',
        log: () => undefined,
      });
    } finally {
      await client.end();
    }
    const pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.poolSize, types });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => undefined);
    return new PgEdgeStore(pool, pool, opts, false);
  }

  private view(client: pg.PoolClient): PgEdgeStore {
    return new PgEdgeStore(this.pool, client, this.opts, true);
  }

  // ---- catalog -----------------------------------------------------------------------------------

  async loadCatalog(): Promise<CatalogSnapshot> {
    const parse = <T>(rows: { def: string }[]): T[] => rows.map((r) => JSON.parse(r.def) as T);
    const [d, t, a] = await Promise.all([
      this.db.query<{ def: string }>('SELECT def FROM meta_database'),
      this.db.query<{ def: string }>('SELECT def FROM meta_table'),
      this.db.query<{ def: string }>('SELECT def FROM meta_alias'),
    ]);
    return { databases: parse<DatabaseDef>(d.rows), tables: parse<TableDef>(t.rows), aliases: parse<AliasDef>(a.rows) };
  }

  /** A catalog write: inside a unit it joins it (announced at its commit); alone, it is its own unit. */
  private catalogWrite(sql: string, args: unknown[]): Promise<void> {
    return this.atomically(async (tx) => {
      await (tx as PgEdgeStore).db.query(sql, args);
    });
  }

  saveDatabase(d: DatabaseDef): Promise<void> {
    return this.catalogWrite('INSERT INTO meta_database (name, def) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET def = excluded.def', [d.name, JSON.stringify(d)]);
  }
  deleteDatabase(name: string): Promise<void> {
    return this.catalogWrite('DELETE FROM meta_database WHERE name = $1', [name]);
  }
  saveTable(t: TableDef): Promise<void> {
    return this.catalogWrite('INSERT INTO meta_table (db, name, def) VALUES ($1, $2, $3) ON CONFLICT (db, name) DO UPDATE SET def = excluded.def', [
      t.database,
      t.name,
      JSON.stringify(t),
    ]);
  }
  deleteTable(database: string, name: string): Promise<void> {
    return this.catalogWrite('DELETE FROM meta_table WHERE db = $1 AND name = $2', [database, name]);
  }
  saveAlias(a: AliasDef): Promise<void> {
    return this.catalogWrite('INSERT INTO meta_alias (db, name, def) VALUES ($1, $2, $3) ON CONFLICT (db, name) DO UPDATE SET def = excluded.def', [
      a.database,
      a.name,
      JSON.stringify(a),
    ]);
  }
  deleteAlias(database: string, name: string): Promise<void> {
    return this.catalogWrite('DELETE FROM meta_alias WHERE db = $1 AND name = $2', [database, name]);
  }

  async allocateTableId(): Promise<number> {
    const r = await this.db.query<{ value: number }>(
      "INSERT INTO meta_counter (name, value) VALUES ('table', 1) ON CONFLICT (name) DO UPDATE SET value = meta_counter.value + 1 RETURNING value",
    );
    return r.rows[0]!.value;
  }

  async atomically<T>(fn: (tx: EdgeStore) => Promise<T>): Promise<T> {
    if (this.inUnit) return fn(this);
    const held = heldUnit.getStore();
    if (held?.open && held.pool === this.pool) return fn(held.view);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CATALOG_LOCK]);
      const out = await fn(this.view(client));
      // Delivered to the listeners at commit only.
      await client.query('SELECT pg_notify($1, $2)', [CATALOG_CHANNEL, this.instanceId]);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Runs `fn` holding the catalog lock, inside one unit: no other instance changes the catalog until it ends, and
   * every `atomically` of `fn`'s call chain joins the unit (committed, and announced, at its end). What `fn` reads
   * through the pool is what the other instances committed before it.
   */
  async exclusively<T>(fn: () => Promise<T>): Promise<T> {
    const held = heldUnit.getStore();
    if (held?.open && held.pool === this.pool) return fn();
    return this.atomically(async (tx) => {
      const unit: HeldUnit = { pool: this.pool, view: tx as PgEdgeStore, open: true };
      try {
        return await heldUnit.run(unit, fn);
      } finally {
        // Work that fn started and left running (a background purge) carries the context on: it must not join.
        unit.open = false;
      }
    });
  }

  onCatalogChange(listener: () => void): void {
    this.listeners.push(listener);
    if (!this.listener) void this.listen();
  }

  /** One connection LISTENs; when it drops, a new one is opened and the catalog reloaded (changes may have been missed). */
  private async listen(): Promise<void> {
    let retryMs = 100;
    while (this.open) {
      const client = new pg.Client({ connectionString: this.opts.connectionString });
      try {
        await client.connect();
        const lost = new Promise<void>((resolve) => {
          client.on('error', () => resolve());
          client.on('end', () => resolve());
        });
        client.on('notification', (m) => {
          if (m.channel === CATALOG_CHANNEL && m.payload !== this.instanceId) this.changed();
        });
        await client.query(`LISTEN ${CATALOG_CHANNEL}`);
        this.listener = client;
        if (retryMs > 100) this.changed();
        retryMs = 100;
        await lost;
      } catch {
        // retried below
      }
      this.listener = null;
      await client.end().catch(() => undefined);
      if (!this.open) return;
      await new Promise((r) => setTimeout(r, retryMs).unref());
      retryMs = Math.min(retryMs * 2, 5000);
    }
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  // ---- whole tables ------------------------------------------------------------------------------

  async hasRows(table: string): Promise<boolean> {
    const r = await this.db.query('SELECT 1 FROM edge_state WHERE tbl = $1 LIMIT 1', [tablespaceOf(table)]);
    return r.rows.length > 0;
  }

  async countRows(table: string, cap: number): Promise<number> {
    const r = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM (SELECT 1 FROM edge_state WHERE tbl = $1 LIMIT $2) t', [tablespaceOf(table), cap]);
    return r.rows[0]!.n;
  }

  async dropIndex(table: string, index: string): Promise<void> {
    await this.db.query('DELETE FROM edge_index WHERE tbl = $1 AND idx = $2', [tablespaceOf(table), index]);
  }

  async addIndexRows(table: string, rows: IndexRowAdd[]): Promise<void> {
    if (rows.length === 0) return;
    const tbl = tablespaceOf(table);
    await this.db.query(
      `INSERT INTO edge_index (dkey, tbl, idx, dir, sortkey, ekey, sdkey)
       SELECT d, $1, i, r, s, k, sd FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[], $7::text[]) AS t(d, i, r, s, k, sd)
       ON CONFLICT DO NOTHING`,
      [tbl, rows.map((e) => toJsonText(e.start)), rows.map((e) => e.index), rows.map((e) => e.direction), rows.map((e) => e.sortKey), rows.map((e) => e.key), rows.map((e) => dkeyOf(e.key))],
    );
  }

  async schedulePurge(table: string): Promise<void> {
    await this.db.query('INSERT INTO purge_queue (tbl) VALUES ($1) ON CONFLICT DO NOTHING', [tablespaceOf(table)]);
  }

  async pendingPurges(): Promise<string[]> {
    return (await this.db.query<{ tbl: string }>('SELECT tbl FROM purge_queue ORDER BY tbl')).rows.map((r) => r.tbl);
  }

  async purgeSome(table: string, limit: number): Promise<number> {
    const tbl = tablespaceOf(table);
    let n = 0;
    for (const t of ['edge_index', 'edge_count', 'edge_state', 'queue_message']) {
      if (n >= limit) break;
      const r = await this.db.query(`DELETE FROM ${t} WHERE ctid IN (SELECT ctid FROM ${t} WHERE tbl = $1 LIMIT $2)`, [tbl, limit - n]);
      n += r.rowCount ?? 0;
    }
    if (n === 0) await this.db.query('DELETE FROM purge_queue WHERE tbl = $1', [tbl]);
    return n;
  }

  isOpen(): boolean {
    return this.open;
  }

  // ---- mutations ---------------------------------------------------------------------------------

  async applyMutations(table: string, keys: EdgeStorageKey[], compute: (before: Map<EdgeStorageKey, EdgeRow>) => KeyWrite[]): Promise<number[]> {
    const tbl = tablespaceOf(table);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Other instances' writers of these keys wait here until this transaction ends.
      const locks = [...new Set(keys.map((k) => lockIdOf(tbl, k)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      // unnest yields the array's order and nothing sorts after it: the locks are taken in hash order.
      await client.query('SELECT pg_advisory_xact_lock(h) FROM unnest($1::bigint[]) AS h', [locks.map(String)]);
      const writes = compute(await rowsOf(client, tbl, keys));

      const rows = writes.flatMap((w) => (w.row ? [w.row] : []));
      if (rows.length)
        await client.query(
          `INSERT INTO edge_state (dkey, tbl, ekey, source, target, eid, state)
           SELECT d, $1, k, s, t, i, st FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(d, k, s, t, i, st)
           ON CONFLICT (dkey, tbl, ekey) DO UPDATE SET source = excluded.source, target = excluded.target, eid = excluded.eid, state = excluded.state`,
          [
            tbl,
            rows.map((r) => dkeyOf(r.key)),
            rows.map((r) => r.key),
            rows.map((r) => toJsonText(r.source)),
            rows.map((r) => toJsonText(r.target)),
            rows.map((r) => (r.id === undefined ? null : toJsonText(r.id))),
            rows.map((r) => toJsonText(r.state)),
          ],
        );
      const removed = writes.flatMap((w) => (w.row ? w.removeIndex.map((e) => ({ ...e, key: w.row!.key })) : []));
      if (removed.length)
        await client.query(
          `DELETE FROM edge_index e USING unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[]) AS u(d, i, r, s, k)
           WHERE e.dkey = u.d AND e.tbl = $1 AND e.idx = u.i AND e.dir = u.r AND e.sortkey = u.s AND e.ekey = u.k`,
          [tbl, removed.map((e) => toJsonText(e.start)), removed.map((e) => e.index), removed.map((e) => e.direction), removed.map((e) => e.sortKey), removed.map((e) => e.key)],
        );
      const added = writes.flatMap((w) => (w.row ? w.addIndex.map((e) => ({ ...e, key: w.row!.key })) : []));
      await this.view(client).addIndexRows(tbl, added);

      // Summed per row and written in key order: two transactions sharing count rows lock them in one order.
      const deltas = new Map<string, { dkey: string; dir: Direction; n: number }>();
      for (const w of writes)
        for (const c of w.counts) {
          const dkey = toJsonText(c.start);
          const id = `${c.direction}\u0000${dkey}`;
          const d = deltas.get(id);
          if (d) d.n += c.delta;
          else deltas.set(id, { dkey, dir: c.direction, n: c.delta });
        }
      const counts = [...deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
      if (counts.length)
        await client.query(
          `INSERT INTO edge_count (dkey, tbl, dir, n)
           SELECT d, $1, r, n FROM unnest($2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(d, r, n, o) ORDER BY o
           ON CONFLICT (dkey, tbl, dir) DO UPDATE SET n = edge_count.n + excluded.n`,
          [tbl, counts.map((c) => c.dkey), counts.map((c) => c.dir), counts.map((c) => c.n)],
        );

      const cdc = writes.flatMap((w) => (w.cdc ? [w.cdc] : []));
      const seqs: number[] = [];
      if (cdc.length) {
        // Last before COMMIT: the clock row stays locked only for the outbox insert and the commit.
        const r = await client.query<{ seq: number }>(
          `UPDATE cdc_clock SET seq = GREATEST(seq + $1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint * ${SEQ_TICKS_PER_MS} + $1 - 1)
           WHERE id = 1 RETURNING seq`,
          [cdc.length],
        );
        const last = r.rows[0]!.seq;
        for (let i = 0; i < cdc.length; i++) seqs.push(last - cdc.length + 1 + i);
        await client.query('INSERT INTO outbox (seq, key, value) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])', [
          seqs,
          cdc.map((c) => c.kafkaKey),
          cdc.map((c, i) => c.build(seqs[i]!)),
        ]);
      }
      await client.query('COMMIT');
      return seqs;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  // ---- reads -------------------------------------------------------------------------------------

  getRows(table: string, keys: EdgeStorageKey[]): Promise<Map<EdgeStorageKey, EdgeRow>> {
    return rowsOf(this.db, tablespaceOf(table), keys);
  }

  async scanIndex(scan: IndexScan): Promise<IndexHit[]> {
    const tbl = tablespaceOf(scan.table);
    const where = ['i.dkey = $1', 'i.tbl = $2', 'i.idx = $3', 'i.dir = $4'];
    const args: unknown[] = [toJsonText(scan.start), tbl, scan.index, scan.direction];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (scan.lower) where.push(`i.sortkey >= ${arg(scan.lower)}`);
    if (scan.upper) where.push(`i.sortkey < ${arg(scan.upper)}`);
    if (scan.after) where.push(`(i.sortkey, i.ekey) > (${arg(scan.after.sortKey)}, ${arg(scan.after.key)})`);
    // One statement, one snapshot: the index rows and the states they point at agree.
    const sql = `WITH i AS (SELECT i.sortkey, i.ekey, i.sdkey FROM edge_index i WHERE ${where.join(' AND ')} ORDER BY i.sortkey, i.ekey LIMIT ${arg(scan.limit)})
      SELECT i.sortkey, s.ekey, s.source, s.target, s.eid, s.state FROM i JOIN edge_state s ON s.dkey = i.sdkey AND s.tbl = $2 AND s.ekey = i.ekey
      ORDER BY i.sortkey, i.ekey`;
    const r = await this.db.query<RawRow & { sortkey: Buffer }>(sql, args);
    return r.rows.map((x) => ({ sortKey: x.sortkey, key: x.ekey, row: toRow(x) }));
  }

  async count(table: string, direction: Direction, start: Endpoint): Promise<number> {
    return (await this.counts(table, direction, [start]))[0]!;
  }

  async counts(table: string, direction: Direction, starts: (Endpoint)[]): Promise<number[]> {
    if (starts.length === 0) return [];
    const dkeys = starts.map((s) => toJsonText(s));
    const r = await this.db.query<{ dkey: string; n: number }>('SELECT dkey, n FROM edge_count WHERE dkey = ANY($1::text[]) AND tbl = $2 AND dir = $3', [
      dkeys,
      tablespaceOf(table),
      direction,
    ]);
    const found = new Map(r.rows.map((x) => [x.dkey, x.n]));
    return dkeys.map((d) => found.get(d) ?? 0);
  }

  async scanRows(table: string, afterKey: EdgeStorageKey | null, limit: number): Promise<EdgeRow[]> {
    const r = await this.db.query<RawRow>('SELECT ekey, source, target, eid, state FROM edge_state WHERE tbl = $1 AND ekey > $2 ORDER BY ekey LIMIT $3', [
      tablespaceOf(table),
      afterKey ?? '',
      limit,
    ]);
    return r.rows.map(toRow);
  }

  // ---- outbox ------------------------------------------------------------------------------------

  /**
   * A session-level advisory lock on a connection of its own: PostgreSQL releases it when that session
   * ends, so a killed leader's lock is free as soon as its connection is gone. The connection is pinged,
   * so a leader cut off without a FIN learns it within seconds and stops relaying.
   */
  async tryLeadRelay(): Promise<RelayLease | null> {
    const client = new pg.Client({ connectionString: this.opts.connectionString, keepAlive: true, query_timeout: RELAY_PING_MS * 2 });
    let lose!: () => void;
    const lost = new Promise<void>((r) => (lose = r));
    client.on('error', () => lose());
    client.on('end', () => lose());
    try {
      await client.connect();
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [RELAY_LOCK]);
      if (!r.rows[0]!.ok) {
        await client.end();
        return null;
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    const ping = setInterval(() => void client.query('SELECT 1').catch(() => lose()), RELAY_PING_MS);
    ping.unref();
    void lost.then(() => {
      clearInterval(ping);
      return client.end().catch(() => undefined);
    });
    return {
      lost,
      release: async () => {
        clearInterval(ping);
        await client.end().catch(() => undefined);
      },
    };
  }

  async readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]> {
    return (await this.db.query<OutboxRow>('SELECT seq, key, value FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit])).rows;
  }
  async deleteOutbox(uptoSeq: number): Promise<void> {
    await this.db.query('DELETE FROM outbox WHERE seq <= $1', [uptoSeq]);
  }
  async outboxSize(): Promise<number> {
    return (await this.db.query<{ n: number }>('SELECT count(*) AS n FROM outbox')).rows[0]!.n;
  }

  queues(): QueueStore {
    return new PgQueueStore(this.pool);
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

/**
 * The distribution value of an edge row: its source for a unique edge (storage key `[source,target]`),
 * its id for a multi-edge (whose endpoints may move on UPDATE, while the id stays).
 */
export function dkeyOf(key: EdgeStorageKey): string {
  if (!key.startsWith('[')) return key;
  const k = parseJson(key) as unknown[];
  return toJsonText(k[0]);
}

/** A 64-bit advisory lock id for one key of one table (a collision only makes two keys share a lock). */
function lockIdOf(tbl: string, key: EdgeStorageKey): bigint {
  return createHash('sha1').update(tbl).update('\u0000').update(key).digest().readBigInt64BE(0);
}

async function rowsOf(db: Queryable, tbl: string, keys: EdgeStorageKey[]): Promise<Map<EdgeStorageKey, EdgeRow>> {
  const out = new Map<EdgeStorageKey, EdgeRow>();
  if (keys.length === 0) return out;
  const r = await db.query<RawRow>(
    `SELECT s.ekey, s.source, s.target, s.eid, s.state FROM unnest($2::text[], $3::text[]) AS k(d, e)
     JOIN edge_state s ON s.dkey = k.d AND s.tbl = $1 AND s.ekey = k.e`,
    [tbl, keys.map(dkeyOf), keys],
  );
  for (const row of r.rows) out.set(row.ekey, toRow(row));
  return out;
}

