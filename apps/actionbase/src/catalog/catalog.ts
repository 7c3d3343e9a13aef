import { deepEqual, indexEntriesOf, type EdgeKey, type TableShape, type TransitionSchema } from '@pipeline/edge-model';
import { bucketOf } from '../engine/buckets';
import { ApiError, badRequest, notFound } from '../errors';
import { tableHandle, type EdgeStore, type IndexRowAdd } from '../storage/edge-store';
import { encodeSortKey } from '@pipeline/edge-model';
import { qualified, type AliasDef, type Audit, type DatabaseDef, type FieldDef, type TableDef } from './model';
import { checkName } from './names';
import type { SchemaPart } from './schema-bodies';

/** A table resolved for a request, with what the engine derives from its definition once. */
export interface ResolvedTable {
  def: TableDef;
  /**
   * The store's handle of the table, `db.table#<tablespace>` (see edge-store.ts, tableHandle): rows are
   * keyed by the catalog-assigned tablespace number, never by the names.
   */
  id: string;
  /** `db.table`, for messages. WAL/CDC context carries `def.database` and `def.name`. */
  name: string;
  /** The alias the request used, if any. */
  alias: string | null;
  shape: TableShape;
  fieldsByName: Map<string, FieldDef>;
}

export type MetadataStatus = 'ACTIVE' | 'INACTIVE' | 'ALL';
const matches = (status: MetadataStatus, active: boolean) => status === 'ALL' || (status === 'ACTIVE') === active;

/** What a table update may change; absent parts stay as they are (partial PUT). */
export interface TablePatch {
  active?: boolean;
  schema?: SchemaPart;
  mode?: TableDef['mode'];
  comment?: string;
  storage?: string;
  readOnly?: boolean;
  event?: boolean;
}

export type TableSpec = SchemaPart & Pick<TableDef, 'mode' | 'comment' | 'storage' | 'readOnly' | 'event'> & { active?: boolean };

/**
 * Rows an index may be built from inside one PUT. The build runs in one transaction, so reads never see
 * a half-built index; past this many rows the PUT is refused rather than stall every other request.
 */
export const ONLINE_INDEX_BUILD_LIMIT = 100_000;
/** Rows removed per slice when a deleted table's data is purged in the background. */
const PURGE_SLICE = 2_000;

const exists = (what: string) => new ApiError(409, 'CONFLICT', `${what} already exists`);
const refused = (field: string, message: string) => badRequest(field, message);

/**
 * Databases, tables and aliases, kept in memory and written through to the store.
 * Multi-edges keep their endpoints in the implicit non-nullable properties `_source`/`_target`
 * (docs/model.md, "Edges").
 *
 * Every name is checked against Actionbase's rule where it enters (path or body), and storage never sees
 * a name: each table owns a tablespace number, so a deleted table's rows are unreachable at once (and
 * purged in the background), and a table created again under the same name starts empty.
 */
