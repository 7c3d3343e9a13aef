/**
 * A small demo workload for the start command: creates the `shop` database with a `likes` table
 * (SYNC), a `recent_views` table (ASYNC) and a `gifts` multi-edge table, then sends likes, unlikes,
 * views and gifts through the core's REST API, and prints what the core answers.
 *   npx tsx tools/scripts/demo-workload.ts [baseUrl]
 */
const base = process.argv[2] ?? 'http://127.0.0.1:8080';

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: { 'content-type': 'application/json', 'x-actor-id': 'demo' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status >= 400 && res.status !== 409) throw new Error(`${method} ${path} -> ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const edgeTable = (table: string, mode: string) => ({
  table,
  type: 'EDGE',
  schema: {
    source: { type: 'STRING', comment: 'user id' },
    target: { type: 'LONG', comment: 'product id' },
    properties: [{ name: 'created_at', type: 'LONG', nullable: false }],
  },
  direction: 'BOTH',
  indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
  mode,
});

await call('POST', '/graph/v3/databases', { database: 'shop', comment: 'demo shop' });
await call('POST', '/graph/v3/databases/shop/tables', edgeTable('likes', 'SYNC'));
await call('POST', '/graph/v3/databases/shop/tables', edgeTable('recent_views', 'ASYNC'));
await call('POST', '/graph/v3/databases/shop/tables', {
  table: 'gifts',
  type: 'MULTI_EDGE',
  schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'amount', type: 'LONG', nullable: false }] },
  direction: 'BOTH',
});

const t0 = Date.now();
const likes = [];
for (let u = 1; u <= 20; u++) for (let p = 1; p <= 5; p++) likes.push({ type: 'INSERT', edge: { version: t0 + u * 10 + p, source: `u${u}`, target: 5000 + p, properties: { created_at: t0 + u * 10 + p } } });
const r1 = await call('POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: likes });
// like@100, like@300, unlike@200: ends active, count 1 (docs/model.md, "The transition")
const r2 = await call('POST', '/graph/v3/databases/shop/tables/likes/edges', {
  mutations: [
    { type: 'INSERT', edge: { version: t0 + 1000, source: 'u1', target: 9001, properties: { created_at: t0 + 1000 } } },
    { type: 'INSERT', edge: { version: t0 + 3000, source: 'u1', target: 9001, properties: { created_at: t0 + 3000 } } },
    { type: 'DELETE', edge: { version: t0 + 2000, source: 'u1', target: 9001, properties: {} } },
  ],
});
const r3 = await call('POST', '/graph/v3/databases/shop/tables/recent_views/edges', {
  mutations: [{ type: 'INSERT', edge: { version: t0, source: 'u1', target: 5001, properties: { created_at: t0 } } }],
});
const r4 = await call('POST', '/graph/v3/databases/shop/tables/gifts/multi-edges', {
  mutations: [{ type: 'INSERT', edge: { version: t0, id: 77001, source: 'u1', target: 'u2', properties: { amount: 3000 } } }],
});
const count = await call('GET', '/graph/v3/databases/shop/tables/likes/edges/count?start=5001&direction=IN');
const scan = await call('GET', '/graph/v3/databases/shop/tables/likes/edges/scan/recent?start=u1&direction=OUT&limit=3');

console.log(`likes: ${r1.results.length} keys ${r1.results[0].status}; worked example -> ${JSON.stringify(r2.results[0])}`);
console.log(`recent_views (ASYNC) -> ${r3.results[0].status}; gifts (multi-edge) -> ${r4.results[0].status}`);
console.log(`likes of product 5001: ${count.count}; u1's 3 most recent likes: ${scan.edges.map((e: any) => e.target).join(', ')}`);
