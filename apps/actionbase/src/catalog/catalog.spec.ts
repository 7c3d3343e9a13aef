import { describe, expect, it } from '@jest/globals';
import { SqliteEdgeStore } from '../storage/sqlite-store';
import { Catalog, type TableSpec } from './catalog';
import { checkName } from './names';
import { isActionbaseTableBody, parseBody, schemaFromV3, tableDescriptor, V3TableCreate } from './schema-bodies';

const spec = (over: Partial<TableSpec> = {}): TableSpec => ({
  kind: 'EDGE',
  source: { type: 'STRING', comment: '' },
  target: { type: 'STRING', comment: '' },
  fields: [{ name: 'ts', type: 'LONG', nullable: true, comment: '' }],
  directionType: 'BOTH',
  indexes: [{ name: 'by_ts', fields: [{ name: 'ts', order: 'ASC' }] }],
  mode: 'SYNC',
  comment: '',
  storage: 'datastore://unit/t',
  readOnly: false,
  event: false,
  ...over,
});

async function fresh(): Promise<{ store: SqliteEdgeStore; catalog: Catalog }> {
  const store = new SqliteEdgeStore(':memory:');
  const catalog = await Catalog.open(store, 'tenant-1', () => 1_700_000_000_000);
  await catalog.createDatabase('db', { comment: '' }, 'tester');
  return { store, catalog };
}

describe('names', () => {
  it.each(['a', 'A1', 'a-b_c', 'x'.repeat(64)])('accepts %j', (n) => expect(checkName(n, 'table')).toBe(n));
  it.each(['', '1a', '_a', '-a', 'a.b', 'a/b', 'a b', "a'", 'x'.repeat(65), 'é'])('refuses %j with a 400 naming the field', (n) => {
    expect(() => checkName(n, 'table', 'schema.table')).toThrow(expect.objectContaining({ status: 400, field: 'schema.table' }));
  });
});