export class Catalog {
  private readonly databases = new Map<string, DatabaseDef>();
  private readonly tables = new Map<string, TableDef>();
  private readonly aliases = new Map<string, AliasDef>();
  private readonly resolved = new Map<string, ResolvedTable>();
  private purging = false;
  private loads = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EdgeStore,
    readonly tenant = 'default',
    private readonly now: () => number = Date.now,
  ) {}

  /** A catalog loaded from the store, following changes other instances make to it. */
  static async open(store: EdgeStore, tenant = 'default', now: () => number = Date.now): Promise<Catalog> {
    const c = new Catalog(store, tenant, now);
    await c.reload();
    // Queued with this instance's own changes: a reload read before one of them commits must not
    // replace the maps after it updated them.
    store.onCatalogChange(() => void c.exclusive(() => c.reload(), false).catch(() => undefined));
    c.purgeInBackground();
    return c;
  }

  /**
   * Replaces the in-memory catalog with the stored one. Called at start and whenever another instance
   * sharing the store changed it; the maps are swapped in one step, so a request sees the old or the new.
   */
  async reload(): Promise<void> {
    const seq = ++this.loads;
    const snap = await this.store.loadCatalog();
    if (seq !== this.loads) return; // a later reload is on its way and will see at least as much
    this.databases.clear();
    this.tables.clear();
    this.aliases.clear();
    for (const d of snap.databases) this.databases.set(d.name, d);
    for (const t of snap.tables) this.tables.set(qualified(t.database, t.name), t);
    for (const a of snap.aliases) this.aliases.set(qualified(a.database, a.name), a);
    this.resolved.clear();
  }

  /**
   * Catalog changes run one at a time: each checks the maps, awaits the store, then updates the maps,
   * and two interleaved changes would both pass the checks. On a store other instances share, a change
   * also holds the store's catalog lock (`exclusively`) and checks against the stored catalog, reloaded
   * under it, not against what this instance last heard (a NOTIFY may still be on its way): two
   * instances creating one name at once get one success and one conflict.
   */
  private exclusive<T>(fn: () => Promise<T>, reloadFirst = this.store.kind !== 'sqlite'): Promise<T> {
    const step = () =>
      reloadFirst
        ? this.store.exclusively(async () => {
            await this.reload();
            return fn();
          })
        : fn();
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` as a catalog change (see `exclusive`): for what shares the catalog's names, as queues do. */
  change<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(fn);
  }

  createDatabase(...args: Parameters<Catalog['createDatabaseNow']>): ReturnType<Catalog['createDatabaseNow']> {
    return this.exclusive(() => this.createDatabaseNow(...args)) as ReturnType<Catalog['createDatabaseNow']>;
  }
  updateDatabase(...args: Parameters<Catalog['updateDatabaseNow']>): ReturnType<Catalog['updateDatabaseNow']> {
    return this.exclusive(() => this.updateDatabaseNow(...args)) as ReturnType<Catalog['updateDatabaseNow']>;
  }
  deleteDatabase(...args: Parameters<Catalog['deleteDatabaseNow']>): ReturnType<Catalog['deleteDatabaseNow']> {
    return this.exclusive(() => this.deleteDatabaseNow(...args)) as ReturnType<Catalog['deleteDatabaseNow']>;
  }
  createTable(...args: Parameters<Catalog['createTableNow']>): ReturnType<Catalog['createTableNow']> {
    return this.exclusive(() => this.createTableNow(...args)) as ReturnType<Catalog['createTableNow']>;
  }
  updateTable(...args: Parameters<Catalog['updateTableNow']>): ReturnType<Catalog['updateTableNow']> {
    return this.exclusive(() => this.updateTableNow(...args)) as ReturnType<Catalog['updateTableNow']>;
  }
  deleteTable(...args: Parameters<Catalog['deleteTableNow']>): ReturnType<Catalog['deleteTableNow']> {
    return this.exclusive(() => this.deleteTableNow(...args)) as ReturnType<Catalog['deleteTableNow']>;
  }
  createAlias(...args: Parameters<Catalog['createAliasNow']>): ReturnType<Catalog['createAliasNow']> {
    return this.exclusive(() => this.createAliasNow(...args)) as ReturnType<Catalog['createAliasNow']>;
  }
  updateAlias(...args: Parameters<Catalog['updateAliasNow']>): ReturnType<Catalog['updateAliasNow']> {
    return this.exclusive(() => this.updateAliasNow(...args)) as ReturnType<Catalog['updateAliasNow']>;
  }
  deleteAlias(...args: Parameters<Catalog['deleteAliasNow']>): ReturnType<Catalog['deleteAliasNow']> {
    return this.exclusive(() => this.deleteAliasNow(...args)) as ReturnType<Catalog['deleteAliasNow']>;
  }

  private audit(prev: Audit | undefined, actor: string): Audit {
    const at = this.now();
    return prev
      ? { ...prev, revision: prev.revision + 1, updatedAt: at, updatedBy: actor }
      : { revision: 1, createdAt: at, createdBy: actor, updatedAt: at, updatedBy: actor };
  }

  // ---- databases ---------------------------------------------------------------------------------

  listDatabases(status: MetadataStatus = 'ALL'): DatabaseDef[] {
    return [...this.databases.values()].filter((d) => matches(status, d.active));
  }
  getDatabase(name: string): DatabaseDef {
    const d = this.databases.get(checkName(name, 'database'));
    if (!d) throw notFound(`database ${name}`);
    return d;
  }
  hasDatabase(name: string): boolean {
    return this.databases.has(name);
  }
  private async createDatabaseNow(name: string, p: { comment: string; active?: boolean }, actor: string): Promise<DatabaseDef> {
    checkName(name, 'database');
    if (this.databases.has(name)) throw exists(`database ${name}`);
    const d: DatabaseDef = { name, comment: p.comment, active: p.active ?? true, audit: this.audit(undefined, actor) };
    await this.store.saveDatabase(d);
    this.databases.set(name, d);
    this.resolved.clear();
    return d;
  }
  private async updateDatabaseNow(name: string, p: { active?: boolean | undefined; comment?: string | undefined }, actor: string): Promise<DatabaseDef> {
    const prev = this.getDatabase(name);
    if (p.active === false && prev.active) {
      const live = this.listTables(name, 'ACTIVE').map((t) => t.name);
      if (live.length) throw refused('active', `database ${name} cannot be deactivated: its tables ${live.join(', ')} are active; deactivate them first`);
    }
    const d: DatabaseDef = { ...prev, ...(p.active !== undefined ? { active: p.active } : {}), ...(p.comment !== undefined ? { comment: p.comment } : {}), audit: this.audit(prev.audit, actor) };
    await this.store.saveDatabase(d);
    this.databases.set(name, d);
    this.resolved.clear();
    return d;
  }
  /**
   * Deletes a deactivated database with its tables and aliases (their data is fenced at once and
   * purged in the background). Returns false when there was nothing to delete (Actionbase answers 204).
   */
  private async deleteDatabaseNow(name: string): Promise<boolean> {
    checkName(name, 'database');
    const d = this.databases.get(name);
    if (!d) return false;
    if (d.active) throw refused('database', `database ${name} is active; deactivate it first (PUT {"active": false})`);
    // A table can be reactivated inside an inactive database; it is never deleted while active.
    const live = this.listTables(name, 'ACTIVE').map((t) => t.name);
    if (live.length) throw refused('database', `database ${name} still has active tables ${live.join(', ')}; deactivate them first`);
    // Queues are tables of their namespace in Actionbase: an enabled one keeps the database, disabled ones go with it.
    const queues = await this.store.queues().listQueues(name);
    const enabled = queues.filter((q) => q.active).map((q) => q.name);
    if (enabled.length) throw refused('database', `database ${name} still has enabled queues ${enabled.join(', ')}; disable them first (PUT /queue/v1/namespaces/${name}/queues/{queue}/disable)`);
    for (const q of queues) await this.store.queues().deleteQueue(q);
    await this.store.atomically(async (tx) => {
      for (const a of this.listAliases(name)) await tx.deleteAlias(name, a.name);
      for (const t of this.listTables(name)) await this.dropTable(tx, t);
      await tx.deleteDatabase(name);
    });
    for (const a of this.listAliases(name)) this.aliases.delete(qualified(name, a.name));
    for (const t of this.listTables(name)) this.tables.delete(qualified(name, t.name));
    this.databases.delete(name);
    this.resolved.clear();
    this.purgeInBackground();
    return true;
  }

  // ---- tables ------------------------------------------------------------------------------------

  /** Tables in creation order (so that a copy made from the list assigns tablespaces in the same order). */
  listTables(database: string, status: MetadataStatus = 'ALL'): TableDef[] {
    return [...this.tables.values()].filter((t) => t.database === database && matches(status, t.active)).sort((a, b) => a.tid - b.tid);
  }
  getTable(database: string, name: string): TableDef {
    checkName(database, 'database');
    const t = this.tables.get(qualified(database, checkName(name, 'table')));
    if (!t) throw notFound(`table ${qualified(database, name)}`);
    return t;
  }
  private async createTableNow(database: string, name: string, spec: TableSpec, actor: string): Promise<TableDef> {
    checkName(database, 'database');
    checkName(name, 'table');
    const db = this.databases.get(database);
    if (!db) throw refused('database', `database ${database} does not exist; create it first`);
    if (!db.active) throw refused('database', `database ${database} is inactive; reactivate it first`);
    const id = qualified(database, name);
    if (this.tables.has(id)) throw exists(`table ${id}`);
    if (this.aliases.has(id)) throw exists(`alias ${id} (a table and an alias cannot share a name)`);
    if (await this.store.queues().getQueue(database, name)) throw exists(`queue ${id} (a queue is a table of its namespace)`);
    const { active, ...rest } = spec;
    const t: TableDef = { ...rest, tid: 0, database, name, active: active ?? true, audit: this.audit(undefined, actor) };
    validateTable(t);
    await this.store.atomically(async (tx) => {
      t.tid = await tx.allocateTableId();
      await tx.saveTable(t);
    });
    this.tables.set(id, t);
    this.resolved.clear();
    return t;
  }
  private async updateTableNow(database: string, name: string, patch: TablePatch, actor: string): Promise<TableDef> {
    const prev = this.getTable(database, name);
    const id = qualified(database, name);
    if (patch.active === false && prev.active) {
      const users = this.listAliases(database, 'ACTIVE').filter((a) => a.table === name);
      if (users.length) throw refused('active', `table ${id} cannot be deactivated: alias ${users[0]!.name} points at it; deactivate the alias first`);
    }
    const next: TableDef = {
      ...prev,
      ...(patch.schema ?? {}),
      ...(patch.active !== undefined ? { active: patch.active } : {}),
      ...(patch.mode !== undefined ? { mode: patch.mode } : {}),
      ...(patch.comment !== undefined ? { comment: patch.comment } : {}),
      ...(patch.storage !== undefined ? { storage: patch.storage } : {}),
      ...(patch.readOnly !== undefined ? { readOnly: patch.readOnly } : {}),
      ...(patch.event !== undefined ? { event: patch.event } : {}),
      audit: this.audit(prev.audit, actor),
    };
    if (!patch.schema) {
      await this.store.saveTable(next);
    } else {
      validateTable(next);
      await this.store.atomically(async (tx) => {
        await this.applySchemaChange(tx, prev, next);
        await tx.saveTable(next);
      });
    }
    this.tables.set(id, next);
    this.resolved.clear();
    return next;
  }
  /** Deletes a deactivated table: its rows are unreachable at once and purged in the background. */
  private async deleteTableNow(database: string, name: string): Promise<boolean> {
    checkName(database, 'database');
    checkName(name, 'table');
    const id = qualified(database, name);
    const t = this.tables.get(id);
    if (!t) return false;
    if (t.active) throw refused('table', `table ${id} is active; deactivate it first (PUT {"active": false})`);
    const users = this.listAliases(database).filter((a) => a.table === name);
    if (users.length) throw refused('table', `table ${id} is the target of alias ${users[0]!.name}; delete the alias first`);
    await this.store.atomically((tx) => this.dropTable(tx, t));
    this.tables.delete(id);
    this.resolved.clear();
    this.purgeInBackground();
    return true;
  }
  private async dropTable(tx: EdgeStore, t: TableDef): Promise<void> {
    await tx.deleteTable(t.database, t.name);
    await tx.schedulePurge(String(t.tid));
  }

  /**
   * Checks a schema change against the rows the table holds, and rebuilds the indexes it changes.
   * A change that would make stored rows answer wrongly is refused with the field that would break.
   */
  private async applySchemaChange(tx: EdgeStore, prev: TableDef, next: TableDef): Promise<void> {
    if (prev.kind !== next.kind) throw refused('schema.type', `table ${qualified(prev.database, prev.name)} is ${prev.kind}; a table cannot change between EDGE and MULTI_EDGE (create a new table)`);
    next.fields.forEach((f, i) => {
      const old = prev.fields.find((o) => o.name === f.name);
      if (!f.nullable && (!old || old.nullable))
        throw refused(`schema.properties[${i}].nullable`, `only optional (nullable) properties can be added; ${f.name} is not nullable`);
    });
    const tablespace = String(prev.tid);
    if (await tx.hasRows(tablespace)) {
      const why = 'the table holds rows written with the old definition; create a new table and copy the data';
      if (prev.source.type !== next.source.type) throw refused('schema.source.type', `cannot change from ${prev.source.type} to ${next.source.type}: ${why}`);
      if (prev.target.type !== next.target.type) throw refused('schema.target.type', `cannot change from ${prev.target.type} to ${next.target.type}: ${why}`);
      if (prev.idField && next.idField && prev.idField.type !== next.idField.type) throw refused('schema.id.type', `cannot change from ${prev.idField.type} to ${next.idField.type}: ${why}`);
      if (prev.directionType !== next.directionType)
        throw refused('schema.direction', `cannot change from ${prev.directionType} to ${next.directionType}: counts and index rows exist per direction; ${why}`);
      prev.fields.forEach((old) => {
        const i = next.fields.findIndex((f) => f.name === old.name);
        if (i < 0) throw refused('schema.properties', `cannot remove property ${old.name}: ${why}`);
        const f = next.fields[i]!;
        if (f.type !== old.type || (f.primitive ?? null) !== (old.primitive ?? null))
          throw refused(`schema.properties[${i}].type`, `cannot change ${old.name} from ${old.primitive ?? old.type} to ${f.primitive ?? f.type}: ${why}`);
      });
    }
    const same = (a: TableDef['indexes'][number], b: TableDef['indexes'][number]) => a.name === b.name && deepEqual(a.fields, b.fields);
    const [was, will] = [servedIndexes(prev), servedIndexes(next)];
    for (const old of was) if (!will.some((i) => same(i, old))) await tx.dropIndex(tablespace, old.name);
    const added = will.filter((i) => !was.some((o) => same(i, o)));
    if (added.length) await this.buildIndexes(tx, next, added);
  }

  /** Builds new or changed indexes from the stored rows, inside the caller's transaction. */
  private async buildIndexes(tx: EdgeStore, t: TableDef, indexes: TableDef['indexes']): Promise<void> {
    const tablespace = String(t.tid);
    const rows = await tx.countRows(tablespace, ONLINE_INDEX_BUILD_LIMIT + 1);
    if (rows > ONLINE_INDEX_BUILD_LIMIT)
      throw refused(
        'schema.indexes',
        `index ${indexes[0]!.name} would be built from more than ${ONLINE_INDEX_BUILD_LIMIT} rows, over the online build limit; create a new table with the index and copy the data`,
      );
    const shape: TableShape = { kind: t.kind, directionType: t.directionType, indexes, fields: allFields(t) };
    let after: string | null = null;
    for (;;) {
      const page = await tx.scanRows(tablespace, after, 1000);
      if (page.length === 0) break;
      const writes: IndexRowAdd[] = [];
      for (const r of page) {
        const key: EdgeKey = t.kind === 'MULTI_EDGE' ? { id: r.id! } : { source: r.source, target: r.target };
        for (const e of indexEntriesOf(r.state, key, shape)) {
          const spec = indexes.find((i) => i.name === e.index)!;
          writes.push({ index: e.index, direction: e.direction, start: e.start, sortKey: encodeSortKey(e.values, spec.fields.map((f) => f.order)), key: r.key });
        }
      }
      await tx.addIndexRows(tablespace, writes);
      after = page[page.length - 1]!.key;
    }
  }

  /** Starts the background purge after something else (a deleted queue) queued a tablespace for it. */
  purgeDropped(): void {
    this.purgeInBackground();
  }

  /** Removes dropped tablespaces in slices, yielding to requests between them. */
  private purgeInBackground(): void {
    if (this.purging) return;
    this.purging = true;
    const step = async () => {
      try {
        if (!this.store.isOpen()) return void (this.purging = false);
        const next = (await this.store.pendingPurges())[0];
        if (next === undefined) return void (this.purging = false);
        await this.store.purgeSome(next, PURGE_SLICE);
        setTimeout(() => void step(), 0).unref();
      } catch {
        // The store closed under us, or a slice failed: the queue is durable, the next start resumes it.
        this.purging = false;
      }
    };
    setTimeout(() => void step(), 0).unref();
  }

  // ---- aliases -----------------------------------------------------------------------------------

  listAliases(database: string, status: MetadataStatus = 'ALL'): AliasDef[] {
    return [...this.aliases.values()].filter((a) => a.database === database && matches(status, a.active));
  }
  getAlias(database: string, name: string): AliasDef {
    checkName(database, 'database');
    const a = this.aliases.get(qualified(database, checkName(name, 'alias')));
    if (!a) throw notFound(`alias ${qualified(database, name)}`);
    return a;
  }
  private async createAliasNow(database: string, name: string, p: { table: string; comment: string; active?: boolean }, actor: string): Promise<AliasDef> {
    checkName(database, 'database');
    checkName(name, 'alias');
    checkName(p.table, 'table');
    if (!this.databases.has(database)) throw refused('database', `database ${database} does not exist; create it first`);
    const id = qualified(database, name);
    if (this.aliases.has(id)) throw exists(`alias ${id}`);
    if (this.tables.has(id)) throw exists(`table ${id} (a table and an alias cannot share a name)`);
    if (!this.tables.has(qualified(database, p.table))) throw refused('table', `table ${qualified(database, p.table)} does not exist; an alias points at a table of its own database`);
    const a: AliasDef = { database, name, table: p.table, comment: p.comment, active: p.active ?? true, audit: this.audit(undefined, actor) };
    await this.store.saveAlias(a);
    this.aliases.set(id, a);
    this.resolved.clear();
    return a;
  }
  private async updateAliasNow(
    database: string,
    name: string,
    p: { active?: boolean | undefined; table?: string | undefined; comment?: string | undefined },
    actor: string,
  ): Promise<AliasDef> {
    const prev = this.getAlias(database, name);
    if (p.table !== undefined && !this.tables.has(qualified(database, checkName(p.table, 'table'))))
      throw refused('table', `table ${qualified(database, p.table)} does not exist`);
    const a: AliasDef = {
      ...prev,
      ...(p.active !== undefined ? { active: p.active } : {}),
      ...(p.table !== undefined ? { table: p.table } : {}),
      ...(p.comment !== undefined ? { comment: p.comment } : {}),
      audit: this.audit(prev.audit, actor),
    };
    await this.store.saveAlias(a);
    this.aliases.set(qualified(database, name), a);
    this.resolved.clear();
    return a;
  }
  /** Deletes a deactivated alias; false when there was none. `force` skips the check (v2 API). */
  private async deleteAliasNow(database: string, name: string, opts: { force?: boolean } = {}): Promise<boolean> {
    checkName(database, 'database');
    checkName(name, 'alias');
    const id = qualified(database, name);
    const a = this.aliases.get(id);
    if (!a) return false;
    if (a.active && !opts.force) throw refused('alias', `alias ${id} is active; deactivate it first (PUT {"active": false})`);
    await this.store.deleteAlias(database, name);
    this.aliases.delete(id);
    this.resolved.clear();
    return true;
  }

  /**
   * Resolves `db/{table or alias}` for the data API: 400 for a name outside the rule or an inactive
   * database, table or alias (Actionbase serves active entries only), 404 for an unknown one.
   */
  resolve(database: string, tableOrAlias: string): ResolvedTable {
    const cacheKey = qualified(database, tableOrAlias);
    const hit = this.resolved.get(cacheKey);
    if (hit) return hit;
    checkName(database, 'database');
    checkName(tableOrAlias, 'table');
    const db = this.databases.get(database);
    if (!db) throw notFound(`database ${database}`);
    const inactive = (what: string) => refused('table', `${what} is inactive; reactivate it (PUT {"active": true}) to read or write it`);
    if (!db.active) throw inactive(`database ${database}`);
    let alias: string | null = null;
    let def = this.tables.get(cacheKey);
    if (!def) {
      const a = this.aliases.get(cacheKey);
      if (!a) throw notFound(`table ${cacheKey}`);
      if (!a.active) throw inactive(`alias ${cacheKey}`);
      alias = a.name;
      def = this.tables.get(qualified(database, a.table));
      if (!def) throw notFound(`table ${qualified(database, a.table)} (target of alias ${cacheKey})`);
    }
    if (!def.active) throw inactive(`table ${qualified(def.database, def.name)}`);
    // The data plane sees the caches and groups as the indexes that serve them (servedIndexes).
    def = { ...def, indexes: servedIndexes(def) };
    const fields = allFields(def);
    const r: ResolvedTable = {
      def,
      id: tableHandle(qualified(def.database, def.name), def.tid),
      name: qualified(def.database, def.name),
      alias,
      shape: { kind: def.kind, directionType: def.directionType, indexes: def.indexes, fields },
      fieldsByName: new Map(fields.map((f) => [f.name, f])),
    };
    this.resolved.set(cacheKey, r);
    return r;
  }
}

/** Name of the index row set that serves a cache (outside the name rule: never a declared index's). */
export const cacheIndexName = (cache: string): string => `~cache:${cache}`;
/** Name of the index row set that serves a group. */
export const groupIndexName = (group: string): string => `~group:${group}`;

/**
 * The declared indexes plus one per cache (its fields in its order: a seek is a scan of it) and one
 * per group (its fields' raw values ascending: an agg sums the edges its ranges select). Actionbase
 * keeps caches as wide rows and groups as counters beside the edges; here they are index rows, written
 * in the same transaction as the state like every index row, so they cannot drift from it.
 */
export function servedIndexes(def: TableDef): TableDef['indexes'] {
  return [
    ...def.indexes,
    ...(def.caches ?? []).map((c) => ({ name: cacheIndexName(c.cache), fields: c.fields.map((f) => ({ name: f.field, order: f.order })) })),
    ...(def.groups ?? [])
      .filter((g) => g.fields.length > 0)
      .map((g) => ({ name: groupIndexName(g.group), fields: g.fields.map((f) => ({ name: f.name, order: 'ASC' as const })) })),
  ];
}

/** The schema's fields plus the implicit endpoint properties of multi-edges. */
export function allFields(def: TableDef): FieldDef[] {
  if (def.kind !== 'MULTI_EDGE') return def.fields;
  const declared = new Set(def.fields.map((f) => f.name));
  const implicit: FieldDef[] = [];
  if (!declared.has('_source')) implicit.push({ name: '_source', type: def.source.type, nullable: false, comment: 'multi-edge source' });
  if (!declared.has('_target')) implicit.push({ name: '_target', type: def.target.type, nullable: false, comment: 'multi-edge target' });
  return [...def.fields, ...implicit];
}

export const transitionSchemaOf = (r: ResolvedTable): TransitionSchema => ({ fields: r.shape.fields });

function validateTable(t: TableDef): void {
  const names = new Set<string>();
  t.fields.forEach((f, i) => {
    if (names.has(f.name)) throw badRequest(`schema.properties[${i}].name`, `duplicate property ${f.name}`);
    names.add(f.name);
  });
  const known = new Set(allFields(t).map((f) => f.name));
  const indexNames = new Set<string>();
  t.indexes.forEach((idx, i) => {
    if (indexNames.has(idx.name)) throw badRequest(`schema.indexes[${i}].index`, `duplicate index ${idx.name}`);
    indexNames.add(idx.name);
    idx.fields.forEach((f, j) => {
      if (!known.has(f.name)) throw badRequest(`schema.indexes[${i}].fields[${j}].field`, `unknown property ${f.name}; an index orders by properties of the schema`);
    });
  });
  const cacheNames = new Set<string>();
  (t.caches ?? []).forEach((c, i) => {
    if (cacheNames.has(c.cache)) throw badRequest(`schema.caches[${i}].cache`, `duplicate cache ${c.cache}`);
    cacheNames.add(c.cache);
    c.fields.forEach((f, j) => {
      if (!known.has(f.field)) throw badRequest(`schema.caches[${i}].fields[${j}].field`, `unknown property ${f.field}`);
    });
  });
  const groupNames = new Set<string>();
  (t.groups ?? []).forEach((g, i) => {
    if (groupNames.has(g.group)) throw badRequest(`schema.groups[${i}].group`, `duplicate group ${g.group}`);
    groupNames.add(g.group);
    g.fields.forEach((f, j) => {
      if (!known.has(f.name)) throw badRequest(`schema.groups[${i}].fields[${j}].name`, `unknown property ${f.name}`);
      bucketOf(f.bucket, `schema.groups[${i}].fields[${j}].bucket`);
    });
  });
}
