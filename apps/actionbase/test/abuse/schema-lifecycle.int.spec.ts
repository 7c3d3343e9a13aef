/**
 * Deleting and changing tables under abuse (issue: deleted tables kept their data; a PUT changed the
 * schema under the data). A deleted table's rows must never come back, and a schema change must either
 * rebuild what it affects or be refused with a 400 naming what would break. After each refused request:
 * the definition, the answers and the WAL/CDC output are as before.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, dataRecords, startCoreOnFreshTopics, waitFor } from '@pipeline/testing';

let bootstrap: string;
let core: CoreProcess;
let wal: string;
let cdc: string;

/** Data records of a topic (heartbeats left out). */
const records = (topic: string) => dataRecords(bootstrap, topic);
const call = (method: string, path: string, body?: unknown) => api(core.url, method, path, body);

type Prop = { name: string; type: string; comment: string; nullable: boolean };
const schema = (over: Record<string, unknown> = {}) => ({
  type: 'EDGE',
  source: { type: 'string', comment: '' },
  target: { type: 'long', comment: '' },
  properties: [
    { name: 'ts', type: 'long', comment: '', nullable: false },
    { name: 'score', type: 'long', comment: '', nullable: true },
  ] as Prop[],
  direction: 'BOTH',
  indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'ASC' }] }],
  ...over,
});
const create = (db: string, table: string, over: Record<string, unknown> = {}) =>
  call('POST', `/graph/v3/databases/${db}/tables`, { table, schema: schema(over), storage: 'datastore://abuse/schema', comment: '' });
const edges = (db: string, table: string) => `/graph/v3/databases/${db}/tables/${table}/edges`;
const insert = (source: string, target: number, ts: number, score = ts) => ({ type: 'INSERT', edge: { version: ts, source, target, properties: { ts, score } } });
const scanTargets = async (db: string, table: string, index: string, q = '') =>
  (await call('GET', `${edges(db, table)}/scan/${index}?start=u1&direction=OUT&limit=100${q}`)).body.edges.map((e: any) => e.target);

beforeAll(async () => {
  bootstrap = (await ensureKafka()).bootstrap;
  ({ core, wal, cdc } = await startCoreOnFreshTopics(bootstrap, 'abuse-schema'));
  expect((await call('POST', '/graph/v3/databases', { database: 'shop', comment: '' })).status).toBe(200);
});
afterAll(async () => core?.stop());

describe('deletion removes a table and its data', () => {
  it('delete, recreate with another index: no old edge, count or index row comes back, and old rows are purged', async () => {
    expect((await create('shop', 'likes')).status).toBe(200);
    expect((await call('POST', edges('shop', 'likes'), { mutations: [insert('u1', 1, 100), insert('u1', 2, 200), insert('u1', 3, 300)] })).status).toBe(200);
    const oldTid = (await sqliteRows()).map((r) => r.tbl)[0];

    const refused = await call('DELETE', '/graph/v3/databases/shop/tables/likes'); // still active
    expect(refused.status).toBe(400);
    expect((await call('GET', `${edges('shop', 'likes')}/count?start=u1&direction=OUT`)).body.count).toBe(3);

    expect((await call('PUT', '/graph/v3/databases/shop/tables/likes', { active: false })).status).toBe(200);
    expect((await call('DELETE', '/graph/v3/databases/shop/tables/likes')).status).toBe(204);
    expect((await create('shop', 'likes', { indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'DESC' }] }, { index: 'top', fields: [{ field: 'score', order: 'DESC' }] }] })).status).toBe(200);

    expect((await call('GET', `${edges('shop', 'likes')}/get?source=u1&target=1,2,3`)).body.edges).toEqual([]);
    expect((await call('GET', `${edges('shop', 'likes')}/count?start=u1&direction=OUT`)).body.count).toBe(0);
    expect((await call('GET', `${edges('shop', 'likes')}/count?start=2&direction=IN`)).body.count).toBe(0);
    expect(await scanTargets('shop', 'likes', 'recent')).toEqual([]);
    expect(await scanTargets('shop', 'likes', 'top')).toEqual([]);

    expect((await call('POST', edges('shop', 'likes'), { mutations: [insert('u1', 9, 50), insert('u1', 8, 60)] })).status).toBe(200);
    expect(await scanTargets('shop', 'likes', 'recent')).toEqual([8, 9]);
    expect(await scanTargets('shop', 'likes', 'recent', '&ranges=ts:gte:0')).toEqual([8, 9]);
    expect((await call('GET', `${edges('shop', 'likes')}/count?start=u1&direction=OUT`)).body.count).toBe(2);

    await waitFor('the old rows purged', async () => (await sqliteRows(oldTid)).length === 0 && (await sqliteCount('edge_index', oldTid)) === 0 && (await sqliteCount('edge_count', oldTid)) === 0);
  });

  it('delete a deactivated database: its tables go with it, and a recreated one starts empty', async () => {
    expect((await call('POST', '/graph/v3/databases', { database: 'tmp', comment: '' })).status).toBe(200);
    expect((await create('tmp', 'follows')).status).toBe(200);
    expect((await call('POST', edges('tmp', 'follows'), { mutations: [insert('u1', 1, 1)] })).status).toBe(200);
    expect((await call('PUT', '/graph/v3/databases/tmp', { active: false })).status).toBe(400); // an active table
    expect((await call('DELETE', '/graph/v3/databases/tmp')).status).toBe(400); // active
    expect((await call('PUT', '/graph/v3/databases/tmp/tables/follows', { active: false })).status).toBe(200);
    expect((await call('PUT', '/graph/v3/databases/tmp', { active: false })).status).toBe(200);
    expect((await call('DELETE', '/graph/v3/databases/tmp')).status).toBe(204);
    expect((await call('GET', '/graph/v3/databases/tmp/tables/follows')).status).toBe(404);
    expect((await call('POST', '/graph/v3/databases', { database: 'tmp', comment: '' })).status).toBe(200);
    expect((await create('tmp', 'follows')).status).toBe(200);
    expect((await call('GET', `${edges('tmp', 'follows')}/count?start=u1&direction=OUT`)).body.count).toBe(0);
  });
});

