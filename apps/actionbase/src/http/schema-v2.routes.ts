import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Catalog } from '../catalog/catalog';
import { checkName } from '../catalog/names';
import { labelFromV2, parseBody, serviceToV2, tableToV2, V2AliasBody, V2LabelBody, V2ServiceBody } from '../catalog/schema-bodies';
import { ApiError, badRequest, notFound } from '../errors';

/** What `GET /graph/v3` names as the engine (Actionbase names its engine class there). */
const ENGINE = 'ActionbaseCore';

/**
 * Schema API v2 (what existing Actionbase tools use): service = database, label = table.
 * Responses follow Actionbase's DdlStatus `{status, result}` and DdlPage `{count, content}`.
 */
export function registerSchemaV2Routes(app: FastifyInstance, catalog: Catalog, tenant: string): void {
  // Actionbase answers both with `{engine}` (its CLI calls GET /graph/v3 to check the connection); ours adds fields.
  const about = async () => ({ engine: ENGINE, tenant, databases: catalog.listDatabases().length, api: ['v2', 'v3'] });
  app.get('/graph/v3', about);
  app.get('/graph/v2', about);

  const svc = '/graph/v2/service';
  app.get(svc, async () => {
    const content = catalog.listDatabases().map(serviceToV2);
    return { count: content.length, content };
  });
  app.get(`${svc}/:s`, async (req) => serviceToV2(catalog.getDatabase((req.params as { s: string }).s)));
  const putService = (create: boolean) => async (req: FastifyRequest) => {
    const s = checkName((req.params as { s: string }).s, 'database', 's');
    const b = parseBody(V2ServiceBody, req.body);
    if (create) {
      const d = await catalog.createDatabase(s, { comment: b.desc, active: b.active ?? true }, req.actor);
      return { status: 'CREATED', result: serviceToV2(d) };
    }
    const d = await catalog.updateDatabase(s, { ...(b.desc ? { comment: b.desc } : {}), ...(b.active !== undefined ? { active: b.active } : {}) }, req.actor);
    return { status: 'UPDATED', result: serviceToV2(d) };
  };
  app.post(`${svc}/:s`, putService(true));
  app.put(`${svc}/:s`, putService(false));

  app.get(`${svc}/:s/label`, async (req) => {
    const content = catalog.listTables((req.params as { s: string }).s).map(tableToV2);
    return { count: content.length, content };
  });
  app.get(`${svc}/:s/label/:l`, async (req) => {
    const p = req.params as { s: string; l: string };
    return tableToV2(catalog.getTable(p.s, p.l));
  });
  const putLabel = (create: boolean) => async (req: FastifyRequest) => {
    const p = req.params as { s: string; l: string };
    checkName(p.s, 'database', 's');
    checkName(p.l, 'table', 'l');
    let body = req.body as Record<string, unknown> | undefined;
    if (!create) body = { ...tableToV2(catalog.getTable(p.s, p.l)), ...(body ?? {}) };
    const b = labelFromV2(parseBody(V2LabelBody, body));
    if (create) return { status: 'CREATED', result: tableToV2(await catalog.createTable(p.s, p.l, b, req.actor)) };
    const { active, mode, comment, storage, readOnly, event, ...schema } = b;
    const t = await catalog.updateTable(p.s, p.l, { active, mode, comment, storage, readOnly, event, schema }, req.actor);
    return { status: 'UPDATED', result: tableToV2(t) };
  };
  app.post(`${svc}/:s/label/:l`, putLabel(true));
  app.put(`${svc}/:s/label/:l`, putLabel(false));
  app.get(`${svc}/:s/label/:l/status`, async (req) => {
    const p = req.params as { s: string; l: string };
    return catalog.getTable(p.s, p.l).active ? 'ACTIVE' : 'INACTIVE';
  });

  const aliasV2 = (s: string, name: string) => {
    const a = catalog.getAlias(s, name);
    return { active: a.active, name: `${s}.${a.name}`, desc: a.comment, target: `${s}.${a.table}`, label: tableToV2(catalog.getTable(s, a.table)) };
  };
  app.get(`${svc}/:s/alias`, async (req) => {
    const { s } = req.params as { s: string };
    const content = catalog.listAliases(s).map((a) => aliasV2(s, a.name));
    return { count: content.length, content };
  });
  app.get(`${svc}/:s/alias/:a`, async (req) => {
    const p = req.params as { s: string; a: string };
    return aliasV2(p.s, p.a);
  });
  const putAlias = (create: boolean) => async (req: FastifyRequest) => {
    const p = req.params as { s: string; a: string };
    checkName(p.s, 'database', 's');
    checkName(p.a, 'alias', 'a');
    let body = req.body as Record<string, unknown> | undefined;
    if (!create) {
      const prev = catalog.getAlias(p.s, p.a);
      body = { desc: prev.comment, target: `${p.s}.${prev.table}`, active: prev.active, ...(body ?? {}) };
    }
    const b = parseBody(V2AliasBody, body);
    const [targetService, targetLabel] = b.target.includes('.') ? b.target.split('.', 2) : [p.s, b.target];
    if (targetService !== p.s) throw badRequest('target', `an alias points at a label of its own service (${p.s})`);
    if (create) await catalog.createAlias(p.s, p.a, { table: targetLabel!, comment: b.desc, active: b.active }, req.actor);
    else await catalog.updateAlias(p.s, p.a, { table: targetLabel!, comment: b.desc, active: b.active }, req.actor);
    return { status: create ? 'CREATED' : 'UPDATED', result: aliasV2(p.s, p.a) };
  };
  app.post(`${svc}/:s/alias/:a`, putAlias(true));
  app.put(`${svc}/:s/alias/:a`, putAlias(false));
  app.delete(`${svc}/:s/alias/:a`, async (req) => {
    const p = req.params as { s: string; a: string };
    const result = aliasV2(p.s, p.a);
    await catalog.deleteAlias(p.s, p.a, { force: true });
    return { status: 'DELETED', result };
  });

  // Storage: the embedded engine has one storage; report it so v2 tools that ask find it (Actionbase's CLI
  // lists them with `show storages`). Registering another would change nothing about where rows live.
  // `type` is one of Actionbase's StorageType values (NIL, LOCAL, JDBC, HBASE, DATASTORE), so clients that read
  // it as that enum accept it: the embedded SQLite file is a local store.
  const storage = (name: string) => ({ active: true, name, desc: 'embedded SQLite storage', type: 'LOCAL', conf: {} });
  app.get('/graph/v2/storage', async () => ({ count: 1, content: [storage('embedded')] }));
  app.get('/graph/v2/storage/:name', async (req) => {
    const { name } = req.params as { name: string };
    if (name !== 'embedded' && name !== 'default') throw notFound(`storage ${name}`);
    return storage(name);
  });
  const storageWrite = async () => {
    throw new ApiError(
      501,
      'NOT_IMPLEMENTED',
      'creating or updating a storage (POST/PUT /graph/v2/storage/{storage}) is not implemented by this core: every table lives in its embedded storage; name a table\'s place with storage "datastore://<namespace>/<table>" instead',
    );
  };
  app.post('/graph/v2/storage/:name', storageWrite);
  app.put('/graph/v2/storage/:name', storageWrite);
}
