import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import {
  aliasToV3,
  databaseToV3,
  tableFromV3,
  tableToV3,
  V3AliasBody,
  V3DatabaseBody,
  V3TableBody,
} from '../catalog/schema-bodies';
import { badRequest, fromZod } from '../errors';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** Picks the resource name from the path, or from the body of a collection POST. */
function nameOf(path: string | undefined, body: string | undefined, field: string): string {
  const n = path ?? body;
  if (!n) throw badRequest(field, 'required');
  if (path && body && path !== body) throw badRequest(field, `does not match the path (${path})`);
  return n;
}

/** Schema API v3: databases, tables, aliases. */
export function registerSchemaV3Routes(app: FastifyInstance, catalog: Catalog): void {
  const dbs = '/graph/v3/databases';
  app.get(dbs, async () => {
    const content = catalog.listDatabases().map(databaseToV3);
    return { count: content.length, content };
  });
  const putDb = (create: boolean) => async (req: FastifyRequest) => {
    const b = parseBody(V3DatabaseBody, req.body);
    const name = nameOf((req.params as { db?: string }).db, b.database, 'database');
    const status = catalog.putDatabase({ name, comment: b.comment, active: b.active }, { create });
    return { status, result: databaseToV3(catalog.getDatabase(name)) };
  };
  app.post(dbs, putDb(true));
  app.post(`${dbs}/:db`, putDb(true));
  app.put(`${dbs}/:db`, putDb(false));
  app.get(`${dbs}/:db`, async (req) => databaseToV3(catalog.getDatabase((req.params as { db: string }).db)));
  app.delete(`${dbs}/:db`, async (req) => {
    const { db } = req.params as { db: string };
    const d = catalog.getDatabase(db);
    catalog.deleteDatabase(db);
    return { status: 'DELETED', result: databaseToV3(d) };
  });

  const tables = `${dbs}/:db/tables`;
  app.get(tables, async (req) => {
    const content = catalog.listTables((req.params as { db: string }).db).map(tableToV3);
    return { count: content.length, content };
  });
  const putTable = (create: boolean) => async (req: FastifyRequest) => {
    const p = req.params as { db: string; table?: string };
    const b = parseBody(V3TableBody, req.body);
    const name = nameOf(p.table, b.table, 'table');
    const status = catalog.putTable(tableFromV3(p.db, name, b), { create });
    return { status, result: tableToV3(catalog.getTable(p.db, name)) };
  };
  app.post(tables, putTable(true));
  app.post(`${tables}/:table`, putTable(true));
  app.put(`${tables}/:table`, putTable(false));
  app.get(`${tables}/:table`, async (req) => {
    const p = req.params as { db: string; table: string };
    return tableToV3(catalog.getTable(p.db, p.table));
  });
  app.delete(`${tables}/:table`, async (req) => {
    const p = req.params as { db: string; table: string };
    const t = catalog.getTable(p.db, p.table);
    catalog.deleteTable(p.db, p.table);
    return { status: 'DELETED', result: tableToV3(t) };
  });

  const aliases = `${dbs}/:db/aliases`;
  app.get(aliases, async (req) => {
    const content = catalog.listAliases((req.params as { db: string }).db).map(aliasToV3);
    return { count: content.length, content };
  });
  const putAlias = (create: boolean) => async (req: FastifyRequest) => {
    const p = req.params as { db: string; alias?: string };
    const b = parseBody(V3AliasBody, req.body);
    const name = nameOf(p.alias, b.alias, 'alias');
    const status = catalog.putAlias({ database: p.db, name, table: b.table, comment: b.comment, active: b.active }, { create });
    return { status, result: aliasToV3(catalog.getAlias(p.db, name)) };
  };
  app.post(aliases, putAlias(true));
  app.post(`${aliases}/:alias`, putAlias(true));
  app.put(`${aliases}/:alias`, putAlias(false));
  app.get(`${aliases}/:alias`, async (req) => {
    const p = req.params as { db: string; alias: string };
    return aliasToV3(catalog.getAlias(p.db, p.alias));
  });
  app.delete(`${aliases}/:alias`, async (req) => {
    const p = req.params as { db: string; alias: string };
    const a = catalog.getAlias(p.db, p.alias);
    catalog.deleteAlias(p.db, p.alias);
    return { status: 'DELETED', result: aliasToV3(a) };
  });
}