describe('Catalog', () => {
  it('assigns every table a tablespace never handed out before, also across delete and create', async () => {
    const { catalog } = await fresh();
    const a = await catalog.createTable('db', 'a', spec(), 'tester');
    const b = await catalog.createTable('db', 'b', spec(), 'tester');
    await catalog.updateTable('db', 'a', { active: false }, 'tester');
    await catalog.deleteTable('db', 'a');
    const again = await catalog.createTable('db', 'a', spec(), 'tester');
    expect(new Set([a.tid, b.tid, again.tid]).size).toBe(3);
    expect(catalog.resolve('db', 'a').id).toBe(`db.a#${again.tid}`);
  });

  it('keeps the audit: revision from 1, author and times', async () => {
    const { catalog } = await fresh();
    const t = await catalog.createTable('db', 't', spec(), 'alice');
    expect(t.audit).toEqual({ revision: 1, createdAt: 1_700_000_000_000, createdBy: 'alice', updatedAt: 1_700_000_000_000, updatedBy: 'alice' });
    expect((await catalog.updateTable('db', 't', { comment: 'x' }, 'bob')).audit).toMatchObject({ revision: 2, createdBy: 'alice', updatedBy: 'bob' });
  });

  it('refuses to resolve inactive entries and names outside the rule; 404 for unknown ones', async () => {
    const { catalog } = await fresh();
    await catalog.createTable('db', 't', spec(), 'x');
    expect(() => catalog.resolve('db', 't.x')).toThrow(expect.objectContaining({ status: 400, field: 'table' }));
    expect(() => catalog.resolve('d.b', 't')).toThrow(expect.objectContaining({ status: 400, field: 'database' }));
    expect(() => catalog.resolve('db', 'nope')).toThrow(expect.objectContaining({ status: 404 }));
    await catalog.updateTable('db', 't', { active: false }, 'x');
    expect(() => catalog.resolve('db', 't')).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('a database is deleted only when it and all its tables are inactive; its tables go with it', async () => {
    const { store, catalog } = await fresh();
    const t = await catalog.createTable('db', 't', spec(), 'x');
    await catalog.updateTable('db', 't', { active: false }, 'x');
    await catalog.updateDatabase('db', { active: false }, 'x');
    await catalog.updateTable('db', 't', { active: true }, 'x'); // reactivated inside the inactive database
    await expect(catalog.deleteDatabase('db')).rejects.toThrow(expect.objectContaining({ status: 400 }));
    await catalog.updateTable('db', 't', { active: false }, 'x');
    expect(await catalog.deleteDatabase('db')).toBe(true);
    expect(catalog.listTables('db')).toEqual([]);
    expect(await store.pendingPurges()).toEqual([String(t.tid)]);
    expect(await catalog.deleteDatabase('db')).toBe(false);
  });

  it('a deleted table is queued for purge and its rows are removed slice by slice', async () => {
    const { store, catalog } = await fresh();
    const t = await catalog.createTable('db', 't', spec(), 'x');
    const ts = String(t.tid);
    await store.applyMutations(ts, ['["a","b"]'], () => [
      { row: { key: '["a","b"]', source: 'a', target: 'b', state: { active: true, version: 1, createdAt: 1, deletedAt: null, properties: {} } }, counts: [{ direction: 'OUT', start: 'a', delta: 1 }], removeIndex: [], addIndex: [] },
    ]);
    await catalog.updateTable('db', 't', { active: false }, 'x');
    await catalog.deleteTable('db', 't');
    expect(await store.pendingPurges()).toEqual([ts]);
    while ((await store.purgeSome(ts, 1)) > 0);
    expect(await store.hasRows(ts)).toBe(false);
    expect(await store.count(ts, 'OUT', 'a')).toBe(0);
    expect(await store.pendingPurges()).toEqual([]);
  });

  it('schema checks: EDGE <-> MULTI_EDGE and new non-nullable properties always refused; the rest allowed on an empty table', async () => {
    const { catalog } = await fresh();
    await catalog.createTable('db', 't', spec(), 'x');
    const schema = (over: Partial<TableSpec>) => {
      const { mode: _m, comment: _c, storage: _s, readOnly: _r, event: _e, ...s } = spec(over);
      return s;
    };
    await expect(catalog.updateTable('db', 't', { schema: schema({ kind: 'MULTI_EDGE' }) }, 'x')).rejects.toThrow(expect.objectContaining({ field: 'schema.type' }));
    await expect(catalog.updateTable('db', 't', { schema: schema({ fields: [...spec().fields, { name: 'n', type: 'LONG', nullable: false, comment: '' }] }) }, 'x')).rejects.toThrow(
      expect.objectContaining({ field: 'schema.properties[1].nullable' }),
    );
    const changed = await catalog.updateTable('db', 't', { schema: schema({ source: { type: 'LONG', comment: '' }, directionType: 'OUT', fields: [{ name: 'ts', type: 'STRING', nullable: true, comment: '' }] }) }, 'x');
    expect(changed).toMatchObject({ source: { type: 'LONG' }, directionType: 'OUT' });
  });
});

describe('v3 bodies', () => {
  const body = {
    table: 'gifts',
    schema: {
      type: 'MULTI_EDGE',
      id: { type: 'long', comment: 'order' },
      source: { type: 'long', comment: '' },
      target: { type: 'string', comment: '' },
      properties: [{ name: 'amount', type: 'short', comment: '', nullable: false }],
      direction: 'OUT',
      indexes: [{ index: 'by_amount', fields: [{ field: 'amount', order: 'DESC' }] }],
    },
    storage: 'datastore://ns/gifts',
    mode: 'DROP',
    comment: 'c',
  };

  it('tells an Actionbase body from the earlier one by a typed schema', () => {
    expect(isActionbaseTableBody(body)).toBe(true);
    expect(isActionbaseTableBody({ table: 't', schema: { source: { type: 'STRING' } } })).toBe(false);
  });

  it('round-trips a multi-edge create request into the descriptor Actionbase answers', () => {
    const b = parseBody(V3TableCreate, body);
    const s = schemaFromV3(b.schema);
    expect(s).toMatchObject({ kind: 'MULTI_EDGE', source: { type: 'LONG' }, idField: { type: 'long' }, fields: [{ name: 'amount', type: 'INT', primitive: 'short' }] });
    const d = tableDescriptor({ ...s, tid: 1, database: 'db', name: 'gifts', mode: 'IGNORE', comment: 'c', storage: b.storage, active: true, readOnly: false, event: false }, 't');
    expect(d).toMatchObject({
      type: 'multiEdge',
      tenant: 't',
      mode: 'DROP',
      revision: -1,
      schema: { type: 'multiEdge', id: { type: 'long', comment: 'order' }, source: { type: 'long' }, target: { type: 'string' }, properties: [{ name: 'amount', type: 'short' }], direction: 'OUT', groups: [], caches: [] },
    });
  });

  it('names the unknown or malformed field', () => {
    const field = (b: unknown) => {
      try {
        parseBody(V3TableCreate, b);
        return 'accepted';
      } catch (e) {
        return (e as { field?: string }).field;
      }
    };
    expect(field({ ...body, extra: 1 })).toBe('extra');
    expect(field({ ...body, schema: { ...body.schema, indexes: [{ index: 'i', fields: [{ field: 'amount', order: 'down' }] }] } })).toBe('schema.indexes[0].fields[0].order');
    expect(field({ ...body, schema: { ...body.schema, properties: [{ name: 'a', type: 'LONG', comment: '', nullable: true }] } })).toBe('schema.properties[0].type');
    expect(field({ ...body, storage: undefined })).toBe('storage');
  });
});
