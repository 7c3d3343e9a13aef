import type { TableShape, TransitionSchema } from '@pipeline/edge-model';
import { ApiError, badRequest, notFound } from '../errors';
import type { EdgeStore } from '../storage/edge-store';
import { qualified, type AliasDef, type DatabaseDef, type FieldDef, type TableDef } from './model';

/** A table resolved for a request, with what the engine derives from its definition once. */
export interface ResolvedTable {
  def: TableDef;
  /** `db.table`: the storage namespace and the name in WAL/CDC context. */
  id: string;
  /** The alias the request used, if any. */
  alias: string | null;
  shape: TableShape;
  fieldsByName: Map<string, FieldDef>;
}

/**
 * Databases, tables and aliases, kept in memory and written through to the store.
 * Multi-edges keep their endpoints in the implicit non-nullable properties `_source`/`_target`
 * (domain.md, "Edges").
 */
export class Catalog {
  private readonly databases = new Map<string, DatabaseDef>();
  private readonly tables = new Map<string, TableDef>();
  private readonly aliases = new Map<string, AliasDef>();
  private readonly resolved = new Map<string, ResolvedTable>();

  constructor(private readonly store: EdgeStore) {
    const snap = store.loadCatalog();
    for (const d of snap.databases) this.databases.set(d.name, d);
    for (const t of snap.tables) this.tables.set(qualified(t.database, t.name), t);
    for (const a of snap.aliases) this.aliases.set(qualified(a.database, a.name), a);
  }

  listDatabases(): DatabaseDef[] {
    return [...this.databases.values()];
  }
  getDatabase(name: string): DatabaseDef {
    const d = this.databases.get(name);
    if (!d) throw notFound(`database ${name}`);
    return d;
  }
  hasDatabase(name: string): boolean {
    return this.databases.has(name);
  }
  putDatabase(d: DatabaseDef, opts: { create: boolean }): 'CREATED' | 'UPDATED' {
    const exists = this.databases.has(d.name);
    if (opts.create && exists) throw new ApiError(409, 'CONFLICT', `database ${d.name} already exists`);
    if (!opts.create && !exists) throw notFound(`database ${d.name}`);
    this.store.saveDatabase(d);
    this.databases.set(d.name, d);
    return exists ? 'UPDATED' : 'CREATED';
  }
  deleteDatabase(name: string): void {
    this.getDatabase(name);
    if (this.listTables(name).length > 0) throw new ApiError(409, 'CONFLICT', `database ${name} still has tables; delete them first`);
    this.store.deleteDatabase(name);
    this.databases.delete(name);
  }

  listTables(database: string): TableDef[] {
    return [...this.tables.values()].filter((t) => t.database === database);
  }
  getTable(database: string, name: string): TableDef {
    this.getDatabase(database);
    const t = this.tables.get(qualified(database, name));
    if (!t) throw notFound(`table ${qualified(database, name)}`);
    return t;
  }
  putTable(t: TableDef, opts: { create: boolean }): 'CREATED' | 'UPDATED' {
    this.getDatabase(t.database);
    const id = qualified(t.database, t.name);
    const exists = this.tables.has(id);
    if (opts.create && exists) throw new ApiError(409, 'CONFLICT', `table ${id} already exists`);
    if (!opts.create && !exists) throw notFound(`table ${id}`);
    if (this.aliases.has(id)) throw new ApiError(409, 'CONFLICT', `${id} is already an alias`);
    validateTable(t);
    this.store.saveTable(t);
    this.tables.set(id, t);
    this.resolved.clear();
    return exists ? 'UPDATED' : 'CREATED';
  }
  deleteTable(database: string, name: string): void {
    this.getTable(database, name);
    const users = [...this.aliases.values()].filter((a) => a.database === database && a.table === name);
    if (users.length) throw new ApiError(409, 'CONFLICT', `table ${qualified(database, name)} is the target of alias ${users[0]!.name}; delete the alias first`);
    this.store.deleteTable(database, name);
    this.tables.delete(qualified(database, name));
    this.resolved.clear();
  }

  listAliases(database: string): AliasDef[] {
    return [...this.aliases.values()].filter((a) => a.database === database);
  }
  getAlias(database: string, name: string): AliasDef {
    this.getDatabase(database);
    const a = this.aliases.get(qualified(database, name));
    if (!a) throw notFound(`alias ${qualified(database, name)}`);
    return a;
  }
  putAlias(a: AliasDef, opts: { create: boolean }): 'CREATED' | 'UPDATED' {
    this.getTable(a.database, a.table);
    const id = qualified(a.database, a.name);
    const exists = this.aliases.has(id);
    if (opts.create && exists) throw new ApiError(409, 'CONFLICT', `alias ${id} already exists`);
    if (!opts.create && !exists) throw notFound(`alias ${id}`);
    if (this.tables.has(id)) throw new ApiError(409, 'CONFLICT', `${id} is already a table`);
    this.store.saveAlias(a);
    this.aliases.set(id, a);
    this.resolved.clear();
    return exists ? 'UPDATED' : 'CREATED';
  }
  deleteAlias(database: string, name: string): void {
    this.getAlias(database, name);
    this.store.deleteAlias(database, name);
    this.aliases.delete(qualified(database, name));
    this.resolved.clear();
  }

  /** Resolves `db/{table or alias}` for the data API; 404 for an unknown database or table. */
  resolve(database: string, tableOrAlias: string): ResolvedTable {
    const cacheKey = qualified(database, tableOrAlias);
    const hit = this.resolved.get(cacheKey);
    if (hit) return hit;
    if (!this.databases.has(database)) throw notFound(`database ${database}`);
    let alias: string | null = null;
    let def = this.tables.get(cacheKey);
    if (!def) {
      const a = this.aliases.get(cacheKey);
      if (!a || !a.active) throw notFound(`table ${cacheKey}`);
      alias = a.name;
      def = this.tables.get(qualified(database, a.table));
      if (!def) throw notFound(`table ${qualified(database, a.table)} (target of alias ${cacheKey})`);
    }
    const fields = allFields(def);
    const r: ResolvedTable = {
      def,
      id: qualified(def.database, def.name),
      alias,
      shape: { kind: def.kind, directionType: def.directionType, indexes: def.indexes, fields },
      fieldsByName: new Map(fields.map((f) => [f.name, f])),
    };
    this.resolved.set(cacheKey, r);
    return r;
  }
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
    if (indexNames.has(idx.name)) throw badRequest(`indexes[${i}].index`, `duplicate index ${idx.name}`);
    indexNames.add(idx.name);
    idx.fields.forEach((f, j) => {
      if (!known.has(f.name)) throw badRequest(`indexes[${i}].fields[${j}]`, `unknown property ${f.name}; an index orders by properties of the schema`);
    });
  });
}
