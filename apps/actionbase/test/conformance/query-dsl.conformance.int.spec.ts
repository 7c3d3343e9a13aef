/**
 * Actionbase's query DSL, `POST /graph/v3/query` (QueryController, ActionbaseQuery, ActionbaseQueryExecutor,
 * NamedQueryResult): its API reference has no example of it, so the cases are the server's and engine's
 * tests carried over: ActionbaseQueryE2ETest (multi-hop SCAN → CACHE), MultiHopQuerySpec (2 and 3 hops),
 * ActionbaseQuerySpec (SELF, GET, COUNT, SCAN, "Complex Query 1") on GraphFixtures' sample edges; then the
 * vertices, post-processors and aggregators on real reads, the result shape, the limits and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreClient, queryDsl } from '@pipeline/core-api';
import { api, CoreProcess, freePort, tempStorage, waitFor } from '@pipeline/testing';

const DB1 = 'multihop-db1';
const DB2 = 'multihop-db2';
const FIX = 'test';
const longKeys = { source: { type: 'long', comment: 'source' }, target: { type: 'long', comment: 'target' } };
const created = (cache?: string) => ({
  ...longKeys,
  properties: [
    { name: 'createdAt', type: 'long', comment: 'ts', nullable: true },
    { name: 'permission', type: 'string', comment: '', nullable: true },
    { name: 'receivedFrom', type: 'string', comment: '', nullable: true },
  ],
  direction: 'BOTH',
  indexes: [
    { index: 'permission_created_at_desc', fields: [{ field: 'permission', order: 'ASC' }, { field: 'createdAt', order: 'DESC' }] },
    { index: 'created_at_desc', fields: [{ field: 'createdAt', order: 'DESC' }] },
    { index: 'created_at_asc', fields: [{ field: 'createdAt', order: 'ASC' }] },
  ],
  groups: [],
  ...(cache ? { caches: [{ cache, fields: [{ field: 'createdAt', order: 'DESC' }], limit: 100 }] } : {}),
});
const insert = (version: number, source: number, target: number, properties: Record<string, unknown>) => ({ type: 'INSERT', edge: { version, source, target, properties } });
const tablePath = (db: string, table: string) => `/graph/v3/databases/${db}/tables/${table}`;
const value = (...v: unknown[]) => ({ type: 'VALUE', value: v });
const ref = (r: string, field: string) => ({ type: 'REF', ref: r, field });

describe('Actionbase query DSL (POST /graph/v3/query)', () => {
  let core: CoreProcess;
  const query = (body: unknown) => api(core.url, 'POST', '/graph/v3/query', body);
  /** The WAL and CDC records the core wrote so far (the log sink: one JSON line each on its stdout). */
  const lines = (topic: string) => core.output.split('\n').filter((l) => l.startsWith(`{"topic":"${topic}"`)).length;
  const records = () => lines('wal') + lines('cdc');

  async function createTable(db: string, table: string, schema: Record<string, unknown>, type = 'EDGE'): Promise<void> {
    const r = await api(core.url, 'POST', `/graph/v3/databases/${db}/tables`, {
      table,
      schema: { type, ...schema },
      storage: `datastore://multihop_ns/${table}`,
      mode: 'SYNC',
      comment: table,
    });
    expect([table, r.status]).toEqual([table, 200]);
  }
  async function write(db: string, table: string, mutations: unknown[], multi = false): Promise<void> {
    const r = await api(core.url, 'POST', `${tablePath(db, table)}/${multi ? 'multi-edges' : 'edges'}`, { mutations });
    expect([table, r.status]).toEqual([table, 200]);
  }

  beforeAll(async () => {
    core = new CoreProcess({ PORT: String(await freePort()), KAFKA_BROKERS: '', STORAGE_PATH: tempStorage(), LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '3600000' });
    await core.start();
    for (const database of [DB1, DB2, FIX]) expect((await api(core.url, 'POST', '/graph/v3/databases', { database, comment: 'test db' })).status).toBe(200);
    // ActionbaseQueryE2ETest's tables and edges
    await createTable(DB1, 'follows', created());
    await createTable(DB2, 'wishlist', created('recent_wishlist'));
    await write(DB1, 'follows', [insert(1, 1000, 2000, { createdAt: 100 }), insert(1, 1000, 2001, { createdAt: 101 })]);
    await write(DB2, 'wishlist', [insert(1, 2000, 3000, { createdAt: 200 }), insert(1, 2000, 3001, { createdAt: 201 }), insert(1, 2001, 3002, { createdAt: 202 })]);
    // GraphFixtures' hbase_indexed label and sample edges (ActionbaseQuerySpec)
    await createTable(FIX, 'hbase_indexed', created());
    const perm = ['na', 'others', 'me', 'others', 'me', 'na'];
    await write(FIX, 'hbase_indexed', [
      ...perm.map((p, i) => insert(10 + i, 100, 1000 + i, { permission: p, createdAt: 10 + i })),
      ...perm.map((p, i) => insert(16 + i, 101, 1000 + i, { permission: p, createdAt: 16 + i })),
    ]);
    // MultiHopQuerySpec's 3-hop tables
    for (const [t, cache] of [
      ['follows_3hop', undefined],
      ['wishlist_3hop', 'created_at_desc'],
      ['reviews_3hop', 'created_at_desc'],
    ] as const)
      await createTable(FIX, t, created(cache));
    await write(FIX, 'follows_3hop', [insert(1, 1000, 2000, { permission: 'na', createdAt: 100 }), insert(1, 1000, 2001, { permission: 'na', createdAt: 200 })]);
    await write(FIX, 'wishlist_3hop', [insert(1, 2000, 5000, { permission: 'na', createdAt: 300 }), insert(1, 2001, 5001, { permission: 'na', createdAt: 400 })]);
    await write(FIX, 'reviews_3hop', [
      insert(1, 5000, 8000, { permission: 'na', createdAt: 500 }),
      insert(1, 5001, 8001, { permission: 'na', createdAt: 600 }),
      insert(1, 5001, 8002, { permission: 'na', createdAt: 700 }),
    ]);
    // properties to post-process and aggregate
    await createTable(FIX, 'orders', {
      source: { type: 'string', comment: '' },
      target: { type: 'string', comment: '' },
      properties: [
        { name: 'amount', type: 'long', comment: '', nullable: true },
        { name: 'category', type: 'string', comment: '', nullable: true },
        { name: 'tags', type: 'string', comment: '', nullable: true },
        { name: 'doc', type: 'string', comment: '', nullable: true },
      ],
      direction: 'BOTH',
      indexes: [{ index: 'by_amount', fields: [{ field: 'amount', order: 'DESC' }] }],
      groups: [],
    });
    await write(FIX, 'orders', [
      { type: 'INSERT', edge: { version: 1, source: 'u1', target: 'o1', properties: { amount: 10, category: 'book', tags: 'a,b', doc: '{"shop":{"city":"Seoul"},"n":1}' } } },
      { type: 'INSERT', edge: { version: 1, source: 'u1', target: 'o2', properties: { amount: 30, category: 'food', tags: 'b', doc: '{"shop":{"city":"Busan"},"n":2}' } } },
      { type: 'INSERT', edge: { version: 1, source: 'u1', target: 'o3', properties: { amount: 25, category: 'book', tags: 'b,c,,d', doc: '{"n":3}' } } },
      { type: 'INSERT', edge: { version: 1, source: 'u2', target: 'o1', properties: { amount: 5, category: 'book' } } },
    ]);
    await createTable(
      FIX,
      'payments',
      {
        id: { type: 'string', comment: 'edge id' },
        source: { type: 'string', comment: '' },
        target: { type: 'string', comment: '' },
        properties: [{ name: 'amount', type: 'long', comment: '', nullable: true }],
        direction: 'BOTH',
        indexes: [],
        groups: [],
      },
      'MULTI_EDGE',
    );
    await write(FIX, 'payments', [{ type: 'INSERT', edge: { version: 1, id: 'p1', source: 'u1', target: 'shop1', properties: { amount: 7 } } }], true);
  });
  afterAll(async () => core?.stop('SIGKILL'));

  const scanFollows = { type: 'SCAN', name: 'hop1', database: DB1, table: 'follows', source: value(1000), direction: 'OUT', index: 'created_at_desc', limit: 100, include: true };

  describe('ActionbaseQueryE2ETest', () => {
    it('multihop scan+cache query via ActionbaseQuery', async () => {
      const r = await query({
        query: [
          scanFollows,
          { type: 'CACHE', name: 'hop2', database: DB2, table: 'wishlist', source: ref('hop1', 'target'), direction: 'OUT', cache: 'recent_wishlist', limit: 10, include: true },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items).toHaveLength(2);
      expect(r.body.items.map((i: any) => [i.name, i.rows])).toEqual([
        ['hop1', 2],
        ['hop2', 3],
      ]);
    });

    it('scan-only query returns real data', async () => {
      const r = await query({ query: [{ ...scanFollows, name: 'follows_scan' }] });
      expect(r.status).toBe(200);
      expect(r.body.items).toHaveLength(1);
      expect(r.body.items[0].name).toBe('follows_scan');
      expect(r.body.items[0].data).toHaveLength(2);
    });
  });

  describe('MultiHopQuerySpec', () => {
    it('2-hop: scan → cache returns hop2 results (only included steps answer)', async () => {
      const r = await query({
        query: [
          { ...scanFollows, database: FIX, table: 'follows_3hop', include: false },
          { type: 'CACHE', name: 'hop2', database: FIX, table: 'wishlist_3hop', source: ref('hop1', 'target'), direction: 'OUT', cache: 'created_at_desc', limit: 10, include: true },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items.map((i: any) => i.name)).toEqual(['hop2']);
      expect(new Set(r.body.items[0].data.map((d: any) => d.target))).toEqual(new Set([5000, 5001]));
    });

    it('3-hop: scan → cache → cache (N-hop context chaining)', async () => {
      const cache = (name: string, table: string, from: string, include: boolean) => ({
        type: 'CACHE',
        name,
        database: FIX,
        table,
        source: ref(from, 'target'),
        direction: 'OUT',
        cache: 'created_at_desc',
        limit: 10,
        include,
      });
      const r = await query({
        query: [{ ...scanFollows, database: FIX, table: 'follows_3hop', include: false }, cache('hop2', 'wishlist_3hop', 'hop1', false), cache('hop3', 'reviews_3hop', 'hop2', true)],
      });
      expect(r.status).toBe(200);
      const hop3 = r.body.items[0];
      expect(hop3.rows).toBe(3);
      expect(new Set(hop3.data.map((d: any) => d.target))).toEqual(new Set([8000, 8001, 8002]));
      // starts in the order the earlier step found them (hop1: 2001 then 2000, createdAt DESC), each
      // start's cache in its order (createdAt DESC)
      expect(hop3.data.map((d: any) => d.createdAt)).toEqual([700, 600, 500]);
    });
  });

  describe('ActionbaseQuerySpec (GraphFixtures sample edges)', () => {
    const step = (type: string, extra: Record<string, unknown>) => ({ type, name: 'get_query_result', database: FIX, table: 'hbase_indexed', include: true, ...extra });

    it('ActionbaseQuery.Item.Self: no edge from 100 to itself', async () => {
      const r = await query({ query: [step('SELF', { source: value(100) })] });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ items: [{ name: 'get_query_result', data: [], rows: 0, stats: [], offset: null, hasNext: false }] });
    });

    it('ActionbaseQuery.Item.Get', async () => {
      const r = await query({ query: [step('GET', { source: value(100), target: value(1000, 1001) })] });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data.map((d: any) => d.permission)).toEqual(['na', 'others']);
      // a row: version, source, target, then every property of the table (null when absent)
      expect(r.body.items[0].data[0]).toEqual({ version: 10, source: 100, target: 1000, createdAt: 10, permission: 'na', receivedFrom: null });
    });

    it('ActionbaseQuery.Item.Count', async () => {
      const r = await query({ query: [step('COUNT', { source: value(100), direction: 'OUT' })] });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data).toEqual([{ source: 100, 'COUNT(1)': 6, direction: 'OUT' }]);
    });

    it('ActionbaseQuery.Item.Scan', async () => {
      const r = await query({ query: [step('SCAN', { source: value(100), direction: 'OUT', index: 'permission_created_at_desc', limit: 10 })] });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data.map((d: any) => d.permission)).toEqual(['me', 'me', 'na', 'na', 'others', 'others']);
    });

    it('Complex Query 1: OUT scan, then IN scans from its targets', async () => {
      const r = await query({
        query: [
          step('SCAN', { name: 'step1', source: value(100), direction: 'OUT', index: 'created_at_desc', limit: 10 }),
          step('SCAN', { name: 'step2', source: ref('step1', 'target'), direction: 'IN', index: 'created_at_desc', limit: 10 }),
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items.map((i: any) => i.name)).toEqual(['step1', 'step2']);
      // six targets, each reached from 100 and 101; an IN row holds its start as `source`, as Actionbase's frame
      const step2 = r.body.items[1];
      expect(step2.rows).toBe(12);
      expect(new Set(step2.data.map((d: any) => d.source))).toEqual(new Set([1000, 1001, 1002, 1003, 1004, 1005]));
      expect(new Set(step2.data.map((d: any) => d.target))).toEqual(new Set([100, 101]));
    });
  });

  describe('steps, vertices and the answer', () => {
    it('one SCAN start keeps its cursor; the next page follows from it', async () => {
      const first = await query({ query: [{ ...scanFollows, limit: 1 }] });
      expect(first.body.items[0]).toMatchObject({ rows: 1, hasNext: true, offset: expect.any(String) });
      const next = await query({ query: [{ ...scanFollows, limit: 1, offset: first.body.items[0].offset }] });
      expect(next.body.items[0]).toMatchObject({ rows: 1, hasNext: false, offset: null });
      expect([first.body.items[0].data[0].target, next.body.items[0].data[0].target]).toEqual([2001, 2000]);
    });

    it('several SCAN starts are concatenated without a cursor', async () => {
      const r = await query({ query: [{ ...scanFollows, database: FIX, table: 'hbase_indexed', source: value(100, 101), limit: 2 }] });
      expect(r.body.items[0]).toMatchObject({ rows: 4, offset: null, hasNext: false });
    });

    it('a STEP vertex runs its step inline, answered only through the field it feeds', async () => {
      const r = await query({
        query: [
          {
            type: 'COUNT',
            name: 'friends_counts',
            database: DB2,
            table: 'wishlist',
            source: { type: 'STEP', field: 'target', step: { ...scanFollows, include: true } },
            direction: 'OUT',
            include: true,
          },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items.map((i: any) => i.name)).toEqual(['friends_counts']);
      expect(r.body.items[0].data).toEqual([
        { source: 2001, 'COUNT(1)': 1, direction: 'OUT' },
        { source: 2000, 'COUNT(1)': 2, direction: 'OUT' },
      ]);
    });

    it('GET takes every source with every target; REF values are distinct', async () => {
      const r = await query({
        query: [
          { type: 'SCAN', name: 's', database: FIX, table: 'hbase_indexed', source: value(100, 101), direction: 'OUT', index: 'created_at_asc', limit: 2 },
          { type: 'GET', name: 'g', database: FIX, table: 'hbase_indexed', source: ref('s', 'source'), target: ref('s', 'target'), include: true },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data.map((d: any) => [d.source, d.target])).toEqual([
        [100, 1000],
        [100, 1001],
        [101, 1000],
        [101, 1001],
      ]);
    });

    it('an empty vertex gives an empty result, not an error', async () => {
      const r = await query({
        query: [
          { type: 'SCAN', name: 'none', database: FIX, table: 'hbase_indexed', source: value(999), direction: 'OUT', index: 'created_at_desc' },
          { type: 'COUNT', name: 'c', database: FIX, table: 'hbase_indexed', source: ref('none', 'target'), direction: 'IN', include: true },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items[0]).toMatchObject({ name: 'c', rows: 0, data: [] });
    });

    it('SELF on a multi-edge table reads multi-edges by id', async () => {
      const r = await query({ query: [{ type: 'SELF', name: 'p', database: FIX, table: 'payments', source: value('p1', 'p9'), include: true }] });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data).toEqual([{ version: 1, id: 'p1', source: 'u1', target: 'shop1', amount: 7 }]);
    });

    it('an unnamed step is answered under a generated UUID', async () => {
      const { name: _name, ...unnamed } = scanFollows;
      const r = await query({ query: [unnamed] });
      expect(r.body.items[0].name).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    });

    it('the typed client of libs/core-api reads the answer, 64-bit LONGs exact', async () => {
      // JSON.stringify cannot write 2^53 + 1: the body is written as text.
      const body = '{"mutations":[{"type":"INSERT","edge":{"version":1,"source":9007199254740993,"target":77,"properties":{"createdAt":1}}}]}';
      const w = await fetch(`${core.url}${tablePath(FIX, 'hbase_indexed')}/edges`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(w.status).toBe(200);
      const client = new CoreClient({ baseUrl: core.url, actor: 'conformance' });
      const r = await queryDsl(client, {
        query: [{ type: 'SCAN', name: 'big', database: FIX, table: 'hbase_indexed', source: { type: 'VALUE', value: [77] }, direction: 'IN', index: 'created_at_desc', include: true }],
      });
      expect(r.items[0]).toMatchObject({ name: 'big', rows: 1, stats: [], offset: null, hasNext: false });
      expect(r.items[0]!.data[0]).toEqual({ version: 1, source: 77, target: 9007199254740993n, createdAt: 1, permission: null, receivedFrom: null });
      const back = await queryDsl(client, {
        query: [{ type: 'COUNT', name: 'c', database: FIX, table: 'hbase_indexed', source: { type: 'VALUE', value: [9007199254740993n] }, direction: 'OUT', include: true }],
      });
      expect(back.items[0]!.data).toEqual([{ source: 9007199254740993n, 'COUNT(1)': 1, direction: 'OUT' }]);
    });
  });

  describe('post-processors and aggregators on real reads', () => {
    const orders = { type: 'SCAN', name: 'o', database: FIX, table: 'orders', source: value('u1', 'u2'), direction: 'OUT', index: 'by_amount', include: true };

    it('JSON_OBJECT extracts paths from a property holding JSON text', async () => {
      const r = await query({
        query: [{ ...orders, source: value('u1'), post: [{ type: 'JSON_OBJECT', field: 'doc', paths: [{ path: 'shop.city', alias: 'city', dataType: 'STRING' }, { path: 'n', alias: 'n', dataType: 'INT' }] }] }],
      });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data.map((d: any) => [d.target, d.city, d.n, 'doc' in d])).toEqual([
        ['o2', 'Busan', 2, false],
        ['o3', null, 3, false],
        ['o1', 'Seoul', 1, false],
      ]);
      expect(r.body.items[0]).toMatchObject({ offset: null, hasNext: false });
    });

    it('SPLIT_EXPLODE makes a row per part, then COUNT counts them', async () => {
      const r = await query({
        query: [
          {
            ...orders,
            post: [{ type: 'SPLIT_EXPLODE', field: 'tags', regex: ',', alias: 'tag', dataType: 'STRING' }],
            aggregators: [{ type: 'COUNT', field: 'tag', order: 'DESC', limit: 10 }],
          },
        ],
      });
      expect(r.status).toBe(200);
      // u1's tags: 'b' (o2), 'b,c,,d' (o3), 'a,b' (o1); u2's edge has none and makes no row
      expect(r.body.items[0].data).toEqual([
        { tag: 'b', count: 3 },
        { tag: 'c', count: 1 },
        { tag: 'd', count: 1 },
        { tag: 'a', count: 1 },
      ]);
    });

    it('SUM adds a value per key, FLATTEN keeps the rows', async () => {
      const r = await query({
        query: [{ ...orders, aggregators: [{ type: 'FLATTEN' }, { type: 'SUM', valueField: 'amount', keyFields: ['category'], order: 'DESC', limit: 1 }] }],
      });
      expect(r.status).toBe(200);
      expect(r.body.items[0]).toEqual({ name: 'o', data: [{ category: 'book', amount: 40 }], rows: 1, stats: [], offset: null, hasNext: false });
    });

    it('a later step reads the aggregated columns of an earlier one', async () => {
      const r = await query({
        query: [
          { ...orders, include: false, aggregators: [{ type: 'COUNT', field: 'target', order: 'DESC', limit: 1 }] },
          { type: 'COUNT', name: 'c', database: FIX, table: 'orders', source: ref('o', 'target'), direction: 'IN', include: true },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.body.items[0].data).toEqual([{ source: 'o1', 'COUNT(1)': 2, direction: 'IN' }]);
    });
  });

  describe('limits and bad input: 400 naming the field, nothing read or written', () => {
    const count = { type: 'COUNT', name: 'c', database: FIX, table: 'hbase_indexed', source: value(100), direction: 'OUT', include: true };
    const cases: [string, unknown, string, RegExp][] = [
      ['no query', {}, 'query', /required/],
      ['an unknown field', { query: [{ ...count, filters: 'x:eq:1' }] }, 'query[0].filters', /unknown field/],
      ['a lower-case step type', { query: [{ ...count, type: 'count' }] }, 'query[0].type', /expected type SELF, GET, COUNT, SCAN, CACHE/],
      ['a lower-case direction', { query: [{ ...count, direction: 'out' }] }, 'query[0].direction', /OUT or IN/],
      ['a CACHE without limit', { query: [{ ...count, type: 'CACHE', cache: 'c' }] }, 'query[0].limit', /required/],
      ['an unknown database', { query: [{ ...count, database: 'nope' }] }, '', /database nope not found/],
      ['an unknown index', { query: [{ ...count, type: 'SCAN', index: 'nope' }] }, 'query[0].index', /not found/],
      ['an unknown cache', { query: [{ ...count, type: 'CACHE', cache: 'nope', limit: 1 }] }, 'query[0].cache', /Cache not found/],
      ['a REF to no earlier step', { query: [{ ...count, source: ref('later', 'source') }] }, 'query[0].source.ref', /earlier step/],
      ['a REF to a column the step does not have', { query: [count, { ...count, name: 'd', source: ref('c', 'target') }] }, 'query[1].source.field', /not a column/],
      ['two steps of one name', { query: [count, count] }, 'query[1].name', /earlier step/],
      ['an aggregator on a missing column', { query: [{ ...count, aggregators: [{ type: 'COUNT', field: 'nope', order: 'ASC', limit: 1 }] }] }, 'query[0].aggregators[0].field', /not a column/],
      ['a key of the wrong type', { query: [{ ...count, source: value('abc') }] }, 'query[0].source', /LONG/],
      ['a GET on a multi-edge table', { query: [{ ...count, type: 'GET', table: 'payments', direction: undefined, target: value('x') }] }, 'query[0].type', /SELF/],
      ['a backreference', { query: [{ ...count, post: [{ type: 'SPLIT_EXPLODE', field: 'source', regex: '(a)\\1', alias: 'x', dataType: 'STRING' }] }] }, 'query[0].post[0].regex', /linear time/],
      ['more rows than the limit (sources × limit)', { query: [{ ...scanFollows, source: value(...Array.from({ length: 11 }, (_, i) => i)), limit: 1000 }] }, 'query[0].limit', /limit rows/],
      ['a VALUE of more than 1,000 values', { query: [{ ...count, source: value(...Array.from({ length: 1001 }, (_, i) => i)) }] }, 'query[0].source.value', /limit vertexValues/],
      ['a SCAN limit above 1,000', { query: [{ ...scanFollows, limit: 1001 }] }, 'query[0].limit', /at most 1000/],
    ];
    // Every write so far was one record per key: once each WAL record has its CDC record, the relay is idle.
    beforeAll(async () => {
      await waitFor('the CDC relay to catch up', async () => lines('wal') > 0 && lines('wal') === lines('cdc'));
    });
    it.each(cases)('%s', async (_what, body, field, message) => {
      const before = records();
      const r = await query(body);
      const status = field === '' ? 404 : 400;
      expect([r.status, r.body.field ?? '']).toEqual([status, field]);
      expect(r.body).toMatchObject({ status, error: status === 400 ? 'Bad Request' : 'Not Found', timestamp: expect.any(Number), message: expect.stringMatching(message) });
      expect(records()).toBe(before);
    });

    it('more than 16 steps, nested ones counted', async () => {
      let source: unknown = value(100);
      for (let i = 0; i < 16; i++) source = { type: 'STEP', field: 'source', step: { ...count, source } };
      const r = await query({ query: [{ ...count, source }] });
      expect([r.status, r.body.field]).toEqual([400, 'query[0].source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step.source.step']);
      expect(r.body.message).toMatch(/limit steps/);
    });

    it('a query reads nothing it was not asked to and writes nothing', async () => {
      const before = records();
      const r = await query({ query: [scanFollows] });
      expect(r.status).toBe(200);
      expect(records()).toBe(before);
    });
  });
});
