/** The client against a local HTTP server answering what each test says (and a closed port). */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreClient, requestIdHeader } from './client';
import type { MutationItem } from './types';

let server: Server;
let base: string;
let answer: { status: number; body: unknown } = { status: 200, body: { results: [] } };
let seen: { method: string; url: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = (url = base) => new CoreClient({ baseUrl: url, actor: 'AsyncRequestProcessor', timeoutMs: 2_000, token: 'tok' });
const m: MutationItem[] = [{ type: 'INSERT', edge: { version: 1, source: 'u', target: 1, properties: {} } }];

describe('CoreClient', () => {
  it('posts forced sync mutations as the actor, with the request ids and the token', async () => {
    seen = [];
    answer = { status: 200, body: { results: [{ source: 'u', target: 1, status: 'CREATED', count: 1 }] } };
    expect(await client().mutateForced('shop', 'recent views', false, m, ['r1', 'r2', 'r1'])).toEqual([{ source: 'u', target: 1, status: 'CREATED', count: 1 }]);
    expect(seen[0]!.url).toBe('/graph/v3/databases/shop/tables/recent%20views/edges/sync?force=true');
    expect(seen[0]!.headers).toMatchObject({ 'x-actor-id': 'AsyncRequestProcessor', 'x-request-id': 'r1,r2', authorization: 'Bearer tok' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ mutations: m });
    await client().mutateForced('shop', 'gifts', true, m);
    expect(seen[1]!.url).toBe('/graph/v3/databases/shop/tables/gifts/multi-edges/sync?force=true');
    expect(seen[1]!.headers['x-request-id']).toBeUndefined();
  });

  it('writes a bigint as the integer it is', async () => {
    seen = [];
    answer = { status: 200, body: { results: [] } };
    const big: MutationItem[] = [{ type: 'INSERT', edge: { version: 1, source: 'u', target: 1, properties: { n: 2n ** 63n - 1n } } }];
    await client().mutateForced('shop', 't', false, big);
    expect(seen[0]!.body).toContain('"n":9223372036854775807');
  });

  it("reads the core's null properties (every schema property is answered) as absent, and a multi-edge's `_id` copy too", async () => {
    answer = { status: 200, body: { edges: [{ version: 1, source: 'u', target: 1, properties: { a: 1, b: null, c: false, d: '' }, context: {} }], count: 1, total: 1, offset: null, hasNext: false } };
    expect((await client().get('shop', 't', 'u', [1]))[0]!.properties).toEqual({ a: 1, c: false, d: '' });
    const page = await client().scan('shop', 't', 'i', 'OUT', 'u', 10, null);
    expect(page.edges[0]!.properties).toEqual({ a: 1, c: false, d: '' });
    expect((await client().seek('shop', 't', 'c', 'OUT', 'u', 10, null)).edges[0]!.properties).toEqual({ a: 1, c: false, d: '' });
    answer = { status: 200, body: { edges: [{ version: 1, id: 7, source: 'u', target: 'v', properties: { _id: 7, amount: null, at: 5 }, context: {} }], count: 1 } };
    expect((await client().multiEdges('shop', 'm', [7]))[0]).toEqual({ version: 1, id: 7, source: 'u', target: 'v', properties: { at: 5 }, context: {} });
  });

  it('throws a 4xx as a final CoreError naming the code and the field', async () => {
    answer = { status: 400, body: { status: 400, code: 'INVALID_REQUEST', message: 'bad version', field: 'mutations[2].edge.version' } };
    const err = await client().mutateForced('shop', 't', false, m).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'CoreError', status: 400, code: 'INVALID_REQUEST', detail: 'bad version', field: 'mutations[2].edge.version', retryable: false });
    expect(String(err)).toContain('POST /graph/v3/databases/shop/tables/t/edges/sync?force=true: 400 INVALID_REQUEST bad version (mutations[2].edge.version)');
  });

  it.each([500, 503, 401, 408, 429])('throws %i as a retryable CoreError', async (status) => {
    answer = { status, body: { status, code: 'X', message: 'y' } };
    await expect(client().mutateForced('shop', 't', false, m)).rejects.toMatchObject({ name: 'CoreError', status, retryable: true });
  });

  it('takes a 200 without results for a retryable bad answer', async () => {
    answer = { status: 200, body: { hello: 1 } };
    await expect(client().mutateForced('shop', 't', false, m)).rejects.toMatchObject({ code: 'CORE_BAD_ANSWER', retryable: true });
  });

  it('keeps a non-JSON error body readable', async () => {
    answer = { status: 502, body: '<html>bad gateway</html>' };
    await expect(client().mutateForced('shop', 't', false, m)).rejects.toMatchObject({ status: 502, detail: '<html>bad gateway</html>', retryable: true });
  });

  it('throws a retryable CORE_UNAVAILABLE when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(client(url).mutateForced('shop', 't', false, m)).rejects.toMatchObject({ status: null, code: 'CORE_UNAVAILABLE', retryable: true });
  });

  it('follows scan cursors to the end', async () => {
    seen = [];
    const pages = [
      { edges: [{ version: 1, source: 'u', target: 1, properties: {} }], total: 2, offset: 'c1', hasNext: true },
      { edges: [{ version: 2, source: 'u', target: 2, properties: {} }], total: 2, offset: null, hasNext: false },
    ];
    const s = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(pages[seen.length - 1]));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const edges = await client(`http://127.0.0.1:${(s.address() as AddressInfo).port}`).scanAll('shop', 'likes', 'created_at_desc', 'OUT', 'u');
      expect(edges.map((e) => e.target)).toEqual([1, 2]);
      expect(seen.map((x) => x.url)).toEqual([
        '/graph/v3/databases/shop/tables/likes/edges/scan/created_at_desc?start=u&direction=OUT&limit=1000',
        '/graph/v3/databases/shop/tables/likes/edges/scan/created_at_desc?start=u&direction=OUT&limit=1000&offset=c1',
      ]);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});