describe('PUT on a populated table: rebuilt or refused, never wrong answers', () => {
  const base = '/graph/v3/databases/shop/tables/pop';
  let walBefore = 0;
  let cdcBefore = 0;

  beforeAll(async () => {
    expect((await create('shop', 'pop')).status).toBe(200);
    const r = await call('POST', edges('shop', 'pop'), { mutations: [insert('u1', 1, 300, 5), insert('u1', 2, 100, 7), insert('u1', 3, 200, 6)] });
    expect(r.status).toBe(200);
    await waitFor('CDC of the writes', async () => (await records(cdc)).length >= 9);
  });

  const snapshot = async () => ({
    def: (await call('GET', base)).body,
    scan: await scanTargets('shop', 'pop', 'recent'),
    ranged: await scanTargets('shop', 'pop', 'recent', '&ranges=ts:gte:200'),
    count: (await call('GET', `${edges('shop', 'pop')}/count?start=u1&direction=OUT`)).body.count,
    get: (await call('GET', `${edges('shop', 'pop')}/get?source=u1&target=1,2,3`)).body.edges.length,
  });

  it.each([
    ['a property LONG -> STRING', { properties: [{ name: 'ts', type: 'string', comment: '', nullable: false }, { name: 'score', type: 'long', comment: '', nullable: true }] }, 'schema.properties[0].type'],
    ['the source STRING -> LONG', { source: { type: 'long', comment: '' } }, 'schema.source.type'],
    ['the target LONG -> STRING', { target: { type: 'string', comment: '' } }, 'schema.target.type'],
    ['EDGE -> MULTI_EDGE', { type: 'MULTI_EDGE', id: { type: 'long', comment: '' } }, 'schema.type'],
    ['the direction BOTH -> OUT', { direction: 'OUT' }, 'schema.direction'],
    ['a property removed', { properties: [{ name: 'ts', type: 'long', comment: '', nullable: false }] }, 'schema.properties'],
    ['a new non-nullable property', { properties: [...schema().properties, { name: 'must', type: 'long', comment: '', nullable: false }] }, 'schema.properties[2].nullable'],
    ['an index on an unknown field', { indexes: [{ index: 'recent', fields: [{ field: 'nope', order: 'ASC' }] }] }, 'schema.indexes[0].fields[0].field'],
  ])('refuses %s with a 400 naming the field, and changes nothing', async (_, over, field) => {
    const before = await snapshot();
    walBefore = (await records(wal)).length;
    cdcBefore = (await records(cdc)).length;
    const r = await call('PUT', base, { schema: schema(over) });
    expect([r.status, r.body.field]).toEqual([400, field]);
    expect(r.body.message).toContain(field);
    expect(await snapshot()).toEqual(before);
    expect((await records(wal)).length).toBe(walBefore);
    expect((await records(cdc)).length).toBe(cdcBefore);
  });

  it('an index flipped ASC -> DESC is rebuilt from the rows: scans and ranges answer in the new order at once', async () => {
    expect(await scanTargets('shop', 'pop', 'recent')).toEqual([2, 3, 1]);
    const r = await call('PUT', base, { schema: schema({ indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'DESC' }] }] }) });
    expect(r.status).toBe(200);
    expect(r.body.schema.indexes[0].fields).toEqual([{ field: 'ts', order: 'DESC' }]);
    expect(await scanTargets('shop', 'pop', 'recent')).toEqual([1, 3, 2]);
    expect(await scanTargets('shop', 'pop', 'recent', '&ranges=ts:gte:200')).toEqual([1, 3]);
    expect(await scanTargets('shop', 'pop', 'recent', '&ranges=ts:lt:300')).toEqual([3, 2]);
  });

  it('a new index is built from the existing rows, and kept by later writes', async () => {
    const r = await call('PUT', base, {
      schema: schema({ indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'DESC' }] }, { index: 'top', fields: [{ field: 'score', order: 'DESC' }] }] }),
    });
    expect(r.status).toBe(200);
    expect(await scanTargets('shop', 'pop', 'top')).toEqual([2, 3, 1]);
    expect((await call('GET', `${edges('shop', 'pop')}/scan/top?start=3&direction=IN`)).body.edges.map((e: any) => e.source)).toEqual(['u1']);
    expect((await call('POST', edges('shop', 'pop'), { mutations: [insert('u1', 4, 400, 9)] })).status).toBe(200);
    expect(await scanTargets('shop', 'pop', 'top')).toEqual([4, 2, 3, 1]);
    // dropping an index removes its rows: re-adding it later rebuilds it, no stale entries
    expect((await call('PUT', base, { schema: schema({ indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'DESC' }] }] }) })).status).toBe(200);
    expect((await call('GET', `${edges('shop', 'pop')}/scan/top?start=u1&direction=OUT`)).status).toBe(404);
    expect(await sqliteCount('edge_index', await tidOf('pop'), "idx = 'top'")).toBe(0);
  });

  it('a nullable property may be added; the definition changes and the rows answer as before', async () => {
    const props = [...schema().properties, { name: 'note', type: 'string', comment: 'added', nullable: true }];
    const r = await call('PUT', base, { schema: schema({ properties: props, indexes: [{ index: 'recent', fields: [{ field: 'ts', order: 'DESC' }] }] }) });
    expect(r.status).toBe(200);
    expect(r.body.schema.properties).toEqual(props);
    expect(await scanTargets('shop', 'pop', 'recent')).toEqual([4, 1, 3, 2]);
  });

  it('on an empty table the same changes are allowed', async () => {
    expect((await create('shop', 'empty')).status).toBe(200);
    const r = await call('PUT', '/graph/v3/databases/shop/tables/empty', {
      schema: schema({ source: { type: 'long', comment: '' }, direction: 'OUT', properties: [{ name: 'ts', type: 'string', comment: '', nullable: false }] }),
    });
    expect(r.status).toBe(200);
    expect(r.body.schema).toMatchObject({ source: { type: 'long' }, direction: 'OUT', properties: [{ name: 'ts', type: 'string' }] });
    // but never EDGE <-> MULTI_EDGE
    expect((await call('PUT', '/graph/v3/databases/shop/tables/empty', { schema: schema({ type: 'MULTI_EDGE', id: { type: 'long', comment: '' } }) })).body.field).toBe('schema.type');
  });
});

async function tidOf(table: string): Promise<string> {
  const db = new Database(core.env.STORAGE_PATH!, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT def FROM meta_table WHERE db = 'shop' AND name = ?").get(table) as { def: string };
    return String((JSON.parse(row.def) as { tid: number }).tid);
  } finally {
    db.close();
  }
}
async function sqliteRows(tbl?: string): Promise<{ tbl: string }[]> {
  const db = new Database(core.env.STORAGE_PATH!, { readonly: true, fileMustExist: true });
  try {
    return (tbl === undefined ? db.prepare('SELECT tbl FROM edge_state').all() : db.prepare('SELECT tbl FROM edge_state WHERE tbl = ?').all(tbl)) as { tbl: string }[];
  } finally {
    db.close();
  }
}
async function sqliteCount(table: string, tbl: string | undefined, where = '1'): Promise<number> {
  const db = new Database(core.env.STORAGE_PATH!, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE tbl = ? AND ${where}`).get(tbl) as { n: number }).n;
  } finally {
    db.close();
  }
}
