/**
 * Metadata API v3 conformance: one test per example of Actionbase's API reference
 * (website/src/content/docs/api-references/metadata.mdx, "§n" below) and per case of its server tests
 * (server/src/test/kotlin/.../api/graph/v3/metadata/{Database,Table,Alias}ControllerTest.kt), run against
 * the core as its own process. Bodies are compared as those tests compare them (expected fields present
 * with these values); descriptors are also checked to carry exactly Actionbase's fields.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreProcess, freePort, tempStorage } from '@pipeline/testing';

let core: CoreProcess;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(core.url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const AUDIT = ['revision', 'createdAt', 'createdBy', 'updatedAt', 'updatedBy'];
const DATABASE_FIELDS = ['tenant', 'database', 'active', 'comment', ...AUDIT].sort();
const TABLE_FIELDS = ['type', 'tenant', 'database', 'table', 'schema', 'mode', 'storage', 'active', 'comment', ...AUDIT].sort();
const ALIAS_FIELDS = ['tenant', 'database', 'alias', 'table', 'active', 'comment', ...AUDIT].sort();
const EDGE_SCHEMA_FIELDS = ['type', 'source', 'target', 'properties', 'direction', 'indexes', 'groups', 'caches'].sort();

function expectShape(body: any, fields: string[]): void {
  expect(Object.keys(body).sort()).toEqual(fields);
  expect(body.tenant).toBe('default');
  expect(typeof body.revision).toBe('number');
  expect(typeof body.createdAt).toBe('number');
  expect(typeof body.updatedBy).toBe('string');
}

const edgeTable = (table: string, extra: Record<string, unknown> = {}) => ({
  table,
  schema: {
    type: 'EDGE',
    source: { type: 'string', comment: 'src' },
    target: { type: 'string', comment: 'tgt' },
    properties: [],
    direction: 'OUT',
    indexes: [],
    groups: [],
  },
  storage: `datastore://test_namespace/${table.replace(/-/g, '_')}`,
  mode: 'SYNC',
  comment: 'edge table',
  ...extra,
});
const multiEdgeTable = (table: string) => ({
  table,
  schema: {
    type: 'MULTI_EDGE',
    id: { type: 'long', comment: 'id' },
    source: { type: 'long', comment: 'src' },
    target: { type: 'long', comment: 'tgt' },
    properties: [],
    direction: 'BOTH',
    indexes: [],
    groups: [],
  },
  storage: `datastore://test_namespace/${table.replace(/-/g, '_')}`,
  mode: 'SYNC',
  comment: 'multiedge table',
});

beforeAll(async () => {
  core = new CoreProcess({ PORT: String(await freePort()), STORAGE_PATH: tempStorage(), LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '3600000' });
  await core.start();
});
afterAll(async () => core?.stop());

describe('metadata.mdx examples', () => {
  const follows = {
    table: 'follows',
    schema: {
      type: 'EDGE',
      source: { type: 'string', comment: 'user id' },
      target: { type: 'string', comment: 'user id' },
      properties: [],
      direction: 'OUT',
      indexes: [],
      groups: [],
    },
    storage: 'datastore://hbase/follows_table',
    mode: 'SYNC',
    comment: 'User follows relationship',
  };

  it('§3 create database: the DatabaseDescriptor', async () => {
    const r = await call('POST', '/graph/v3/databases', { database: 'mydb', comment: 'My database' }, { 'X-Actor-ID': 'admin' });
    expect(r.status).toBe(200);
    expectShape(r.body, DATABASE_FIELDS);
    expect(r.body).toMatchObject({ tenant: 'default', database: 'mydb', active: true, comment: 'My database', revision: 1, createdBy: 'admin', updatedBy: 'admin' });
  });

  it('§1 list databases: a plain array of descriptors', async () => {
    const r = await call('GET', '/graph/v3/databases');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    const mydb = r.body.find((d: any) => d.database === 'mydb');
    expectShape(mydb, DATABASE_FIELDS);
    expect(mydb).toMatchObject({ database: 'mydb', active: true, comment: 'My database' });
  });

  it('§2 get database, and 404 for an unknown one', async () => {
    const r = await call('GET', '/graph/v3/databases/mydb');
    expect(r.status).toBe(200);
    expectShape(r.body, DATABASE_FIELDS);
    expect((await call('GET', '/graph/v3/databases/nosuchdb')).status).toBe(404);
  });

  it('§8 create table (the follows example)', async () => {
    const r = await call('POST', '/graph/v3/databases/mydb/tables', follows);
    expect(r.status).toBe(200);
    expectShape(r.body, TABLE_FIELDS);
    expect(Object.keys(r.body.schema).sort()).toEqual(EDGE_SCHEMA_FIELDS);
  });

  it('§7 get table: the TableDescriptor of the example response', async () => {
    const r = await call('GET', '/graph/v3/databases/mydb/tables/follows');
    expect(r.status).toBe(200);
    expectShape(r.body, TABLE_FIELDS);
    expect(r.body).toMatchObject({
      type: 'edge',
      tenant: 'default',
      database: 'mydb',
      table: 'follows',
      schema: {
        type: 'edge',
        source: { type: 'string', comment: 'user id' },
        target: { type: 'string', comment: 'user id' },
        properties: [],
        direction: 'OUT',
        indexes: [],
        groups: [],
      },
      storage: 'datastore://hbase/follows_table',
      mode: 'SYNC',
      active: true,
      comment: 'User follows relationship',
      revision: 1,
    });
    expect((await call('GET', '/graph/v3/databases/mydb/tables/nosuchtable')).status).toBe(404);
  });

  it('§6 list tables: a plain array of descriptors', async () => {
    const r = await call('GET', '/graph/v3/databases/mydb/tables');
    expect(r.status).toBe(200);
    expect(r.body.map((t: any) => t.table)).toEqual(['follows']);
    expectShape(r.body[0], TABLE_FIELDS);
  });

  it('§9 update table: partial PUT changes only what it names', async () => {
    const r = await call('PUT', '/graph/v3/databases/mydb/tables/follows', { active: true, comment: 'Updated description' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ comment: 'Updated description', active: true, revision: 2, schema: { direction: 'OUT' }, storage: 'datastore://hbase/follows_table' });
  });

  it('§13 create alias', async () => {
    const r = await call('POST', '/graph/v3/databases/mydb/aliases', { alias: 'friends', table: 'follows', comment: 'Alias for follows' });
    expect(r.status).toBe(200);
    expectShape(r.body, ALIAS_FIELDS);
    expect(r.body).toMatchObject({ database: 'mydb', alias: 'friends', table: 'follows', active: true, comment: 'Alias for follows' });
  });

  it('§12 get alias, §11 list aliases', async () => {
    const r = await call('GET', '/graph/v3/databases/mydb/aliases/friends');
    expect(r.status).toBe(200);
    expectShape(r.body, ALIAS_FIELDS);
    const list = await call('GET', '/graph/v3/databases/mydb/aliases');
    expect(list.body.map((a: any) => a.alias)).toEqual(['friends']);
  });

  it('§14 update alias (deactivate)', async () => {
    const r = await call('PUT', '/graph/v3/databases/mydb/aliases/friends', { active: false, comment: 'Deactivated alias' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ active: false, comment: 'Deactivated alias' });
  });

  it('§15 delete alias: 204 once deactivated (400 while active)', async () => {
    await call('POST', '/graph/v3/databases/mydb/aliases', { alias: 'pals', table: 'follows', comment: '' });
    const active = await call('DELETE', '/graph/v3/databases/mydb/aliases/pals');
    expect(active.status).toBe(400);
    expect((await call('GET', '/graph/v3/databases/mydb/aliases/pals')).status).toBe(200);
    const r = await call('DELETE', '/graph/v3/databases/mydb/aliases/friends');
    expect(r.status).toBe(204);
    expect(r.body).toBeNull();
    expect((await call('GET', '/graph/v3/databases/mydb/aliases/friends')).status).toBe(404);
  });

  it('§10 delete table: 204 once deactivated (400 while active)', async () => {
    await call('PUT', '/graph/v3/databases/mydb/aliases/pals', { active: false });
    await call('DELETE', '/graph/v3/databases/mydb/aliases/pals');
    expect((await call('DELETE', '/graph/v3/databases/mydb/tables/follows')).status).toBe(400);
    expect((await call('PUT', '/graph/v3/databases/mydb/tables/follows', { active: false })).status).toBe(200);
    const r = await call('DELETE', '/graph/v3/databases/mydb/tables/follows');
    expect(r.status).toBe(204);
    expect((await call('GET', '/graph/v3/databases/mydb/tables/follows')).status).toBe(404);
  });

  it('§4 update database', async () => {
    const r = await call('PUT', '/graph/v3/databases/mydb', { active: true, comment: 'Updated description' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ database: 'mydb', active: true, comment: 'Updated description', revision: 2 });
  });

  it('§5 delete database: 204 once deactivated (400 while active)', async () => {
    expect((await call('DELETE', '/graph/v3/databases/mydb')).status).toBe(400);
    expect((await call('PUT', '/graph/v3/databases/mydb', { active: false })).status).toBe(200);
    expect((await call('DELETE', '/graph/v3/databases/mydb')).status).toBe(204);
    expect((await call('GET', '/graph/v3/databases/mydb')).status).toBe(404);
  });

  it('Validation Rules: names, storage URI, comment length, enums; 400 naming the field', async () => {
    await call('POST', '/graph/v3/databases', { database: 'valdb', comment: '' });
    const cases: [string, string, unknown, string][] = [
      ['POST', '/graph/v3/databases', { database: '1db', comment: '' }, 'database'],
      ['POST', '/graph/v3/databases', { database: 'a'.repeat(65), comment: '' }, 'database'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { storage: 'hbase://x' }), 'storage'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { comment: 'x'.repeat(1001) }), 'comment'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t.1'), 'table'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { mode: 'sync' }), 'mode'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { mode: 'DENY' }), 'mode'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { schema: { ...edgeTable('x').schema, source: { type: 'STRING', comment: '' } } }), 'schema.source.type'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { schema: { ...edgeTable('x').schema, source: { type: 'int', comment: '' } } }), 'schema.source.type'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { schema: { ...edgeTable('x').schema, type: 'HASH' } }), 'schema.type'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { schema: { ...edgeTable('x').schema, direction: undefined } }), 'schema.direction'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { schema: { ...edgeTable('x').schema, typo: 1 } }), 'schema.typo'],
      ['POST', '/graph/v3/databases/valdb/tables', edgeTable('t1', { extra: true }), 'extra'],
      ['POST', '/graph/v3/databases/valdb/tables', { ...multiEdgeTable('t1'), schema: { ...multiEdgeTable('x').schema, id: undefined } }, 'schema.id'],
      ['POST', '/graph/v3/databases/nodb/tables', edgeTable('t1'), 'database'],
      ['PUT', '/graph/v3/databases/valdb', { active: 'no' }, 'active'],
      ['PUT', '/graph/v3/databases/valdb', { name: 'x' }, 'name'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await call(method, path, body);
      expect([path, r.status, r.body.field]).toEqual([path, 400, field]);
      expect(r.body.message).toContain(field);
    }
    expect((await call('GET', '/graph/v3/databases/valdb/tables?status=ALL')).body).toEqual([]);
  });

  it('every primitive type is accepted for properties, lowercase, and reported back as declared', async () => {
    await call('POST', '/graph/v3/databases', { database: 'typesdb', comment: '' });
    const types = ['boolean', 'byte', 'short', 'int', 'long', 'float', 'double', 'string', 'object'];
    const properties = types.map((t) => ({ name: `p_${t}`, type: t, comment: '', nullable: true }));
    const r = await call('POST', '/graph/v3/databases/typesdb/tables', edgeTable('typed', { schema: { ...edgeTable('x').schema, properties } }));
    expect(r.status).toBe(200);
    expect(r.body.schema.properties).toEqual(properties);
  });
});

describe('server tests: DatabaseControllerTest', () => {
  it.each([
    ['v3-db-basic', 'test db'],
    ['v3-db-empty-comment', ''],
    ['v3-db-special', 'test @#$%'],
  ])('create database %s', async (name, comment) => {
    const expected = { database: name, comment, active: true };
    expect(await call('POST', '/graph/v3/databases', { database: name, comment })).toMatchObject({ status: 200, body: expected });
    expect(await call('GET', `/graph/v3/databases/${name}`)).toMatchObject({ status: 200, body: expected });
  });

  it.each([
    ['v3-db-upd-basic', 'test db', 'updated comment'],
    ['v3-db-upd-empty', '', 'updated empty'],
    ['v3-db-upd-special', 'test @#$%', 'updated special'],
  ])('update database %s', async (name, comment, updated) => {
    expect((await call('POST', '/graph/v3/databases', { database: name, comment })).status).toBe(200);
    expect(await call('PUT', `/graph/v3/databases/${name}`, { comment: updated })).toMatchObject({ status: 200, body: { database: name, comment: updated, active: true } });
  });

  it.each([['v3-db-deact-basic'], ['v3-db-deact-empty']])('deactivate database %s', async (name) => {
    expect((await call('POST', '/graph/v3/databases', { database: name, comment: '' })).status).toBe(200);
    expect(await call('PUT', `/graph/v3/databases/${name}`, { active: false })).toMatchObject({ status: 200, body: { database: name, active: false } });
  });

  it.each([['v3-db-react-basic'], ['v3-db-react-empty']])('reactivate database %s', async (name) => {
    await call('POST', '/graph/v3/databases', { database: name, comment: '' });
    expect((await call('PUT', `/graph/v3/databases/${name}`, { active: false })).status).toBe(200);
    expect(await call('PUT', `/graph/v3/databases/${name}`, { active: true })).toMatchObject({ status: 200, body: { database: name, active: true } });
  });

  it.each([['v3-db-del-basic'], ['v3-db-del-empty']])('delete database %s', async (name) => {
    await call('POST', '/graph/v3/databases', { database: name, comment: '' });
    expect((await call('PUT', `/graph/v3/databases/${name}`, { active: false })).status).toBe(200);
    expect((await call('DELETE', `/graph/v3/databases/${name}`)).status).toBe(204);
  });

  describe('status filter', () => {
    const dbName = 'v3-db-status-filter';
    beforeAll(async () => {
      await call('POST', '/graph/v3/databases', { database: dbName, comment: 'status filter test' });
      await call('PUT', `/graph/v3/databases/${dbName}`, { active: false });
    });
    const has = async (q: string) => (await call('GET', `/graph/v3/databases${q}`)).body.some((d: any) => d.database === dbName);
    it('default status excludes inactive databases', async () => expect(await has('')).toBe(false));
    it('status=ACTIVE excludes inactive databases', async () => expect(await has('?status=ACTIVE')).toBe(false));
    it('status=INACTIVE returns only inactive databases', async () => {
      const r = await call('GET', '/graph/v3/databases?status=INACTIVE');
      expect(r.body.some((d: any) => d.database === dbName)).toBe(true);
      expect(r.body.every((d: any) => d.active === false)).toBe(true);
    });
    it('status=ALL returns both active and inactive databases', async () => expect(await has('?status=ALL')).toBe(true));
  });

  it.each([
    ['invalid status value returns 400', '/graph/v3/databases?status=BOGUS', 400],
    ['lowercase status value returns 400', '/graph/v3/databases?status=active', 400],
    ['get non-existent database returns 404', '/graph/v3/databases/non-existent', 404],
    ['invalid database name returns 400', '/graph/v3/databases/123-invalid', 400],
    ['database name with dot returns 400', '/graph/v3/databases/db.injection', 400],
  ])('%s', async (_, path, status) => {
    expect((await call('GET', path)).status).toBe(status);
  });
});

describe('server tests: TableControllerTest', () => {
  const db = 'v3-table-test-db';
  const base = `/graph/v3/databases/${db}/tables`;
  beforeAll(async () => {
    expect((await call('POST', '/graph/v3/databases', { database: db, comment: 'test db' })).status).toBe(200);
  });

  const full = (table: string, type: 'EDGE' | 'MULTI_EDGE', properties: unknown[], comment: string, keys: { source: unknown; target: unknown; id?: unknown }) => ({
    table,
    schema: { type, ...(keys.id ? { id: keys.id } : {}), source: keys.source, target: keys.target, properties, direction: type === 'EDGE' && table === 'v3-edge-crud' ? 'OUT' : 'BOTH', indexes: [], groups: [] },
    storage: `datastore://test_namespace/${table.replace(/-/g, '_')}`,
    mode: 'SYNC',
    comment,
  });
  const responseOf = (req: ReturnType<typeof full>) => {
    const { type, ...schema } = req.schema as Record<string, unknown>;
    const t = type === 'EDGE' ? 'edge' : 'multiEdge';
    const { indexes: _i, groups: _g, ...rest } = schema;
    return { type: t, table: req.table, database: db, comment: req.comment, schema: { type: t, ...rest }, storage: req.storage, active: true };
  };

  it.each([
    full('v3-edge-crud', 'EDGE', [{ name: 'score', type: 'int', comment: 'score', nullable: true }], 'edge table', {
      source: { type: 'string', comment: 'src' },
      target: { type: 'string', comment: 'tgt' },
    }),
    full('v3-multiedge-crud', 'MULTI_EDGE', [], 'multiedge table', {
      id: { type: 'long', comment: 'order id' },
      source: { type: 'long', comment: 'sender' },
      target: { type: 'long', comment: 'receiver' },
    }),
    full(
      'v3-edge-full',
      'EDGE',
      [
        { name: 'rating', type: 'int', comment: 'rating', nullable: true },
        { name: 'createdat', type: 'long', comment: 'time', nullable: false },
      ],
      'full edge table',
      { source: { type: 'long', comment: 'user' }, target: { type: 'long', comment: 'item' } },
    ),
    full(
      'v3-multiedge-full',
      'MULTI_EDGE',
      [
        { name: 'amount', type: 'int', comment: 'purchase amount', nullable: false },
        { name: 'timestamp', type: 'long', comment: 'txn time', nullable: false },
      ],
      'full multiedge table',
      { id: { type: 'long', comment: 'txn id' }, source: { type: 'long', comment: 'buyer' }, target: { type: 'long', comment: 'product' } },
    ),
  ])('create table $table', async (req) => {
    const expected = responseOf(req);
    expect(await call('POST', base, req)).toMatchObject({ status: 200, body: expected });
    expect(await call('GET', `${base}/${req.table}`)).toMatchObject({ status: 200, body: expected });
  });

  it.each([
    ['v3-edge-upd', edgeTable, 'updated edge'],
    ['v3-multiedge-upd', multiEdgeTable, 'updated multiedge'],
  ] as const)('update table %s', async (name, make, comment) => {
    expect((await call('POST', base, make(name))).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { comment })).toMatchObject({ status: 200, body: { table: name, comment, active: true } });
  });

  it.each([
    ['v3-edge-deact', edgeTable],
    ['v3-multiedge-deact', multiEdgeTable],
  ] as const)('deactivate table %s', async (name, make) => {
    expect((await call('POST', base, make(name))).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { active: false })).toMatchObject({ status: 200, body: { table: name, active: false } });
  });

  it.each([
    ['v3-edge-react', edgeTable],
    ['v3-multiedge-react', multiEdgeTable],
  ] as const)('reactivate table %s', async (name, make) => {
    expect((await call('POST', base, make(name))).status).toBe(200);
    expect((await call('PUT', `${base}/${name}`, { active: false })).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { active: true })).toMatchObject({ status: 200, body: { table: name, active: true } });
  });

  it.each([
    ['v3-edge-del', edgeTable],
    ['v3-multiedge-del', multiEdgeTable],
  ] as const)('delete table %s', async (name, make) => {
    expect((await call('POST', base, make(name))).status).toBe(200);
    expect((await call('PUT', `${base}/${name}`, { active: false })).status).toBe(200);
    expect((await call('DELETE', `${base}/${name}`)).status).toBe(204);
  });

  describe('status filter', () => {
    const tableName = 'v3-tbl-status-filter';
    beforeAll(async () => {
      expect((await call('POST', base, edgeTable(tableName))).status).toBe(200);
      expect((await call('PUT', `${base}/${tableName}`, { active: false })).status).toBe(200);
    });
    const has = async (q: string) => (await call('GET', `${base}${q}`)).body.some((t: any) => t.table === tableName);
    it('default status excludes inactive tables', async () => expect(await has('')).toBe(false));
    it('status=ACTIVE excludes inactive tables', async () => expect(await has('?status=ACTIVE')).toBe(false));
    it('status=INACTIVE returns only inactive tables', async () => expect(await has('?status=INACTIVE')).toBe(true));
    it('status=ALL returns both active and inactive tables', async () => expect(await has('?status=ALL')).toBe(true));
  });

  const scored = (name: string, caches: unknown[]) => ({
    table: name,
    schema: {
      type: 'EDGE',
      source: { type: 'long', comment: 'user' },
      target: { type: 'long', comment: 'item' },
      properties: [{ name: 'score', type: 'int', comment: 'score', nullable: true }],
      direction: 'OUT',
      indexes: [],
      groups: [],
      caches,
    },
    storage: `datastore://test_namespace/${name.replace(/-/g, '_')}`,
    mode: 'SYNC',
    comment: 'edge table with cache',
  });

  it('create table preserves caches on response and get', async () => {
    const caches = [{ cache: 'top_items', fields: [{ field: 'score', order: 'DESC' }], limit: 50, comment: 'top 50 items' }];
    const expected = { type: 'edge', table: 'v3-edge-cache-crud', schema: { type: 'edge', caches }, active: true };
    expect(await call('POST', base, scored('v3-edge-cache-crud', caches))).toMatchObject({ status: 200, body: expected });
    expect(await call('GET', `${base}/v3-edge-cache-crud`)).toMatchObject({ status: 200, body: expected });
  });

  it('update table changes caches and reflects on get', async () => {
    const old = [{ cache: 'old_cache', fields: [{ field: 'score', order: 'ASC' }], limit: 10, comment: 'old' }];
    const caches = [{ cache: 'new_cache', fields: [{ field: 'score', order: 'DESC' }], limit: 100, comment: 'new' }];
    expect((await call('POST', base, scored('v3-edge-cache-upd', old))).status).toBe(200);
    const { table: _t, storage: _s, mode: _m, comment: _c, ...update } = scored('v3-edge-cache-upd', caches);
    const expected = { table: 'v3-edge-cache-upd', schema: { caches }, active: true };
    expect(await call('PUT', `${base}/v3-edge-cache-upd`, update)).toMatchObject({ status: 200, body: expected });
    expect(await call('GET', `${base}/v3-edge-cache-upd`)).toMatchObject({ status: 200, body: expected });
  });

  it.each([
    ['invalid status value returns 400', `${base}?status=BOGUS`, 400],
    ['lowercase status value returns 400', `${base}?status=active`, 400],
    ['get non-existent table returns 404', `${base}/non-existent`, 404],
    ['invalid table name returns 400', `${base}/123-invalid`, 400],
    ['table name with dot returns 400', `${base}/table.injection`, 400],
  ])('%s', async (_, path, status) => {
    expect((await call('GET', path)).status).toBe(status);
  });
});

describe('server tests: AliasControllerTest', () => {
  const db = 'v3-alias-test-db';
  const table = 'v3-alias-target-table';
  const base = `/graph/v3/databases/${db}/aliases`;
  beforeAll(async () => {
    expect((await call('POST', '/graph/v3/databases', { database: db, comment: 'test db' })).status).toBe(200);
    expect((await call('POST', `/graph/v3/databases/${db}/tables`, { ...edgeTable(table), storage: 'datastore://test_namespace/alias_test_hbase_table', comment: 'target table' })).status).toBe(200);
  });

  it.each([
    ['v3-alias-basic', 'test alias'],
    ['v3-alias-empty', ''],
    ['v3-alias-special', 'alias @#'],
  ])('create alias %s', async (name, comment) => {
    const expected = { alias: name, table, comment, active: true };
    expect(await call('POST', base, { alias: name, table, comment })).toMatchObject({ status: 200, body: expected });
    expect(await call('GET', `${base}/${name}`)).toMatchObject({ status: 200, body: expected });
  });

  it.each([
    ['v3-alias-upd-basic', 'test alias', 'updated comment'],
    ['v3-alias-upd-empty', '', 'updated empty'],
    ['v3-alias-upd-special', 'alias @#', 'updated special'],
  ])('update alias %s', async (name, comment, updated) => {
    expect((await call('POST', base, { alias: name, table, comment })).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { comment: updated })).toMatchObject({ status: 200, body: { alias: name, comment: updated, active: true } });
  });

  it.each([['v3-alias-deact-basic'], ['v3-alias-deact-empty'], ['v3-alias-deact-special']])('deactivate alias %s', async (name) => {
    expect((await call('POST', base, { alias: name, table, comment: '' })).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { active: false })).toMatchObject({ status: 200, body: { alias: name, active: false } });
  });

  it.each([['v3-alias-react-basic'], ['v3-alias-react-empty']])('reactivate alias %s', async (name) => {
    expect((await call('POST', base, { alias: name, table, comment: '' })).status).toBe(200);
    expect((await call('PUT', `${base}/${name}`, { active: false })).status).toBe(200);
    expect(await call('PUT', `${base}/${name}`, { active: true })).toMatchObject({ status: 200, body: { alias: name, active: true } });
  });

  it.each([['v3-alias-del-basic'], ['v3-alias-del-empty'], ['v3-alias-del-special']])('delete alias %s', async (name) => {
    expect((await call('POST', base, { alias: name, table, comment: '' })).status).toBe(200);
    expect((await call('PUT', `${base}/${name}`, { active: false })).status).toBe(200);
    expect((await call('DELETE', `${base}/${name}`)).status).toBe(204);
  });

  describe('status filter', () => {
    const alias = 'v3-alias-status-filter';
    beforeAll(async () => {
      expect((await call('POST', base, { alias, table, comment: '' })).status).toBe(200);
      expect((await call('PUT', `${base}/${alias}`, { active: false })).status).toBe(200);
    });
    const has = async (q: string) => (await call('GET', `${base}${q}`)).body.some((a: any) => a.alias === alias);
    it('default status excludes inactive aliases', async () => expect(await has('')).toBe(false));
    it('status=ACTIVE excludes inactive aliases', async () => expect(await has('?status=ACTIVE')).toBe(false));
    it('status=INACTIVE returns only inactive aliases', async () => expect(await has('?status=INACTIVE')).toBe(true));
    it('status=ALL returns both active and inactive aliases', async () => expect(await has('?status=ALL')).toBe(true));
  });

  it.each([
    ['invalid status value returns 400', `${base}?status=BOGUS`, 400],
    ['lowercase status value returns 400', `${base}?status=active`, 400],
    ['get non-existent alias returns 404', `${base}/non-existent`, 404],
    ['invalid alias name returns 400', `${base}/123-invalid`, 400],
    ['alias name with dot returns 400', `${base}/alias.injection`, 400],
  ])('%s', async (_, path, status) => {
    expect((await call('GET', path)).status).toBe(status);
  });
});

describe('inactive entities refuse reads and writes (Actionbase serves active tables only)', () => {
  const db = 'v3-inactive-db';
  const edges = `/graph/v3/databases/${db}/tables/likes/edges`;
  const mutation = { mutations: [{ type: 'INSERT', edge: { version: 1, source: 'a', target: 'b', properties: {} } }] };
  beforeAll(async () => {
    await call('POST', '/graph/v3/databases', { database: db, comment: '' });
    expect((await call('POST', `/graph/v3/databases/${db}/tables`, edgeTable('likes'))).status).toBe(200);
    expect((await call('POST', `/graph/v3/databases/${db}/aliases`, { alias: 'favs', table: 'likes', comment: '' })).status).toBe(200);
  });

  it('an inactive table, alias or database answers 400 and applies nothing; reactivated, it serves again', async () => {
    expect((await call('POST', edges, mutation)).status).toBe(200);
    expect((await call('PUT', `/graph/v3/databases/${db}/tables/likes`, { active: false })).status).toBe(400); // an active alias points at it
    expect((await call('PUT', `/graph/v3/databases/${db}/aliases/favs`, { active: false })).status).toBe(200);
    const viaAlias = await call('POST', `/graph/v3/databases/${db}/tables/favs/edges`, mutation);
    expect(viaAlias.status).toBe(400);
    expect(viaAlias.body.message).toContain('inactive');

    expect((await call('PUT', `/graph/v3/databases/${db}/tables/likes`, { active: false })).status).toBe(200);
    const write = await call('POST', edges, { mutations: [{ type: 'INSERT', edge: { version: 2, source: 'a', target: 'c', properties: {} } }] });
    expect(write.status).toBe(400);
    expect(write.body.message).toContain('inactive');
    expect((await call('GET', `${edges}/count?start=a&direction=OUT`)).status).toBe(400);

    expect((await call('PUT', `/graph/v3/databases/${db}`, { active: false })).status).toBe(200);
    expect((await call('PUT', `/graph/v3/databases/${db}/tables/likes`, { active: true })).status).toBe(200);
    expect((await call('GET', `${edges}/count?start=a&direction=OUT`)).status).toBe(400); // the database is still inactive
    expect((await call('PUT', `/graph/v3/databases/${db}`, { active: true })).status).toBe(200);
    expect((await call('GET', `${edges}/count?start=a&direction=OUT`)).body.count).toBe(1); // the refused write left nothing
  });
});

describe('v2 API keeps working beside v3', () => {
  it('a label created through v2 is a v3 table, and a v3 table is a v2 label', async () => {
    expect((await call('POST', '/graph/v2/service/v2svc', { desc: 'v2 service' })).status).toBe(200);
    const label = await call('POST', '/graph/v2/service/v2svc/label/v2label', {
      desc: 'v2 label',
      type: 'INDEXED',
      schema: { src: { type: 'STRING' }, tgt: { type: 'LONG' }, fields: [{ name: 'ts', type: 'LONG', nullable: false }] },
      dirType: 'OUT',
      indices: [{ name: 'by_ts', fields: [{ name: 'ts', order: 'DESC' }] }],
    });
    expect(label).toMatchObject({ status: 200, body: { status: 'CREATED', result: { name: 'v2svc.v2label' } } });
    const v3 = await call('GET', '/graph/v3/databases/v2svc/tables/v2label');
    expect(v3.body).toMatchObject({
      type: 'edge',
      schema: { source: { type: 'string' }, target: { type: 'long' }, properties: [{ name: 'ts', type: 'long', nullable: false }], direction: 'OUT', indexes: [{ index: 'by_ts', fields: [{ field: 'ts', order: 'DESC' }] }] },
    });
    expect((await call('POST', '/graph/v3/databases/v2svc/tables', edgeTable('v3table'))).status).toBe(200);
    expect((await call('GET', '/graph/v2/service/v2svc/label/v3table')).body).toMatchObject({ name: 'v2svc.v3table', type: 'INDEXED', dirType: 'OUT', schema: { src: { type: 'STRING' } } });
    expect((await call('POST', '/graph/v2/service/bad.name', { desc: '' })).status).toBe(400);
  });
});
