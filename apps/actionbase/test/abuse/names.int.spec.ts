/**
 * Names under abuse (issue: names in the path were not validated and `db.table` storage ids collided).
 * Every name, from the path or the body, must follow Actionbase's rule; storage must never be reachable
 * through a name. After each rejected request: nothing in the catalog, no edge, no WAL or CDC record.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, dataRecords, startCoreOnFreshTopics } from '@pipeline/testing';

let bootstrap: string;
let core: CoreProcess;
let wal: string;
let cdc: string;

/** Data records of a topic (heartbeats left out). */
const records = (topic: string) => dataRecords(bootstrap, topic);
const call = (method: string, path: string, body?: unknown) => api(core.url, method, path, body);

const table = (name: string) => ({
  table: name,
  schema: {
    type: 'EDGE',
    source: { type: 'string', comment: '' },
    target: { type: 'string', comment: '' },
    properties: [{ name: 'ts', type: 'long', comment: '', nullable: true }],
    direction: 'BOTH',
    indexes: [{ index: 'by_ts', fields: [{ field: 'ts', order: 'DESC' }] }],
  },
  storage: 'datastore://abuse/names',
  comment: '',
});
const insert = (source: string, target: string, version: number) => ({ mutations: [{ type: 'INSERT', edge: { version, source, target, properties: { ts: version } } }] });

const HOSTILE = ["x'; DROP TABLE meta_table;--", '../etc', 'coll.x', 'x.y', ' padded', 'a/b', '1starts-with-digit', '_under', 'a'.repeat(65), '', 'ünï', 'a b'];

beforeAll(async () => {
  bootstrap = (await ensureKafka()).bootstrap;
  ({ core, wal, cdc } = await startCoreOnFreshTopics(bootstrap, 'abuse-names'));
  expect((await call('POST', '/graph/v3/databases', { database: 'coll', comment: '' })).status).toBe(200);
  expect((await call('POST', '/graph/v3/databases/coll/tables', table('x'))).status).toBe(200);
});
afterAll(async () => core?.stop());

async function expectNothingChanged(): Promise<void> {
  expect((await call('GET', '/graph/v3/databases?status=ALL')).body.map((d: any) => d.database)).toEqual(['coll']);
  expect((await call('GET', '/graph/v3/databases/coll/tables?status=ALL')).body.map((t: any) => t.table)).toEqual(['x']);
  expect((await call('GET', '/graph/v3/databases/coll/aliases?status=ALL')).body).toEqual([]);
  expect(await records(wal)).toHaveLength(0);
  expect(await records(cdc)).toHaveLength(0);
}

