import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLikesTable, startTestCore, type TestCore } from '../testing/test-core';

const base = '/graph/v3/databases/shop/tables/likes';
const like = (source: string, target: number, version: number, type = 'INSERT', properties: Record<string, unknown> = { created_at: version }) => ({
  type,
  edge: { version, source, target, properties },
});

describe('REST API on the embedded engine', () => {
  let core: TestCore;
  beforeEach(async () => {
    core = await startTestCore();
    await createLikesTable(core);
  });
  afterEach(async () => core.close());

  it('answers a mutation per key with status and merged count, and writes one WAL per item and one CDC per key', async () => {
    const r = await core.call('POST', `${base}/edges`, { mutations: [like('u1', 10, 100), like('u1', 10, 300), like('u1', 10, 200, 'DELETE', {}), like('u2', 10, 100)] }, { 'X-Request-ID': 'req-1', 'X-Actor-ID': 'tester' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('req-1');
    expect(r.body.results).toEqual([
      { source: 'u1', target: 10, status: 'CREATED', count: 3 },
      { source: 'u2', target: 10, status: 'CREATED', count: 1 },
    ]);
    await waitFor(() => core.logged.filter((l) => l.topic === 'cdc' && (l.record as any).context.database === 'shop').length === 2);
    const wal = core.logged.filter((l) => l.topic === 'wal' && (l.record as any).context.database === 'shop');
    expect(wal).toHaveLength(4);
    expect(wal[0]!.key).toBe('u1:10');
    expect((wal[0]!.record as any).context.request).toEqual({ actor: 'tester', requestId: 'req-1' });
    const cdc = core.logged.filter((l) => l.topic === 'cdc' && (l.record as any).context.database === 'shop').map((l) => l.record as any);
    expect(cdc[0]).toMatchObject({ status: 'CREATED', accumulator: 1, before: null, after: { active: true, version: 300, source: 'u1', target: 10 } });
    expect(cdc[0].events).toHaveLength(3);
    expect(cdc[0].seq).toBeLessThan(cdc[1].seq);
  });

  it('get, count, counts and scan reflect the state, with paging by opaque cursor', async () => {
    const muts = [];
    for (let t = 1; t <= 7; t++) muts.push(like('u1', t, 1000 + t));
    muts.push(like('u2', 3, 5000));
    await core.call('POST', `${base}/edges`, { mutations: muts });
    await core.call('POST', `${base}/edges`, { mutations: [like('u1', 2, 9000, 'DELETE', {})] });

    const got = await core.call('GET', `${base}/edges/get?source=u1,u2&target=3,2`);
    expect(got.body.edges.map((e: any) => [e.source, e.target])).toEqual([['u1', 3], ['u2', 3]]);
    expect(got.body.edges[0]).toMatchObject({ version: 1003, properties: { created_at: 1003 } });

    expect((await core.call('GET', `${base}/edges/count?start=u1&direction=OUT`)).body).toMatchObject({ start: 'u1', direction: 'OUT', count: 6 });
    expect((await core.call('GET', `${base}/edges/count?start=3&direction=IN`)).body.count).toBe(2);
    const counts = await core.call('GET', `${base}/edges/counts?start=u1,u2,u3&direction=OUT`);
    expect(counts.body.counts.map((c: any) => c.count)).toEqual([6, 1, 0]);

    const seen: number[] = [];
    let offset: string | null = null;
    let pages = 0;
    do {
      const q = `${base}/edges/scan/recent?start=u1&direction=OUT&limit=4&features=total${offset ? `&offset=${offset}` : ''}`;
      const page = await core.call('GET', q);
      expect(page.status).toBe(200);
      seen.push(...page.body.edges.map((e: any) => e.target));
      expect(page.body.total).toBe(6);
      offset = page.body.offset;
      expect(page.body.hasNext).toBe(offset !== null);
      pages++;
    } while (offset);
    expect(pages).toBe(2);
    expect(seen).toEqual([7, 6, 5, 4, 3, 1]); // created_at DESC; 2 was deleted

    const ranged = await core.call('GET', `${base}/edges/scan/recent?start=u1&direction=OUT&ranges=created_at:bt:1003,1005`);
    expect(ranged.body.edges.map((e: any) => e.target)).toEqual([5, 4, 3]);
    const gt = await core.call('GET', `${base}/edges/scan/recent?start=u1&direction=OUT&ranges=created_at:gt:1005`);
    expect(gt.body.edges.map((e: any) => e.target)).toEqual([7, 6]);
    const filtered = await core.call('GET', `${base}/edges/scan/recent?start=u1&direction=OUT&filters=created_at:in:1001,1007`);
    expect(filtered.body.edges.map((e: any) => e.target)).toEqual([7, 1]);
    const inbound = await core.call('GET', `${base}/edges/scan/recent?start=3&direction=IN`);
    expect(inbound.body.edges.map((e: any) => e.source)).toEqual(['u2', 'u1']);
  });

  it('rejects bad input with 400 naming the field, and applies nothing', async () => {
    const cases: [unknown, string][] = [
      [{ mutations: [like('u1', 1, 100), { type: 'INSERT', edge: { source: 'u1', target: 2, properties: {} } }] }, 'mutations[1].edge.version'],
      [{ mutations: [like('u1', 1, 100, 'INSERT', { created_at: 'yesterday' })] }, 'mutations[0].edge.properties.created_at'],
      [{ mutations: [like('u1', 1, 100, 'UPSERT')] }, 'mutations[0].type'],
      [{ mutations: [{ type: 'INSERT', edge: { version: 1, source: 'u1', target: 'abc', properties: { created_at: 1 } } }] }, 'mutations[0].edge.target'],
      [{}, 'mutations'],
    ];
    for (const [body, field] of cases) {
      const r = await core.call('POST', `${base}/edges`, body);
      expect(r.status).toBe(400);
      expect(r.body.field).toBe(field);
      expect(r.body.message).toContain(field);
    }
    expect((await core.call('GET', `${base}/edges/count?start=u1&direction=OUT`)).body.count).toBe(0);
    expect(core.logged.filter((l) => l.topic === 'wal' && (l.record as any).context.database === 'shop')).toHaveLength(0);

    const badType = await core.call('POST', '/graph/v3/databases/shop/tables', {
      table: 't2',
      schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'x', type: 'FLOAT' }] },
    });
    expect(badType.status).toBe(400);
    expect(badType.body.field).toBe('schema.properties[0].type');
  });

  it('answers 404 for an unknown database, table or index', async () => {
    expect((await core.call('POST', '/graph/v3/databases/nope/tables/likes/edges', { mutations: [like('a', 1, 1)] })).status).toBe(404);
    expect((await core.call('GET', '/graph/v3/databases/shop/tables/nope/edges/count?start=a&direction=OUT')).status).toBe(404);
    expect((await core.call('GET', `${base}/edges/scan/nope?start=a&direction=OUT`)).status).toBe(404);
  });

  it('rejects an active edge missing a non-nullable property with ERROR, leaving the state', async () => {
    const r = await core.call('POST', `${base}/edges`, { mutations: [like('u9', 1, 100, 'INSERT', {})] });
    expect(r.body.results[0]).toMatchObject({ status: 'ERROR', count: 1 });
    expect((await core.call('GET', `${base}/edges/count?start=u9&direction=OUT`)).body.count).toBe(0);
  });

  it('an ASYNC table answers QUEUED, writes WAL with queue=true and no CDC', async () => {
    await createLikesTable(core, 'views', 'ASYNC');
    const r = await core.call('POST', '/graph/v3/databases/shop/tables/views/edges', { mutations: [like('u1', 1, 100)] });
    expect(r.body.results).toEqual([{ source: 'u1', target: 1, status: 'QUEUED', count: 1 }]);
    const wal = core.logged.filter((l) => l.topic === 'wal' && (l.record as any).context.table === 'views');
    expect((wal[0]!.record as any).mode).toMatchObject({ table: 'ASYNC', queue: true });
    expect((await core.call('GET', '/graph/v3/databases/shop/tables/views/edges/count?start=u1&direction=OUT')).body.count).toBe(0);
    // /sync with force applies it, as the async processor does
    const applied = await core.call('POST', '/graph/v3/databases/shop/tables/views/edges/sync?force=true', { mutations: [like('u1', 1, 100)] });
    expect(applied.body.results[0].status).toBe('CREATED');
  });

  it('multi-edges keep endpoints in _source/_target and move counts on update', async () => {
    const created = await core.call('POST', '/graph/v2/service/shop/label/gifts', {
      desc: 'gifts',
      type: 'MULTI_EDGE',
      schema: { src: { type: 'STRING' }, tgt: { type: 'STRING' }, fields: [{ name: 'amount', type: 'LONG', nullable: false }] },
      dirType: 'BOTH',
      indices: [{ name: 'by_amount', fields: [{ name: 'amount', order: 'DESC' }] }],
    });
    expect(created.status).toBe(200);
    const mb = '/graph/v3/databases/shop/tables/gifts/multi-edges';
    const r = await core.call('POST', mb, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, id: 77, source: 'u1', target: 'u2', properties: { amount: 3000 } } },
        { type: 'INSERT', edge: { version: 2, id: 78, source: 'u1', target: 'u2', properties: { amount: 100 } } },
      ],
    });
    expect(r.body.results).toEqual([{ id: 77, status: 'CREATED', count: 1 }, { id: 78, status: 'CREATED', count: 1 }]);
    expect((await core.call('GET', '/graph/v3/databases/shop/tables/gifts/edges/count?start=u2&direction=IN')).body.count).toBe(2);
    await core.call('POST', mb, { mutations: [{ type: 'UPDATE', edge: { version: 3, id: 78, target: 'u3', properties: {} } }] });
    await core.call('POST', mb, { mutations: [{ type: 'UPDATE', edge: { version: 4, id: 77, properties: { amount: 2500 } } }] });
    // an update naming no endpoints is keyed like the rest of the edge's records
    const walKeys = core.logged.filter((l) => l.topic === 'wal' && (l.record as any).context.table === 'gifts').map((l) => l.key);
    expect(walKeys).toEqual(['u1:u2', 'u1:u2', 'u1:u3', 'u1:u2']);
    await waitFor(() => core.logged.filter((l) => l.topic === 'cdc' && (l.record as any).context.table === 'gifts').length === 4);
    const moved = core.logged.find((l) => l.topic === 'cdc' && (l.record as any).events[0].version === 3)!.record as any;
    expect([moved.before.target, moved.after.target]).toEqual(['u2', 'u3']);
    expect((await core.call('GET', '/graph/v3/databases/shop/tables/gifts/edges/count?start=u2&direction=IN')).body.count).toBe(1);
    expect((await core.call('GET', '/graph/v3/databases/shop/tables/gifts/edges/count?start=u3&direction=IN')).body.count).toBe(1);
    const ids = await core.call('GET', `${mb}/ids?ids=77,78`);
    expect(ids.body.edges.map((e: any) => [e.id, e.target, e.properties.amount])).toEqual([[77, 'u2', 2500], [78, 'u3', 100]]);
  });

  it('guards every non-health endpoint with the API token when one is set', async () => {
    const guarded = await startTestCore({ API_TOKEN: 's3cret' });
    try {
      expect((await guarded.call('GET', '/graph/v3/databases')).status).toBe(401);
      expect((await guarded.call('GET', '/graph/v3/databases', undefined, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await guarded.call('GET', '/graph/v3/databases', undefined, { authorization: 'Bearer s3cret' })).status).toBe(200);
      expect((await guarded.call('GET', '/graph/health/readiness')).status).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
