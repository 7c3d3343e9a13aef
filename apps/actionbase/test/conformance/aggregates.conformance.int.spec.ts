/**
 * Caches (`edges/seek/{cache}`) and groups (`edges/agg/{group}`) as Actionbase's server answers them:
 * the cases of its server tests EdgeCacheQueryE2ETest, EdgeAggQueryE2ETest and
 * EdgeAggCountSentinelE2ETest (server/src/test/kotlin/.../api/graph/v3/), carried over with their data,
 * then what the engine does where they are silent (V2BackedTableBinding.agg, HBaseIndexedLabel.cache).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, CoreProcess, freePort, tempStorage } from '@pipeline/testing';

const DB = 'test-db';
const T = (table: string) => `/graph/v3/databases/${DB}/tables/${table}`;
const DATE_BUCKET = { type: 'date', name: 'day', unit: 'MILLISECOND', timezone: '+00:00', format: 'yyyy-MM-dd' };
/** 2024-01-01 00:00:00 UTC */
const TS = 1704067200000;

describe('caches and groups (Actionbase server tests)', () => {
  let core: CoreProcess;
  const call = (method: string, p: string, body?: unknown) => api(core.url, method, p, body);
  const ok = async (method: string, p: string, body?: unknown) => {
    const r = await call(method, p, body);
    if (r.status !== 200) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const table = (name: string, schema: Record<string, unknown>) =>
    ok('POST', `/graph/v3/databases/${DB}/tables`, { table: name, schema, storage: `datastore://test_namespace/${name.replace(/-/g, '_')}`, mode: 'SYNC', comment: 'test' });

  // EdgeCacheQueryE2ETest's table; a test adds a second cache to it.
  const recentWishlist = { cache: 'recent_wishlist', fields: [{ field: 'createdAt', order: 'DESC' }], limit: 100 };
  const wishlist = (caches: unknown[]) => ({
    type: 'EDGE',
    source: { type: 'long', comment: 'src' },
    target: { type: 'long', comment: 'tgt' },
    properties: [{ name: 'createdAt', type: 'long', comment: 'ts', nullable: true }],
    direction: 'BOTH',
    indexes: [],
    groups: [],
    caches,
  });

  beforeAll(async () => {
    core = new CoreProcess({ PORT: String(await freePort()), KAFKA_BROKERS: '', STORAGE_PATH: tempStorage(), LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '3600000' });
    await core.start();
    await ok('POST', '/graph/v3/databases', { database: DB, comment: 'test db' });
    // EdgeCacheQueryE2ETest
    await table('wishlist', wishlist([recentWishlist]));
    await ok('POST', `${T('wishlist')}/edges`, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, source: 1000, target: 2000, properties: { createdAt: 100 } } },
        { type: 'INSERT', edge: { version: 1, source: 1000, target: 2001, properties: { createdAt: 101 } } },
      ],
    });
    await table('orders', {
      type: 'MULTI_EDGE',
      id: { type: 'long', comment: 'order id' },
      source: { type: 'long', comment: 'buyer' },
      target: { type: 'long', comment: 'seller' },
      properties: [{ name: 'paidAt', type: 'long', comment: 'payment time', nullable: false }],
      direction: 'BOTH',
      indexes: [],
      groups: [],
      caches: [{ cache: 'paid_at_desc', fields: [{ field: 'paidAt', order: 'DESC' }], limit: 100 }],
    });
    await ok('POST', `${T('orders')}/multi-edges`, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, id: 100, source: 1000, target: 2000, properties: { paidAt: 300 } } },
        { type: 'INSERT', edge: { version: 1, id: 101, source: 1000, target: 2000, properties: { paidAt: 200 } } },
      ],
    });
    // EdgeAggQueryE2ETest
    await table('agg-test-table', {
      type: 'EDGE',
      source: { type: 'long', comment: 'source' },
      target: { type: 'long', comment: 'target' },
      properties: [
        { name: 'permission', type: 'string', comment: 'perm', nullable: false },
        { name: 'categoryId', type: 'long', comment: 'category', nullable: false },
        { name: 'createdAt', type: 'long', comment: 'ts', nullable: false },
      ],
      direction: 'BOTH',
      indexes: [{ index: 'created_at_desc', fields: [{ field: 'createdAt', order: 'DESC' }] }],
      groups: [
        { group: 'count_by_day', type: 'COUNT', fields: [{ name: 'createdAt', bucket: DATE_BUCKET }] },
        { group: 'count_by_permission_day', type: 'COUNT', fields: [{ name: 'permission' }, { name: 'createdAt', bucket: DATE_BUCKET }] },
        { group: 'count_by_category_day', type: 'COUNT', fields: [{ name: 'categoryId' }, { name: 'createdAt', bucket: DATE_BUCKET }] },
        { group: 'sum_of_category_by_permission', type: 'SUM', valueField: 'categoryId', fields: [{ name: 'permission' }], directionType: 'OUT' },
      ],
    });
    await ok('POST', `${T('agg-test-table')}/edges`, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, source: 100, target: 1000, properties: { permission: 'read', categoryId: 1, createdAt: TS } } },
        { type: 'INSERT', edge: { version: 2, source: 100, target: 1001, properties: { permission: 'read', categoryId: 1, createdAt: TS } } },
        { type: 'INSERT', edge: { version: 3, source: 100, target: 1002, properties: { permission: 'write', categoryId: 2, createdAt: TS } } },
      ],
    });
    // EdgeAggCountSentinelE2ETest
    await table('follows', {
      type: 'EDGE',
      source: { type: 'long', comment: 'src' },
      target: { type: 'long', comment: 'tgt' },
      properties: [],
      direction: 'BOTH',
      indexes: [],
      groups: [],
      caches: [],
    });
    await ok('POST', `${T('follows')}/edges`, {
      mutations: [1, 2, 3].map((i) => ({ type: 'INSERT', edge: { version: 1, source: 1, target: i + 1 } })).concat(
        [5, 6].map((s) => ({ type: 'INSERT', edge: { version: 1, source: s, target: 1 } })),
      ),
    });
  });
  afterAll(async () => core?.stop('SIGKILL'));

  describe('EdgeCacheQueryE2ETest', () => {
    it('seek OUT returns edges in DESC order', async () => {
      const r = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=1000&direction=OUT`);
      expect(r).toMatchObject({ count: 2, hasNext: false });
      expect(r.edges.map((e: any) => [e.target, e.properties.createdAt])).toEqual([
        [2001, 101],
        [2000, 100],
      ]);
    });

    it('seek OUT with offset paginates results', async () => {
      const p1 = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=1000&direction=OUT&limit=1`);
      expect(p1).toMatchObject({ count: 1, hasNext: true });
      expect(p1.edges[0].target).toBe(2001);
      expect(typeof p1.offset).toBe('string');
      const p2 = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=1000&direction=OUT&limit=1&offset=${encodeURIComponent(p1.offset)}`);
      expect(p2).toMatchObject({ count: 1, hasNext: false, offset: null });
      expect([p2.edges[0].target, p2.edges[0].properties.createdAt]).toEqual([2000, 100]);
    });

    it('seek IN returns edges for target vertex', async () => {
      const r = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=2000&direction=IN`);
      expect(r.count).toBe(1);
      expect([r.edges[0].source, r.edges[0].target, r.edges[0].properties.createdAt]).toEqual([1000, 2000, 100]);
    });

    it('seek MultiEdge OUT returns edges with id as target', async () => {
      const r = await ok('GET', `${T('orders')}/edges/seek/paid_at_desc?start=1000&direction=OUT`);
      expect(r.count).toBe(2);
      expect(r.edges.map((e: any) => [e.target, e.properties.paidAt])).toEqual([
        [100, 300],
        [101, 200],
      ]);
      // Every column of Actionbase's multi-edge row: `_id` first, null in a seek (its cache edge is decoded
      // against the v3 schema, which has no `_id`), then the schema's properties.
      expect(r.edges[0].properties).toEqual({ _id: null, paidAt: 300 });
      expect(Object.keys(r.edges[0].properties)).toEqual(['_id', 'paidAt']);
    });

    it('seek answers every schema property, null when the edge has none', async () => {
      await ok('POST', `${T('wishlist')}/edges`, { mutations: [{ type: 'INSERT', edge: { version: 1, source: 3000, target: 4000, properties: {} } }] });
      const r = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=3000&direction=OUT`);
      expect(r.edges).toEqual([{ version: 1, source: 3000, target: 4000, properties: { createdAt: null }, context: {} }]);
    });

    it('the cache follows mutations: an update moves an edge, a delete removes it', async () => {
      await ok('POST', `${T('wishlist')}/edges`, {
        mutations: [
          { type: 'UPDATE', edge: { version: 2, source: 1000, target: 2000, properties: { createdAt: 500 } } },
          { type: 'INSERT', edge: { version: 2, source: 1000, target: 2002, properties: { createdAt: 300 } } },
          { type: 'DELETE', edge: { version: 2, source: 1000, target: 2001, properties: {} } },
        ],
      });
      const r = await ok('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=1000&direction=OUT`);
      expect(r.edges.map((e: any) => [e.target, e.properties.createdAt])).toEqual([
        [2000, 500],
        [2002, 300],
      ]);
    });

    it('an unknown cache is a 400 (IllegalArgumentException "Cache not found"); a cache is not a scan index', async () => {
      const r = await call('GET', `${T('wishlist')}/edges/seek/nope?start=1000&direction=OUT`);
      expect(r.status).toBe(400);
      expect(r.body.message).toContain('Cache not found: nope');
      const scan = await call('GET', `${T('wishlist')}/edges/scan/${encodeURIComponent('~cache:recent_wishlist')}?start=1000&direction=OUT`);
      expect(scan.status).toBe(404);
      const bad = await call('GET', `${T('wishlist')}/edges/seek/recent_wishlist?start=1000&direction=OUT&limit=1001`);
      expect([bad.status, bad.body.field]).toEqual([400, 'limit']);
    });

    it('a cache added to a table holding rows is built from them', async () => {
      const put = await call('PUT', `/graph/v3/databases/${DB}/tables/wishlist`, {
        schema: wishlist([recentWishlist, { cache: 'oldest_first', fields: [{ field: 'createdAt', order: 'ASC' }], limit: 100 }]),
      });
      expect(put.status).toBe(200);
      const r = await ok('GET', `${T('wishlist')}/edges/seek/oldest_first?start=1000&direction=OUT`);
      expect(r.edges.map((e: any) => e.target)).toEqual([2002, 2000]);
    });
  });

  describe('EdgeAggQueryE2ETest', () => {
    const agg = (group: string, ranges: string) => ok('GET', `${T('agg-test-table')}/edges/agg/${group}?start=100&direction=OUT&ranges=${encodeURIComponent(ranges)}`);

    it('BucketFieldOnly: returns aggregated count', async () => {
      const r = await agg('count_by_day', 'day:eq:2024-01-01');
      expect(r).toEqual({ groups: [{ start: 100, direction: 'OUT', value: 3, context: {} }], count: 1, context: {} });
    });

    it('StringFieldAndBucket: returns aggregated count for matching value, and for a different value', async () => {
      expect((await agg('count_by_permission_day', 'permission:eq:read;day:eq:2024-01-01')).groups[0].value).toBe(2);
      expect((await agg('count_by_permission_day', 'permission:eq:write;day:eq:2024-01-01')).groups[0].value).toBe(1);
    });

    it('LongFieldAndBucket: returns aggregated count for matching value, and for a different value', async () => {
      expect((await agg('count_by_category_day', 'categoryId:eq:1;day:eq:2024-01-01')).groups[0].value).toBe(2);
      expect((await agg('count_by_category_day', 'categoryId:eq:2;day:eq:2024-01-01')).groups[0].value).toBe(1);
    });

    it('between on the last field; a prefix of the fields; no match gives no group; SUM; accumulators', async () => {
      expect((await agg('count_by_day', 'day:bt:2023-12-31,2024-01-02')).groups[0].value).toBe(3);
      expect(await agg('count_by_day', 'day:eq:2024-01-02')).toEqual({ groups: [], count: 0, context: {} });
      expect((await agg('count_by_category_day', 'categoryId:eq:1')).groups[0].value).toBe(2);
      expect((await agg('sum_of_category_by_permission', 'permission:bt:read,write')).groups[0].value).toBe(4);
      const acc = await ok('GET', `${T('agg-test-table')}/edges/agg/count_by_permission_day?start=100&direction=OUT&features=accumulators&ranges=${encodeURIComponent('permission:eq:read')}`);
      expect(acc.groups[0].context.accumulators).toEqual([{ groupValues: ['read', '2024-01-01'], value: 2 }]);
      // a group declared OUT-only has nothing IN
      const inbound = await ok('GET', `${T('agg-test-table')}/edges/agg/sum_of_category_by_permission?start=1000&direction=IN&ranges=permission:eq:read`);
      expect(inbound.groups).toEqual([]);
    });

    it('the group follows mutations', async () => {
      await ok('POST', `${T('agg-test-table')}/edges`, {
        mutations: [{ type: 'UPDATE', edge: { version: 9, source: 100, target: 1002, properties: { permission: 'read' } } }],
      });
      expect((await agg('count_by_permission_day', 'permission:eq:read;day:eq:2024-01-01')).groups[0].value).toBe(3);
      await ok('POST', `${T('agg-test-table')}/edges`, {
        mutations: [{ type: 'UPDATE', edge: { version: 10, source: 100, target: 1002, properties: { permission: 'write' } } }],
      });
    });

    it('ttl bounds how stale an answer may be (Actionbase: its group-row cache); the core answers current rows within any ttl; cachedRecords is 0', async () => {
      const q = (ttl: string, features = '') =>
        call('GET', `${T('agg-test-table')}/edges/agg/count_by_permission_day?start=100&direction=OUT&ranges=${encodeURIComponent('permission:eq:read;day:eq:2024-01-01')}&ttl=${ttl}${features}`);
      const first = await q('60000', '&features=cachedRecords');
      expect(first).toMatchObject({ status: 200, body: { groups: [{ start: 100, value: 2 }], context: { cachedRecords: 0 } } });
      // A mutation within the ttl shows at once (a fresh answer is within any staleness bound).
      await ok('POST', `${T('agg-test-table')}/edges`, { mutations: [{ type: 'INSERT', edge: { version: 20, source: 100, target: 1003, properties: { permission: 'read', categoryId: 1, createdAt: TS } } }] });
      expect((await q('60000')).body.groups[0].value).toBe(3);
      await ok('POST', `${T('agg-test-table')}/edges`, { mutations: [{ type: 'DELETE', edge: { version: 21, source: 100, target: 1003, properties: {} } }] });
      expect((await q('0')).body.groups[0].value).toBe(2);
      expect((await q('-1')).status).toBe(200);
      expect((await q('9223372036854775807')).status).toBe(200);
      expect((await q('')).status).toBe(200); // Spring binds an empty Long parameter as absent
      // Bound as a Long: anything else is 400 naming ttl.
      for (const bad of ['abc', '1.5', '9223372036854775808', '-9223372036854775809']) {
        const r = await q(bad);
        expect([bad, r.status, r.body.field]).toEqual([bad, 400, 'ttl']);
      }
    });

    it('bad ranges: order, ops, missing; unknown group; filters and unknown features: 400 naming them', async () => {
      const cases: [string, string][] = [
        ['count_by_permission_day?start=100&direction=OUT&ranges=day:eq:2024-01-01', 'ranges'],
        ['count_by_permission_day?start=100&direction=OUT&ranges=permission:gt:a;day:eq:2024-01-01', 'ranges[0]'],
        ['count_by_day?start=100&direction=OUT&ranges=day:gt:2024-01-01', 'ranges[0]'],
        ['count_by_day?start=100&direction=OUT', 'ranges'],
        ['no_such_group?start=100&direction=OUT&ranges=day:eq:x', 'group'],
        ['count_by_day?start=100&direction=OUT&ranges=day:eq:x&filters=permission:eq:read', 'filters'],
        ['count_by_day?start=100&direction=OUT&ranges=day:eq:x&features=total', 'features'],
        ['count_by_day?start=abc&direction=OUT&ranges=day:eq:x', 'start[0]'],
        ['count_by_day?start=100&direction=out&ranges=day:eq:x', 'direction'],
      ];
      for (const [q, field] of cases) {
        const r = await call('GET', `${T('agg-test-table')}/edges/agg/${q}`);
        expect([q, r.status, r.body.field]).toEqual([q, 400, field]);
      }
    });
  });

  describe('EdgeAggCountSentinelE2ETest', () => {
    it('agg with __count__ sentinel returns OUT count, and IN count', async () => {
      const out = await ok('GET', `${T('follows')}/edges/agg/__count__?start=1&direction=OUT`);
      expect(out).toEqual({ groups: [{ start: 1, direction: 'OUT', value: 3, context: {} }], count: 1, context: {} });
      const inbound = await ok('GET', `${T('follows')}/edges/agg/__count__?start=1&direction=IN`);
      expect(inbound.groups).toEqual([{ start: 1, direction: 'IN', value: 2, context: {} }]);
    });

    it('agg with __count__ and ranges returns 400', async () => {
      const r = await call('GET', `${T('follows')}/edges/agg/__count__?start=1&direction=OUT&ranges=foo%3Dbar`);
      expect(r.status).toBe(400);
    });

    it('agg with __count__ and multiple starts returns count per node', async () => {
      const r = await ok('GET', `${T('follows')}/edges/agg/__count__?start=1&start=5&direction=OUT`);
      expect(r.count).toBe(2);
      expect(r.groups.map((g: any) => [g.start, g.value])).toEqual([
        [1, 3],
        [5, 1],
      ]);
    });

    it('agg with regular group requires ranges', async () => {
      const r = await call('GET', `${T('follows')}/edges/agg/no_such_group?start=1&direction=OUT`);
      expect(r.status).toBe(400);
    });
  });

  it('a bad bucket is refused at table creation, naming it', async () => {
    const r = await call('POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'bad_bucket',
      schema: {
        type: 'EDGE',
        source: { type: 'long', comment: '' },
        target: { type: 'long', comment: '' },
        properties: [{ name: 'createdAt', type: 'long', comment: '', nullable: true }],
        direction: 'BOTH',
        indexes: [],
        groups: [{ group: 'g', type: 'COUNT', fields: [{ name: 'createdAt', bucket: { type: 'week', name: 'w' } }] }],
        caches: [],
      },
      storage: 'datastore://test_namespace/bad_bucket',
      mode: 'SYNC',
      comment: '',
    });
    expect([r.status, r.body.field]).toEqual([400, 'schema.groups[0].fields[0].bucket']);
  });
});