describe('CoreClient caches and groups', () => {
  it('seeks a cache and aggregates a group on the documented paths', async () => {
    seen = [];
    answer = { status: 200, body: { edges: [], count: 0, total: -1, offset: null, hasNext: false, context: {} } };
    await client().seek('shop', 'likes', 'recent', 'OUT', 'u1', 10, 'c1');
    expect(seen[0]!.url).toBe('/graph/v3/databases/shop/tables/likes/edges/seek/recent?start=u1&direction=OUT&limit=10&offset=c1');
    answer = { status: 200, body: { groups: [{ start: 1, direction: 'OUT', value: 3, context: {} }], count: 1, context: {} } };
    const r = await client().agg('shop', 'likes', 'by_day', 'OUT', [1, 5], 'day:eq:2024-01-01');
    expect(seen[1]!.url).toBe('/graph/v3/databases/shop/tables/likes/edges/agg/by_day?direction=OUT&start=1&start=5&ranges=day%3Aeq%3A2024-01-01');
    expect(r.groups[0]!.value).toBe(3);
  });
});

describe('CoreClient queue/v1', () => {
  it('enqueues with 64-bit seqs written exactly, polls with offset/until and reads seqs back exactly', async () => {
    seen = [];
    answer = { status: 200, body: { accepted: 1, results: [{ partition: 3, id: '01JT7Q0Z8B3N5Y6W9XKQRVMH2D', status: 'CREATED' }] } };
    await client().enqueue('ns', 'q 1', [{ key: 'user1', seq: 9007199254740993n, value: { a: 1 } }]);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/queue/v1/namespaces/ns/queues/q%201/messages');
    expect(seen[0]!.body).toBe('{"messages":[{"key":"user1","seq":9007199254740993,"value":{"a":1}}]}');
    answer = { status: 200, body: '{"messages":[{"partition":3,"id":"x","seq":9007199254740993,"value":null}],"offset":9007199254740993,"hasNext":false}' };
    const page = await client().poll('ns', 'q 1', 3, { limit: 10, offset: 5, until: 9007199254740999n });
    expect(seen[1]!.url).toBe('/queue/v1/namespaces/ns/queues/q%201/partitions/3/poll?limit=10&offset=5&until=9007199254740999');
    expect(page.messages[0]!.seq).toBe(9007199254740993n);
    expect(page.offset).toBe(9007199254740993n);
  });

  it('commits, enables/disables and deletes on the documented paths', async () => {
    seen = [];
    answer = { status: 200, body: { namespace: 'ns', queue: 'q', partition: 2, committed: 4 } };
    expect(await client().commit('ns', 'q', 2, 1001)).toBe(4);
    expect([seen[0]!.method, seen[0]!.url]).toEqual(['DELETE', '/queue/v1/namespaces/ns/queues/q/partitions/2/messages?offset=1001']);
    answer = { status: 200, body: { namespace: 'ns', queue: 'q', partitions: 30, storage: 'datastore://ns/q' } };
    await client().setQueueActive('ns', 'q', false);
    expect([seen[1]!.method, seen[1]!.url]).toEqual(['PUT', '/queue/v1/namespaces/ns/queues/q/disable']);
    answer = { status: 204, body: '' };
    await client().deleteQueue('ns', 'q');
    expect([seen[2]!.method, seen[2]!.url]).toEqual(['DELETE', '/queue/v1/namespaces/ns/queues/q']);
    answer = { status: 409, body: { status: 409, code: 'CONFLICT', message: 'queue ns.q must be disabled before deletion' } };
    await expect(client().deleteQueue('ns', 'q')).rejects.toMatchObject({ status: 409, retryable: false });
  });
});

describe('requestIdHeader', () => {
  it('carries the distinct original request ids, bounded', () => {
    expect(requestIdHeader(['a', 'b', 'a', ''])).toBe('a,b');
    expect(requestIdHeader(['', ''])).toBeUndefined();
    const many = requestIdHeader(Array.from({ length: 1000 }, (_, i) => `request-${i}`))!;
    expect(many.length).toBeLessThanOrEqual(256);
    expect(many).toMatch(/,\+\d+more$/);
  });
});