describe('one name rule for every name, from path or body', () => {
  it('the collision of the report: coll.x / x.y are refused in the body and in the path, reads and writes included', async () => {
    const db = await call('POST', '/graph/v3/databases', { database: 'coll.x', comment: '' });
    expect([db.status, db.body.field]).toEqual([400, 'database']);
    const t = await call('POST', '/graph/v3/databases/coll/tables', table('x.y'));
    expect([t.status, t.body.field]).toEqual([400, 'table']);
    const write = await call('POST', '/graph/v3/databases/coll.x/tables/y/edges', insert('a', 'b', 1));
    expect([write.status, write.body.field]).toEqual([400, 'database']);
    const read = await call('GET', '/graph/v3/databases/coll/tables/x.y/edges/get?source=a&target=b');
    expect([read.status, read.body.field]).toEqual([400, 'table']);
    const put = await call('PUT', '/graph/v3/databases/coll.x/tables/y', { comment: 'overwrite' });
    expect(put.status).toBe(400);
    await expectNothingChanged();
  });

  it.each(HOSTILE.map((n) => [n]))('name %j is refused wherever it appears, and changes nothing', async (name) => {
    const enc = encodeURIComponent(name);
    const attempts: [string, string, unknown][] = [
      ['POST', '/graph/v3/databases', { database: name, comment: '' }],
      ['POST', '/graph/v3/databases/coll/tables', table(name)],
      ['POST', '/graph/v3/databases/coll/aliases', { alias: name, table: 'x', comment: '' }],
      ['POST', '/graph/v3/databases/coll/aliases', { alias: 'ok', table: name, comment: '' }],
      ['PUT', `/graph/v3/databases/${enc}`, { comment: '' }],
      ['PUT', `/graph/v3/databases/coll/tables/${enc}`, { comment: '' }],
      ['PUT', '/graph/v3/databases/coll/aliases/ok', { table: name }],
      ['POST', `/graph/v3/databases/${enc}/tables/x/edges`, insert('a', 'b', 1)],
      ['POST', `/graph/v3/databases/coll/tables/${enc}/edges`, insert('a', 'b', 1)],
      ['POST', `/graph/v2/service/${enc}`, { desc: '' }],
      ['POST', `/graph/v2/service/coll/label/${enc}`, { schema: { src: { type: 'STRING' }, tgt: { type: 'STRING' } } }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await call(method, path, body);
      // An empty or slash-containing name may not reach a route at all (404): also a refusal.
      expect([method, path, r.status]).toEqual([method, path, name === '' || name.includes('/') ? expect.any(Number) : 400]);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    await expectNothingChanged();
  });

  it('the name rule is a 400 naming the field even on GET and DELETE', async () => {
    for (const path of ['/graph/v3/databases/db.x', '/graph/v3/databases/coll/tables/x.y', '/graph/v3/databases/coll/aliases/a.b']) {
      expect((await call('GET', path)).status).toBe(400);
      expect((await call('DELETE', path)).status).toBe(400);
    }
    await expectNothingChanged();
  });
});

describe('storage keys cannot collide whatever the names', () => {
  it('tables of the same name in two databases never share rows; storage is keyed by tablespace numbers', async () => {
    expect((await call('POST', '/graph/v3/databases', { database: 'other', comment: '' })).status).toBe(200);
    expect((await call('POST', '/graph/v3/databases/other/tables', table('x'))).status).toBe(200);
    expect((await call('POST', '/graph/v3/databases/coll/tables/x/edges', insert('a', 'b', 1))).status).toBe(200);
    expect((await call('POST', '/graph/v3/databases/other/tables/x/edges', insert('a', 'c', 2))).status).toBe(200);
    const got = async (db: string) => (await call('GET', `/graph/v3/databases/${db}/tables/x/edges/get?source=a&target=b,c`)).body.edges.map((e: any) => e.target);
    expect(await got('coll')).toEqual(['b']);
    expect(await got('other')).toEqual(['c']);
    // storage keys are catalog-assigned numbers, not names
    const sqlite = new Database(core.env.STORAGE_PATH!, { readonly: true, fileMustExist: true });
    try {
      const tablespaces = (sqlite.prepare('SELECT DISTINCT tbl FROM edge_state').all() as { tbl: string }[]).map((r) => r.tbl);
      expect(tablespaces).toHaveLength(2);
      for (const t of tablespaces) expect(t).toMatch(/^\d+$/);
    } finally {
      sqlite.close();
    }
  });

  it('a storage file written with name-keyed rows is moved to tablespaces at start, and its edges stay readable', async () => {
    const db = await call('POST', '/graph/v3/databases', { database: 'legacy', comment: '' });
    expect(db.status).toBe(200);
    expect((await call('POST', '/graph/v3/databases/legacy/tables', table('t'))).status).toBe(200);
    expect((await call('POST', '/graph/v3/databases/legacy/tables/t/edges', insert('s', 'u', 5))).status).toBe(200);
    await core.stop();
    // Rewrite the file as an earlier core left it: rows keyed `legacy.t`, no tablespace in the definition.
    const sqlite = new Database(core.env.STORAGE_PATH!);
    try {
      const row = sqlite.prepare("SELECT def FROM meta_table WHERE db = 'legacy' AND name = 't'").get() as { def: string };
      const def = JSON.parse(row.def) as { tid: number };
      const tid = String(def.tid);
      delete (def as { tid?: number }).tid;
      sqlite.prepare("UPDATE meta_table SET def = ? WHERE db = 'legacy' AND name = 't'").run(JSON.stringify(def));
      for (const t of ['edge_state', 'edge_index', 'edge_count']) sqlite.prepare(`UPDATE ${t} SET tbl = 'legacy.t' WHERE tbl = ?`).run(tid);
    } finally {
      sqlite.close();
    }
    await core.start();
    const got = await call('GET', '/graph/v3/databases/legacy/tables/t/edges/get?source=s&target=u');
    expect(got.body.edges.map((e: any) => e.target)).toEqual(['u']);
    expect((await call('GET', '/graph/v3/databases/legacy/tables/t/edges/scan/by_ts?start=s&direction=OUT')).body.edges).toHaveLength(1);
    expect((await call('GET', '/graph/v3/databases/legacy/tables/t/edges/count?start=u&direction=IN')).body.count).toBe(1);
    const check = new Database(core.env.STORAGE_PATH!, { readonly: true, fileMustExist: true });
    try {
      expect(check.prepare("SELECT count(*) AS n FROM edge_state WHERE tbl = 'legacy.t'").get()).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });
});
