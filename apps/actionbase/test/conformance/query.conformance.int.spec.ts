/**
 * Actionbase's Query API reference (website/src/content/docs/api-references/query.mdx), one test per
 * documented example, plus the server's behaviour where the docs are silent (EdgeQueryController,
 * MultiEdgeQueryController, V2BackedTableBinding, ExceptionController).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, CoreProcess, freePort, tempStorage, waitFor } from '@pipeline/testing';
import { EDGES, MULTI, path, startConformanceCore } from './query.tables';

const edge = (version: number, source: string, target: string, properties: Record<string, unknown>) => ({
  type: 'INSERT',
  edge: { version, source, target, properties },
});
const frame = { offset: null, hasNext: false, context: {} };
const sortByEnds = (edges: { source: string; target: string }[]) => [...edges].sort((a, b) => `${a.source}:${a.target}`.localeCompare(`${b.source}:${b.target}`));

describe('Actionbase query API reference', () => {
  let core: CoreProcess;
  const get = (p: string) => api(core.url, 'GET', p);

  beforeAll(async () => {
    core = await startConformanceCore();
    const w = await api(core.url, 'POST', `${path(EDGES)}/edges`, {
      mutations: [
        edge(1, 'source1', 'target1', { weight: 0.8, type: 'FOLLOWS', createdAt: 1_500_000 }),
        edge(3, 'source1', 'target3', { weight: 0.75, type: 'FOLLOWS', createdAt: 1_600_000 }),
        edge(3, 'source3', 'target1', { weight: 0.75, type: 'FOLLOWS', createdAt: 1_700_000 }),
        edge(2, 'source1', 'target4', { weight: 0.1, type: 'BLOCKS', createdAt: 900_000 }),
        // a page and a half for the pagination examples
        ...Array.from({ length: 15 }, (_, i) => edge(10 + i, 'pager', `t${String(i).padStart(2, '0')}`, { weight: i, type: 'FOLLOWS', createdAt: 2_000_000 + i })),
      ],
    });
    expect(w.status).toBe(200);
    const m = await api(core.url, 'POST', `${path(MULTI)}/multi-edges`, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, id: 'id1', source: 'id1', target: 'id1', properties: { amount: 1000, paidAt: 1609459200000 } } },
        { type: 'INSERT', edge: { version: 1, id: 'id3', source: 'id3', target: 'id3', properties: { amount: 3000, paidAt: 1609545600000 } } },
        { type: 'INSERT', edge: { version: 1, id: 'id4', source: 'id4', target: 'id4', properties: { amount: 10, paidAt: 1609545600000 } } },
      ],
    });
    expect(m.status).toBe(200);
  });
  afterAll(async () => core?.stop('SIGKILL'));

  it('1. count?start=source1&direction=OUT', async () => {
    const r = await get(`${path(EDGES)}/edges/count?start=source1&direction=OUT`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ start: 'source1', direction: 'OUT', count: 3, context: {} });
  });

  it('2. get?source=source1&target=target1 (get)', async () => {
    const r = await get(`${path(EDGES)}/edges/get?source=source1&target=target1`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      // Every property of the schema (amount and paidAt too, null here), as Actionbase's server answers.
      edges: [{ version: 1, source: 'source1', target: 'target1', properties: { weight: 0.8, type: 'FOLLOWS', createdAt: 1_500_000, amount: null, paidAt: null }, context: {} }],
      count: 1,
      total: 1,
      ...frame,
    });
  });

  it('2. get?source=source1&target=target1,target2,target3 (mget, 1 source, N targets)', async () => {
    const r = await get(`${path(EDGES)}/edges/get?source=source1&target=target1,target2,target3`);
    expect(r.body).toMatchObject({ count: 2, total: 2, ...frame });
    expect(sortByEnds(r.body.edges).map((e: any) => [e.version, e.target])).toEqual([
      [1, 'target1'],
      [3, 'target3'],
    ]);
  });

  it('2. get?source=source1,source2,source3&target=target1 (mget, M sources, 1 target)', async () => {
    const r = await get(`${path(EDGES)}/edges/get?source=source1,source2,source3&target=target1`);
    expect(r.body).toMatchObject({ count: 2, total: 2, ...frame });
    expect(sortByEnds(r.body.edges).map((e: any) => [e.version, e.source])).toEqual([
      [1, 'source1'],
      [3, 'source3'],
    ]);
  });

  it('2. get?source=source1,source2,source3&target=target1,target2,target3 (mget, M × N)', async () => {
    const r = await get(`${path(EDGES)}/edges/get?source=source1,source2,source3&target=target1,target2,target3`);
    expect(r.body).toMatchObject({ count: 3, total: 3, ...frame });
    expect(sortByEnds(r.body.edges).map((e: any) => `${e.source}:${e.target}`)).toEqual(['source1:target1', 'source1:target3', 'source3:target1']);
  });

  it('Filters: get?source=...&target=...&filters=type:eq:... (and the same as POST edges/get)', async () => {
    const r = await get(`${path(EDGES)}/edges/get?source=source1&target=target1,target4&filters=type:eq:BLOCKS`);
    expect(r.body.edges.map((e: any) => e.target)).toEqual(['target4']);
    expect(r.body).toMatchObject({ count: 1, total: 1 });
    const p = await api(core.url, 'POST', `${path(EDGES)}/edges/get`, { source: ['source1'], target: ['target1', 'target4'], filters: 'type:eq:BLOCKS' });
    expect(p.status).toBe(200);
    expect(p.body).toEqual(r.body);
    // repeated parameters bind as a list, as Spring binds List<String>
    const rep = await get(`${path(EDGES)}/edges/get?source=source1&target=target1&target=target4`);
    expect(rep.body.count).toBe(2);
  });

  it('3. multi-edges/ids?ids=id1,id2,id3 (GET)', async () => {
    const r = await get(`${path(MULTI)}/multi-edges/ids?ids=id1,id2,id3`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ count: 2, total: 2, ...frame });
    expect(r.body.edges.map((e: any) => [e.version, e.source, e.target, e.properties.amount, e.properties.paidAt])).toEqual([
      [1, 'id1', 'id1', 1000, 1609459200000],
      [1, 'id3', 'id3', 3000, 1609545600000],
    ]);
  });

  it('3. multi-edges/ids (POST) with {"ids", "filters": "amount:gte:1000", "features": []}', async () => {
    const r = await api(core.url, 'POST', `${path(MULTI)}/multi-edges/ids`, { ids: ['id1', 'id2', 'id3', 'id4'], filters: 'amount:gte:1000', features: [] });
    expect(r.status).toBe(200);
    expect(r.body.edges.map((e: any) => e.properties.amount)).toEqual([1000, 3000]);
    expect(r.body).toMatchObject({ count: 2, total: 2 });
    const g = await get(`${path(MULTI)}/multi-edges/ids?ids=id1,id2,id3,id4&filters=amount:gte:1000`);
    expect(g.body).toEqual(r.body);
  });

  it("Properties: every schema property, in schema order, null when the edge has none (get, POST get, scan IN and OUT, multi-edges/ids); written null reads the same as never written", async () => {
    const w = await api(core.url, 'POST', `${path(EDGES)}/edges`, {
      mutations: [edge(5, 'sparse', 'never', { createdAt: 3_000_000 }), edge(6, 'sparse', 'written-null', { createdAt: 3_000_001, type: null, weight: null })],
    });
    expect(w.status).toBe(200);
    const nulls = { weight: null, type: null, amount: null, paidAt: null };
    const expected = [
      { version: 6, source: 'sparse', target: 'written-null', properties: { ...nulls, createdAt: 3_000_001 }, context: {} },
      { version: 5, source: 'sparse', target: 'never', properties: { ...nulls, createdAt: 3_000_000 }, context: {} },
    ];
    const order = ['weight', 'type', 'createdAt', 'amount', 'paidAt'];

    const got = await get(`${path(EDGES)}/edges/get?source=sparse&target=written-null,never`);
    expect(got.body.edges).toEqual(expected);
    for (const e of got.body.edges) expect(Object.keys(e.properties)).toEqual(order);
    const posted = await api(core.url, 'POST', `${path(EDGES)}/edges/get`, { source: ['sparse'], target: ['written-null', 'never'] });
    expect(posted.body).toEqual(got.body);

    const out = await get(`${path(EDGES)}/edges/scan/by_created?start=sparse&direction=OUT`);
    expect(out.body.edges).toEqual(expected);
    const inbound = await get(`${path(EDGES)}/edges/scan/by_created?start=never&direction=IN`);
    expect(inbound.body.edges).toEqual([expected[1]]);
    // A null property matches no filter on it.
    expect((await get(`${path(EDGES)}/edges/scan/by_created?start=sparse&direction=OUT&filters=type:eq:FOLLOWS`)).body.edges).toEqual([]);

    // A multi-edge: the schema's properties, after `_id`, the id (Actionbase's multi-edge row keeps the id as its first column).
    const ids = await get(`${path(MULTI)}/multi-edges/ids?ids=id1`);
    expect(ids.body.edges.map((e: any) => e.properties)).toEqual([{ _id: 'id1', weight: null, type: null, createdAt: null, amount: 1000, paidAt: 1609459200000 }]);
    expect(Object.keys(ids.body.edges[0].properties)).toEqual(['_id', ...order]);
  });

  it('4. scan/your_index?start=source1&direction=OUT: total is -1 unless features=total', async () => {
    const r = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ count: 3, total: -1, ...frame });
    expect(r.body.edges.map((e: any) => e.target)).toEqual(['target3', 'target1', 'target4']); // createdAt DESC
    const t = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT&features=total`);
    expect(t.body.total).toBe(3);
    const both = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT&features=total&filters=type:eq:FOLLOWS`);
    expect(both.status).toBe(400);
    const unknown = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT&features=trends`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.field).toBe('features');
  });

  it('Pagination: first page (default limit 10) with an offset, next page with offset null', async () => {
    const first = await get(`${path(EDGES)}/edges/scan/by_created?start=pager&direction=OUT`);
    expect(first.body).toMatchObject({ count: 10, total: -1, hasNext: true, context: {} });
    expect(typeof first.body.offset).toBe('string');
    const next = await get(`${path(EDGES)}/edges/scan/by_created?start=pager&direction=OUT&offset=${encodeURIComponent(first.body.offset)}`);
    expect(next.body).toMatchObject({ count: 5, total: -1, offset: null, hasNext: false, context: {} });
    const all = [...first.body.edges, ...next.body.edges].map((e: any) => e.target);
    expect(all).toEqual(Array.from({ length: 15 }, (_, i) => `t${String(14 - i).padStart(2, '0')}`));
  });

  it('Index ranges: simple (eq), composite (eq then gt), between; fields in index order', async () => {
    const simple = await get(`${path(EDGES)}/edges/scan/your_index?start=source1&direction=OUT&ranges=type:eq:FOLLOWS`);
    expect(simple.body.edges.map((e: any) => e.target)).toEqual(['target1', 'target3']);
    const composite = await get(`${path(EDGES)}/edges/scan/your_index?start=source1&direction=OUT&ranges=type:eq:FOLLOWS;createdAt:gt:1550000`);
    expect(composite.body.edges.map((e: any) => e.target)).toEqual(['target3']);
    const between = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT&ranges=createdAt:bt:1000000,2000000`);
    expect(between.body.edges.map((e: any) => e.target)).toEqual(['target3', 'target1']);
    // out of index order, as Actionbase: 400
    const wrong = await get(`${path(EDGES)}/edges/scan/your_index?start=source1&direction=OUT&ranges=createdAt:gt:1`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.field).toBe('ranges');
  });

  it('Filters: scan with ranges=createdAt:gte:... and filters=type:eq:...', async () => {
    const r = await get(`${path(EDGES)}/edges/scan/by_created?start=source1&direction=OUT&ranges=createdAt:gte:1000000&filters=type:eq:FOLLOWS`);
    expect(r.body.edges.map((e: any) => e.target)).toEqual(['target3', 'target1']);
  });

  it('counts: start repeated or comma-separated binds as a list', async () => {
    const rep = await get(`${path(EDGES)}/edges/counts?start=source1&start=source3&direction=OUT`);
    expect(rep.status).toBe(200);
    expect(rep.body.counts.map((c: any) => [c.start, c.count])).toEqual([
      ['source1', 3],
      ['source3', 1],
    ]);
    const comma = await get(`${path(EDGES)}/edges/counts?start=source1,source3&direction=OUT`);
    expect(comma.body).toEqual(rep.body);
  });

  it('Query direction: required, OUT or IN, case-sensitive; required parameters answer 400 with an Actionbase error body', async () => {
    for (const q of ['count?start=source1', 'count?start=source1&direction=out', 'count?direction=OUT', 'scan/by_created?start=source1', 'get?source=source1']) {
      const r = await get(`${path(EDGES)}/edges/${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(r.body).toMatchObject({ status: 400, error: 'Bad Request', message: expect.any(String), code: 'INVALID_REQUEST' });
      expect(typeof r.body.timestamp).toBe('number');
    }
    const inbound = await get(`${path(EDGES)}/edges/count?start=target1&direction=IN`);
    expect(inbound.body).toEqual({ start: 'target1', direction: 'IN', count: 2, context: {} });
  });

  it("count and counts with ranges, filters or features: 400 as Actionbase's server (its docs list ranges as optional)", async () => {
    for (const p of [
      `${path(EDGES)}/edges/count?start=source1&direction=OUT&ranges=createdAt:gt:1`,
      `${path(EDGES)}/edges/counts?start=source1,source3&direction=OUT&ranges=createdAt:gt:1`,
      `${path(EDGES)}/edges/count?start=source1&direction=OUT&filters=type:eq:FOLLOWS`,
      `${path(EDGES)}/edges/counts?start=source1&direction=OUT&filters=type:eq:FOLLOWS`,
      `${path(EDGES)}/edges/count?start=source1&direction=OUT&features=total`,
    ]) {
      const r = await get(p);
      expect([p, r.status]).toEqual([p, 400]);
      const field = p.includes('ranges') ? 'ranges' : p.includes('filters') ? 'filters' : 'features';
      expect(r.body).toMatchObject({ status: 400, error: 'Bad Request', field });
      expect(r.body.message).toContain(field === 'features' ? 'are not supported in count query' : 'is not yet supported in count query');
    }
  });

  it('the query DSL (POST /graph/v3/query) is served: a body without steps is a 400 naming `query` (its cases: query-dsl.conformance)', async () => {
    const r = await api(core.url, 'POST', '/graph/v3/query', {});
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, error: 'Bad Request', field: 'query' });
  });

  it('health answers as Actionbase: plain-text UP', async () => {
    for (const p of ['/graph/health', '/graph/health/readiness', '/graph/health/liveness']) {
      const res = await fetch(core.url + p);
      expect([p, res.status, await res.text()]).toEqual([p, 200, 'UP']);
    }
  });

  it('PUT /graph/health/readiness: answers the readiness (UP) and leaves it marked; no token or body needed', async () => {
    const put = await fetch(core.url + '/graph/health/readiness', { method: 'PUT' });
    expect([put.status, put.headers.get('content-type'), await put.text()]).toEqual([200, 'text/plain; charset=utf-8', 'UP']);
    for (const p of ['/graph/health', '/graph/health/readiness']) {
      const res = await fetch(core.url + p);
      expect([p, res.status, await res.text()]).toEqual([p, 200, 'UP']);
    }
  });
});

describe("Actionbase's readiness: DOWN until PUT /graph/health/readiness marks it (HealthController)", () => {
  it('READINESS_ON_START=false: readiness and /graph/health answer DOWN (503), liveness UP; the PUT marks it UP, token or not', async () => {
    const core = new CoreProcess({
      PORT: String(await freePort()),
      KAFKA_BROKERS: '',
      STORAGE_PATH: tempStorage(),
      LOG_LEVEL: 'warn',
      HEARTBEAT_INTERVAL_MS: '3600000',
      READINESS_ON_START: 'false',
      API_TOKEN: 'secret-token',
    });
    // start() returns once readiness answers 200, which only the PUT below brings about.
    const started = core.start();
    started.catch(() => undefined);
    try {
      await waitFor('liveness', async () => (await fetch(core.url + '/graph/health/liveness').catch(() => undefined))?.ok, 60_000);
      for (const p of ['/graph/health', '/graph/health/readiness']) {
        const res = await fetch(core.url + p);
        expect([p, res.status, await res.text()]).toEqual([p, 503, 'DOWN']);
      }
      const details = await api(core.url, 'GET', '/graph/health/details');
      expect(details).toMatchObject({ status: 503, body: { status: 'DOWN', readinessMarked: false } });
      // Not ready is not closed: requests are served (Actionbase's readiness only advises the load balancer).
      expect((await fetch(core.url + '/graph/v3/databases', { headers: { authorization: 'Bearer secret-token' } })).status).toBe(200);
      expect((await fetch(core.url + '/graph/v3/databases')).status).toBe(401);

      // Actionbase's token filter guards /graph/v2 and /graph/v3 only; its PUT reads no body.
      const put = await fetch(core.url + '/graph/health/readiness', { method: 'PUT' });
      expect([put.status, await put.text()]).toEqual([200, 'UP']);
      await started;
      for (const p of ['/graph/health', '/graph/health/readiness', '/graph/health/liveness']) {
        const res = await fetch(core.url + p);
        expect([p, res.status, await res.text()]).toEqual([p, 200, 'UP']);
      }
      expect(await api(core.url, 'GET', '/graph/health/details')).toMatchObject({ status: 200, body: { status: 'UP', readinessMarked: true } });
      // Marked once, marked for good: a second PUT (with a JSON body, which is ignored) answers the same.
      const again = await fetch(core.url + '/graph/health/readiness', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect([again.status, await again.text()]).toEqual([200, 'UP']);
    } finally {
      await core.stop('SIGKILL');
    }
  });
});
