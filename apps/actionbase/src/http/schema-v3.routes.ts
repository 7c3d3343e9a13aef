import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Catalog, MetadataStatus } from '../catalog/catalog';
import { checkName } from '../catalog/names';
import {
  aliasDescriptor,
  databaseDescriptor,
  isActionbaseTableBody,
  legacySchema,
  LegacyTableBody,
  modeFromV3,
  parseBody,
  schemaFromV3,
  tableDescriptor,
  V3AliasCreate,
  V3AliasUpdate,
  V3DatabaseCreate,
  V3DatabaseUpdate,
  V3TableCreate,
  V3TableUpdate,
} from '../catalog/schema-bodies';
import { badRequest } from '../errors';


const STATUSES = ['ACTIVE', 'INACTIVE', 'ALL'] as const;

/** `?status=ACTIVE|INACTIVE|ALL` (default ACTIVE, case-sensitive as in Actionbase). */
function statusOf(req: FastifyRequest): MetadataStatus {
  const s = (req.query as { status?: unknown }).status;
  if (s === undefined) return 'ACTIVE';
  if (typeof s !== 'string' || !(STATUSES as readonly string[]).includes(s)) throw badRequest('status', `expected ACTIVE, INACTIVE or ALL, got ${JSON.stringify(s)}`);
  return s as MetadataStatus;
}

/**
 * Metadata API v3 as Actionbase serves it (api-references/metadata.mdx, server's DatabaseController,
 * TableController, AliasController): descriptors as bodies, plain arrays as lists, 204 on DELETE, and an
 * entity must be deactivated before it can be deleted.
 */
export function registerSchemaV3Routes(app: FastifyInstance, catalog: Catalog): void {
  const tenant = catalog.tenant;
  const dbs = '/graph/v3/databases';
  const noContent = (reply: FastifyReply) => reply.status(204).send();

  app.get(dbs, async (req) => catalog.listDatabases(statusOf(req)).map((d) => databaseDescriptor(d, tenant)));
  app.get(`${dbs}/:db`, async (req) => databaseDescriptor(catalog.getDatabase((req.params as { db: string }).db), tenant));
  app.post(dbs, async (req) => {
    const b = parseBody(V3DatabaseCreate, req.body);
    return databaseDescriptor(await catalog.createDatabase(b.database, { comment: b.comment, active: b.active }, req.actor), tenant);
  });
  app.put(`${dbs}/:db`, async (req) => {
    const { db } = req.params as { db: string };
    checkName(db, 'database');
    const b = parseBody(V3DatabaseUpdate, req.body);
    return databaseDescriptor(await catalog.updateDatabase(db, b, req.actor), tenant);
  });
  app.delete(`${dbs}/:db`, async (req, reply) => {
    await catalog.deleteDatabase((req.params as { db: string }).db);
    return noContent(reply);
  });

  const tables = `${dbs}/:db/tables`;
  app.get(tables, async (req) => {
    const { db } = req.params as { db: string };
    checkName(db, 'database');
    return catalog.listTables(db, statusOf(req)).map((t) => tableDescriptor(t, tenant));
  });
  app.get(`${tables}/:table`, async (req) => {
    const p = req.params as { db: string; table: string };
    return tableDescriptor(catalog.getTable(p.db, p.table), tenant);
  });
  app.post(tables, async (req) => {
    const { db } = req.params as { db: string };
    checkName(db, 'database');
    if (isActionbaseTableBody(req.body)) {
      const b = parseBody(V3TableCreate, req.body);
      const t = await catalog.createTable(db, b.table, { ...schemaFromV3(b.schema), mode: modeFromV3(b.mode), comment: b.comment, storage: b.storage, readOnly: false, event: false }, req.actor);
      return tableDescriptor(t, tenant);
    }
    const b = parseBody(LegacyTableBody, req.body);
    const t = await catalog.createTable(db, b.table, { ...legacySchema(b), mode: b.mode, comment: b.comment, storage: b.storage, readOnly: b.readOnly, event: false, active: b.active }, req.actor);
    return tableDescriptor(t, tenant);
  });
  app.put(`${tables}/:table`, async (req) => {
    const p = req.params as { db: string; table: string };
    checkName(p.db, 'database');
    checkName(p.table, 'table');
    const b = parseBody(V3TableUpdate, req.body);
    const t = await catalog.updateTable(
      p.db,
      p.table,
      {
        ...(b.active !== undefined ? { active: b.active } : {}),
        ...(b.schema ? { schema: schemaFromV3(b.schema) } : {}),
        ...(b.mode !== undefined ? { mode: modeFromV3(b.mode) } : {}),
        ...(b.comment !== undefined ? { comment: b.comment } : {}),
      },
      req.actor,
    );
    return tableDescriptor(t, tenant);
  });
  app.delete(`${tables}/:table`, async (req, reply) => {
    const p = req.params as { db: string; table: string };
    await catalog.deleteTable(p.db, p.table);
    return noContent(reply);
  });

  const aliases = `${dbs}/:db/aliases`;
  app.get(aliases, async (req) => {
    const { db } = req.params as { db: string };
    checkName(db, 'database');
    return catalog.listAliases(db, statusOf(req)).map((a) => aliasDescriptor(a, tenant));
  });
  app.get(`${aliases}/:alias`, async (req) => {
    const p = req.params as { db: string; alias: string };
    return aliasDescriptor(catalog.getAlias(p.db, p.alias), tenant);
  });
  app.post(aliases, async (req) => {
    const { db } = req.params as { db: string };
    checkName(db, 'database');
    const b = parseBody(V3AliasCreate, req.body);
    return aliasDescriptor(await catalog.createAlias(db, b.alias, { table: b.table, comment: b.comment }, req.actor), tenant);
  });
  app.put(`${aliases}/:alias`, async (req) => {
    const p = req.params as { db: string; alias: string };
    checkName(p.db, 'database');
    checkName(p.alias, 'alias');
    const b = parseBody(V3AliasUpdate, req.body);
    return aliasDescriptor(await catalog.updateAlias(p.db, p.alias, b, req.actor), tenant);
  });
  app.delete(`${aliases}/:alias`, async (req, reply) => {
    const p = req.params as { db: string; alias: string };
    await catalog.deleteAlias(p.db, p.alias);
    return noContent(reply);
  });
}
