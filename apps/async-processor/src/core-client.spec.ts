/** The client's error classes against a local HTTP server answering what a test says (and a closed port). */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoreClient } from './core-client';

let server: Server;
let base: string;
let answer: { status: number; body: unknown } = { status: 200, body: { results: [] } };
let seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen.push({ url: req.url!, headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = (url = base) => new CoreClient({ baseUrl: url, actor: 'AsyncRequestProcessor', timeoutMs: 2_000, apiToken: 'tok' });
const m = [{ type: 'INSERT' as const, edge: { version: 1, source: 'u', target: 1, properties: {} } }];

describe('CoreClient', () => {
  it('posts to edges/sync?force=true as the processor, with the request ids and the token', async () => {
    seen = [];
    answer = { status: 200, body: { results: [{ source: 'u', target: 1, status: 'CREATED', count: 1 }] } };
    const r = await client().mutate('shop', 'recent views', false, m, ['r1', 'r2', 'r1']);
    expect(r).toEqual({ ok: true, results: [{ source: 'u', target: 1, status: 'CREATED', count: 1 }] });
    expect(seen[0]!.url).toBe('/graph/v3/databases/shop/tables/recent%20views/edges/sync?force=true');
    expect(seen[0]!.headers).toMatchObject({ 'x-actor-id': 'AsyncRequestProcessor', 'x-request-id': 'r1,r2', authorization: 'Bearer tok' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ mutations: m });
    await client().mutate('shop', 'gifts', true, m, []);
    expect(seen[1]!.url).toBe('/graph/v3/databases/shop/tables/gifts/multi-edges/sync?force=true');
    expect(seen[1]!.headers['x-request-id']).toBeUndefined();
  });

  it('returns a 4xx as a rejection with the field the core named', async () => {
    answer = { status: 400, body: { status: 400, code: 'INVALID_REQUEST', message: 'bad version', field: 'mutations[2].edge.version' } };
    expect(await client().mutate('shop', 't', false, m, [])).toEqual({
      ok: false,
      rejection: { status: 400, code: 'INVALID_REQUEST', message: 'bad version', field: 'mutations[2].edge.version' },
    });
  });

  it.each([500, 503, 401, 429])('throws a retryable SinkError on %i', async (status) => {
    answer = { status, body: { status, code: 'X', message: 'y' } };
    await expect(client().mutate('shop', 't', false, m, [])).rejects.toMatchObject({ name: 'SinkError', retryable: true });
  });

  it('throws a retryable SinkError when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(client(url).mutate('shop', 't', false, m, [])).rejects.toMatchObject({ code: 'CORE_UNAVAILABLE', retryable: true });
  });
});
