/**
 * Actionbase's Go CLI (`cli/` of Actionbase's repository) against the core: every HTTP request the CLI sends
 * while running the "build your social app" guide (`load preset build-your-social-app`, then each guide step),
 * replayed byte for byte as captured between the CLI and the core, headers included (the CLI sends an empty
 * `Authorization` and `Content-Type: application/json` on every request, GETs too). Each answer is checked
 * for the fields the CLI decodes (`cli/internal/client/model/{metastore,query}.go`) with the types it
 * decodes them into: a string where it expects a number makes the CLI report a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreProcess, freePort, tempStorage } from '@pipeline/testing';

let core: CoreProcess;

/** The CLI's headers, as captured. */
const CLI_HEADERS = { 'user-agent': 'Go-http-client/1.1', authorization: '', 'content-type': 'application/json', 'accept-encoding': 'gzip' };

async function cli(method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(core.url + path, { method, headers: CLI_HEADERS, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The guide's `__CURRENT_TIMESTAMP__`, fixed. */
const T = 1737849600000;

const labelBody = (desc: string, src: string, srcType: string, tgt: string, tgtType: string, table: string, fieldDesc: string, indexDesc: string) =>
  `{"desc":"${desc}","type":"INDEXED","schema":{"src":{"type":"${srcType}","desc":"${src}","name":null,"nullable":false},"tgt":{"type":"${tgtType}","desc":"${tgt}","name":null,"nullable":false},"fields":[{"type":"LONG","desc":"${fieldDesc}","name":"createdAt","nullable":false}]},"dirType":"BOTH","storage":"datastore://guides/${table}","indices":[{"name":"created_at_desc","desc":"${indexDesc}","fields":[{"name":"createdAt","order":"DESC"}]}],"event":false,"readOnly":false,"mode":"SYNC"}`;
const insert = (source: string, target: string | number, version = T) =>
  `{"mutations":[{"type":"INSERT","edge":{"version":${version},"source":${JSON.stringify(source)},"target":${JSON.stringify(target)},"properties":{"createdAt":${version}}}}]}`;

function expectMutation(r: { status: number; body: any }, source: string, target: string | number, status = 'CREATED'): void {
  expect(r.status).toBe(200);
  expect(r.body).toEqual({ results: [{ source, target, status, count: 1 }] });
}
function expectV2Label(entity: any, name: string): void {
  expect(entity).toMatchObject({ active: true, name, type: 'INDEXED', dirType: 'BOTH', event: false, readOnly: false, mode: 'SYNC' });
  expect(entity.schema).toMatchObject({ src: { type: expect.any(String) }, tgt: { type: expect.any(String) }, fields: [{ name: 'createdAt', type: 'LONG', nullable: false }] });
  expect(entity.indices).toEqual([expect.objectContaining({ name: 'created_at_desc', fields: [{ name: 'createdAt', order: 'DESC' }] })]);
}
/** `model.Get` / `model.Scan`: edges with a number version, counts as numbers, hasNext a boolean. */
function expectEdges(r: { status: number; body: any }, edges: Array<[string, string | number]>): void {
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ count: edges.length, hasNext: false });
  expect(typeof r.body.total).toBe('number');
  expect(r.body.offset).toBeNull();
  expect(r.body.edges.map((e: any) => [e.source, e.target])).toEqual(edges);
  for (const e of r.body.edges) {
    expect(typeof e.version).toBe('number');
    expect(e.properties).toEqual({ createdAt: expect.any(Number) });
  }
}

beforeAll(async () => {
  core = new CoreProcess({ PORT: String(await freePort()), STORAGE_PATH: tempStorage(), LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '3600000' });
  await core.start();
});
afterAll(async () => core?.stop());

describe("Actionbase's CLI: the build-your-social-app guide", () => {
  it('connection check: GET /graph/v3 answers 200 with `engine`, as Actionbase does', async () => {
    const r = await cli('GET', '/graph/v3');
    expect(r.status).toBe(200);
    expect(typeof r.body.engine).toBe('string');
    const v2 = await cli('GET', '/graph/v2');
    expect(v2.status).toBe(200);
    expect(typeof v2.body.engine).toBe('string');
  });

  it('preset: the database and both tables through v2, 9 edges through v3', async () => {
    const db = await cli('POST', '/graph/v2/service/social', '{"desc":""}');
    expect(db.status).toBe(200);
    expect(db.body).toEqual({ status: 'CREATED', result: { active: true, name: 'social', desc: '' } });

    const posts = await cli('POST', '/graph/v2/service/social/label/user_posts', labelBody('user posts table', 'userId', 'STRING', 'postId', 'LONG', 'user_posts', 'createdAt', 'order by createdAt'));
    expect(posts.status).toBe(200);
    expect(posts.body.status).toBe('CREATED');
    expectV2Label(posts.body.result, 'social.user_posts');
    for (const [s, t] of [['j4rami', 1], ['em3s', 2], ['em3s', 3], ['em3s', 4], ['zipdoki', 5]] as const) {
      expectMutation(await cli('POST', '/graph/v3/databases/social/tables/user_posts/edges', insert(s, t)), s, t);
    }
    const likes = await cli('POST', '/graph/v2/service/social/label/user_likes', labelBody('user likes table', 'userId', 'STRING', 'postId', 'LONG', 'user_likes', 'createdAt', 'order by createdAt'));
    expect(likes.status).toBe(200);
    expectV2Label(likes.body.result, 'social.user_likes');
    for (const [s, t] of [['d4v1d', 1], ['d4v1d', 2], ['punsoo', 2], ['ipoemigmail', 2]] as const) {
      expectMutation(await cli('POST', '/graph/v3/databases/social/tables/user_likes/edges', insert(s, t, T + 1)), s, t);
    }
  });

  it('use database, show tables, desc table', async () => {
    expect(await cli('GET', '/graph/v2/service/social')).toEqual({ status: 200, body: { active: true, name: 'social', desc: '' } });
    const list = await cli('GET', '/graph/v2/service/social/label');
    expect(list.status).toBe(200);
    expect(list.body.count).toBe(2);
    expect(list.body.content.map((t: any) => t.name)).toEqual(['social.user_posts', 'social.user_likes']);
    const desc = await cli('GET', '/graph/v2/service/social/label/user_posts');
    expect(desc.status).toBe(200);
    expectV2Label(desc.body, 'social.user_posts');
    expect(desc.body.schema.src).toMatchObject({ type: 'STRING', desc: 'userId' });
    expect(desc.body.schema.tgt).toMatchObject({ type: 'LONG', desc: 'postId' });
  });

  it('create the follows table, follow, get, count, scan', async () => {
    const follows = await cli(
      'POST',
      '/graph/v2/service/social/label/user_follows',
      labelBody('user follows table', 'userId', 'STRING', 'followee Id', 'STRING', 'user_follows', 'created at', 'order by createdAt'),
    );
    expect(follows.status).toBe(200);
    expectV2Label(follows.body.result, 'social.user_follows');

    expectMutation(await cli('POST', '/graph/v3/databases/social/tables/user_follows/edges', insert('zipdoki', 'j4rami', T + 2)), 'zipdoki', 'j4rami');
    expectEdges(await cli('GET', '/graph/v3/databases/social/tables/user_follows/edges/get?source=zipdoki&target=j4rami'), [['zipdoki', 'j4rami']]);
    const counts = await cli('GET', '/graph/v3/databases/social/tables/user_follows/edges/counts?start=j4rami&direction=IN');
    expect(counts.status).toBe(200);
    expect(counts.body).toMatchObject({ count: 1, counts: [{ start: 'j4rami', direction: 'IN', count: 1 }] });
    expectEdges(await cli('GET', '/graph/v3/databases/social/tables/user_follows/edges/scan/created_at_desc?direction=IN&limit=25&start=j4rami'), [['zipdoki', 'j4rami']]);
  });

  it('like a post, get it, count and scan its likers (newest first)', async () => {
    expectMutation(await cli('POST', '/graph/v3/databases/social/tables/user_likes/edges', insert('zipdoki', 1, T + 3)), 'zipdoki', 1);
    expectEdges(await cli('GET', '/graph/v3/databases/social/tables/user_likes/edges/get?source=zipdoki&target=1'), [['zipdoki', 1]]);
    const counts = await cli('GET', '/graph/v3/databases/social/tables/user_likes/edges/counts?start=1&direction=IN');
    expect(counts.body).toMatchObject({ count: 1, counts: [{ start: 1, direction: 'IN', count: 2 }] });
    expectEdges(await cli('GET', '/graph/v3/databases/social/tables/user_likes/edges/scan/created_at_desc?direction=IN&limit=25&start=1'), [
      ['zipdoki', 1],
      ['d4v1d', 1],
    ]);
  });

  it('the guide app unlikes through the same proxy: DELETE, then the count drops', async () => {
    const r = await cli('POST', '/graph/v3/databases/social/tables/user_likes/edges', `{"mutations":[{"type":"DELETE","edge":{"version":${T + 4},"source":"zipdoki","target":1,"properties":{"createdAt":${T + 4}}}}]}`);
    expectMutation(r, 'zipdoki', 1, 'DELETED');
    const counts = await cli('GET', '/graph/v3/databases/social/tables/user_likes/edges/counts?start=1&direction=IN');
    expect(counts.body.counts[0].count).toBe(1);
  });
});

describe("Actionbase's CLI: v3 tables and storages", () => {
  it('a v3 EDGE and a MULTI_EDGE table show in `show tables` and `desc table` (the v2 view the CLI reads)', async () => {
    const edge = await cli(
      'POST',
      '/graph/v3/databases/social/tables',
      '{"table":"follows_v3","schema":{"type":"EDGE","source":{"type":"string","comment":"user id"},"target":{"type":"string","comment":"user id"},"properties":[{"name":"createdAt","type":"long","nullable":false,"comment":"created at"}],"direction":"BOTH","indexes":[{"index":"created_at_desc","fields":[{"field":"createdAt","order":"DESC"}],"comment":"newest first"}],"groups":[]},"storage":"datastore://guides/follows_v3","mode":"SYNC","comment":"User follows relationship (v3)"}',
    );
    expect(edge.status).toBe(200);
    expect(edge.body).toMatchObject({ type: 'edge', table: 'follows_v3', schema: { type: 'edge', direction: 'BOTH' } });
    const multi = await cli(
      'POST',
      '/graph/v3/databases/social/tables',
      '{"table":"gifts_v3","schema":{"type":"MULTI_EDGE","id":{"type":"long","comment":"gift id"},"source":{"type":"string","comment":"sender"},"target":{"type":"string","comment":"receiver"},"properties":[{"name":"createdAt","type":"long","nullable":false,"comment":"created at"}],"direction":"OUT","indexes":[{"index":"created_at_desc","fields":[{"field":"createdAt","order":"DESC"}],"comment":"newest first"}],"groups":[]},"storage":"datastore://guides/gifts_v3","mode":"SYNC","comment":"gifts (v3 multi-edge)"}',
    );
    expect(multi.status).toBe(200);
    expect(multi.body).toMatchObject({ type: 'multiEdge', table: 'gifts_v3', schema: { type: 'multiEdge', direction: 'OUT' } });

    const list = await cli('GET', '/graph/v2/service/social/label');
    expect(list.body.content.map((t: any) => [t.name, t.type])).toEqual(expect.arrayContaining([['social.follows_v3', 'INDEXED'], ['social.gifts_v3', 'MULTI_EDGE']]));
    const desc = await cli('GET', '/graph/v2/service/social/label/follows_v3');
    expectV2Label(desc.body, 'social.follows_v3');

    expectMutation(await cli('POST', '/graph/v3/databases/social/tables/follows_v3/edges', insert('zipdoki', 'j4rami')), 'zipdoki', 'j4rami');
    expectEdges(await cli('GET', '/graph/v3/databases/social/tables/follows_v3/edges/scan/created_at_desc?direction=OUT&limit=25&start=zipdoki'), [['zipdoki', 'j4rami']]);
  });

  it('`mutate` on a multi-edge table: 400 with Actionbase error fields (Actionbase: require(schema is Edge) -> 400)', async () => {
    const r = await cli('POST', '/graph/v3/databases/social/tables/gifts_v3/edges', insert('zipdoki', 'j4rami'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, error: 'Bad Request', message: expect.stringContaining('multi-edges') });
    expect(typeof r.body.timestamp).toBe('number');
  });

  it('`show storages` lists the embedded storage as a DdlPage; `create storage` answers 501 naming what to do', async () => {
    const list = await cli('GET', '/graph/v2/storage');
    expect(list.status).toBe(200);
    expect(list.body).toEqual({ count: 1, content: [{ active: true, name: 'embedded', desc: expect.any(String), type: 'LOCAL', conf: {} }] });
    expect(['NIL', 'LOCAL', 'JDBC', 'HBASE', 'DATASTORE']).toContain(list.body.content[0].type);
    const create = await cli('POST', '/graph/v2/storage/s1', '{"desc":"st","type":"HBASE","conf":{"hbaseNamespace":"ns","hbaseTable":"t1"}}');
    expect(create.status).toBe(501);
    expect(create.body).toMatchObject({ status: 501, error: 'Not Implemented', code: 'NOT_IMPLEMENTED', message: expect.stringContaining('datastore://') });
    expect((await cli('GET', '/graph/v2/storage')).body.count).toBe(1);
  });
});
