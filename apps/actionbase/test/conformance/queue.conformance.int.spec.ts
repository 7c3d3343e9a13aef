/**
 * Actionbase's Queue API reference (website/src/content/docs/api-references/queue.mdx) and its design
 * page (design/queue.mdx): one test per documented example, then the server's behaviour where the docs
 * are silent (engine/queue/QueueService, PartitionHasher, server/api/queue/v1/metadata). Runs on SQLite
 * and, under test-integration-pg, on PostgreSQL, where a second core on the same database must see the
 * same queue.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreClient } from '@pipeline/core-api';
import { api, CoreProcess, freePort, testStorage, waitFor } from '@pipeline/testing';
import { startConformanceCore } from './query.tables';

const NS = 'your_namespace';
const Q = `/queue/v1/namespaces/${NS}/queues`;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** floorMod(xxhash32("user1", seed 0), 30): 0xBB88B2D7 as a Java int is -1148669225, and -1148669225 mod 30 = 25. */
const USER1_OF_30 = 25;

describe('Actionbase queue API reference', () => {
  let core: CoreProcess;
  const call = (method: string, p: string, body?: unknown) => api(core.url, method, p, body);

  beforeAll(async () => {
    core = await startConformanceCore();
    const db = await call('POST', '/graph/v3/databases', { database: NS, comment: 'queues' });
    expect(db.status).toBe(200);
  });
  afterAll(async () => core?.stop('SIGKILL'));

  it('1. create queue (documented example): the descriptor', async () => {
    const r = await call('POST', Q, { queue: 'your_queue', storage: 'datastore://your_namespace/your_queue', partitions: 30 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ namespace: NS, queue: 'your_queue', partitions: 30, storage: 'datastore://your_namespace/your_queue' });
  });

  it('1. create queue: partitions default to 30; a second queue of the same name is a conflict', async () => {
    const r = await call('POST', Q, { queue: 'defaults', storage: 'datastore://your_namespace/defaults' });
    expect(r.body).toEqual({ namespace: NS, queue: 'defaults', partitions: 30, storage: 'datastore://your_namespace/defaults' });
    const again = await call('POST', Q, { queue: 'defaults', storage: 'datastore://your_namespace/defaults' });
    expect(again.status).toBe(409);
  });

  it('2. get queue (documented example)', async () => {
    const r = await call('GET', `${Q}/your_queue`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ namespace: NS, queue: 'your_queue', partitions: 30, storage: 'datastore://your_namespace/your_queue' });
  });

  it('5. get partitions (documented example)', async () => {
    const r = await call('GET', `${Q}/your_queue/partitions`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ namespace: NS, queue: 'your_queue', partitions: 30 });
  });

  let ids: string[] = [];
  it('6. enqueue (documented example): one partition for one key, ULID ids, CREATED', async () => {
    const r = await call('POST', `${Q}/your_queue/messages`, {
      messages: [
        { key: 'user1', seq: 1000, value: { body: 'hello' } },
        { key: 'user1', seq: 1001, value: { body: 'world' } },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(2);
    expect(r.body.results).toEqual([
      { partition: USER1_OF_30, id: expect.stringMatching(ULID), status: 'CREATED' },
      { partition: USER1_OF_30, id: expect.stringMatching(ULID), status: 'CREATED' },
    ]);
    ids = r.body.results.map((x: { id: string }) => x.id);
    expect(new Set(ids).size).toBe(2);
  });

  it('7. poll (documented example): offset is exclusive, the answer carries the next offset', async () => {
    const r = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll?limit=100&offset=1000`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ messages: [{ partition: USER1_OF_30, id: ids[1], seq: 1001, value: { body: 'world' } }], offset: 1001, hasNext: false });
  });

  it('7. poll: from the start in seq order, page by page with hasNext; an empty page keeps the offset', async () => {
    const first = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll?limit=1`);
    expect(first.body).toEqual({ messages: [{ partition: USER1_OF_30, id: ids[0], seq: 1000, value: { body: 'hello' } }], offset: 1000, hasNext: true });
    const next = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll?limit=1&offset=1000`);
    expect(next.body).toMatchObject({ offset: 1001, hasNext: false });
    const drained = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll?offset=1001`);
    expect(drained.body).toEqual({ messages: [], offset: 1001, hasNext: false });
    const other = await call('GET', `${Q}/your_queue/partitions/0/poll`);
    expect(other.body).toEqual({ messages: [], offset: null, hasNext: false });
  });

  it('7. poll with until: only due messages (seq <= until)', async () => {
    await call('POST', Q, { queue: 'delays', storage: 'datastore://your_namespace/delays', partitions: 1 });
    const w = await call('POST', `${Q}/delays/messages`, {
      messages: [
        { key: 'a', seq: 30, value: 'later' },
        { key: 'b', seq: 10, value: 'due' },
        { key: 'c', seq: 20 },
      ],
    });
    expect(w.body.results.map((x: { partition: number }) => x.partition)).toEqual([0, 0, 0]);
    const r = await call('GET', `${Q}/delays/partitions/0/poll?until=20`);
    expect(r.body.messages.map((m: { seq: number; value: unknown }) => [m.seq, m.value])).toEqual([
      [10, 'due'],
      [20, null],
    ]);
    expect(r.body).toMatchObject({ offset: 20, hasNext: false });
    const rest = await call('GET', `${Q}/delays/partitions/0/poll?offset=20&until=40`);
    expect(rest.body.messages.map((m: { seq: number }) => m.seq)).toEqual([30]);
  });

  it('8. commit (documented example): seq <= offset deleted; re-polling from the start does not return them', async () => {
    const r = await call('DELETE', `${Q}/your_queue/partitions/${USER1_OF_30}/messages?offset=1001`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ namespace: NS, queue: 'your_queue', partition: USER1_OF_30, committed: 2 });
    const again = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll`);
    expect(again.body).toEqual({ messages: [], offset: null, hasNext: false });
    const twice = await call('DELETE', `${Q}/your_queue/partitions/${USER1_OF_30}/messages?offset=1001`);
    expect(twice.body.committed).toBe(0);
  });

  it('commit deletes only its prefix: later messages stay', async () => {
    const r = await call('DELETE', `${Q}/delays/partitions/0/messages?offset=20`);
    expect(r.body.committed).toBe(2);
    const left = await call('GET', `${Q}/delays/partitions/0/poll`);
    expect(left.body.messages.map((m: { seq: number }) => m.seq)).toEqual([30]);
  });

  it('64-bit seq and values round-trip exactly; same-seq messages keep their order and are never split by a page', async () => {
    await call('POST', Q, { queue: 'wide', storage: 'datastore://your_namespace/wide', partitions: 1 });
    const big = '9007199254740993';
    const res = await fetch(`${core.url}${Q}/wide/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"messages":[{"key":"k","seq":${big},"value":{"n":${big}}},{"key":"k","seq":5,"value":1},{"key":"k","seq":5,"value":2},{"key":"k","seq":5,"value":3}]}`,
    });
    expect(res.status).toBe(200);
    const page = await fetch(`${core.url}${Q}/wide/partitions/0/poll?limit=2`).then((r) => r.text());
    // limit 2 would end inside the run of seq 5: the whole run comes, so offset 5 skips nothing.
    expect(JSON.parse(page).messages.map((m: { value: unknown }) => m.value)).toEqual([1, 2, 3]);
    expect(JSON.parse(page)).toMatchObject({ offset: 5, hasNext: true });
    const last = await fetch(`${core.url}${Q}/wide/partitions/0/poll?offset=5`).then((r) => r.text());
    expect(last).toContain(`"seq":${big}`);
    expect(last).toContain(`"value":{"n":${big}}`);
    expect(last).toContain(`"offset":${big}`);
  });

  it('bad input: 400 naming the field, nothing written', async () => {
    const before = await call('GET', `${Q}/delays/partitions/0/poll`);
    const cases: [string, string, unknown, string][] = [
      ['POST', `${Q}/delays/messages`, { messages: [{ key: 'a', seq: 40 }, { key: 'b' }] }, 'messages[1].seq'],
      ['POST', `${Q}/delays/messages`, { messages: [{ key: 'a', seq: 40, extra: 1 }] }, 'messages[0]'],
      ['POST', `${Q}/delays/messages`, { messages: [{ seq: 40 }] }, 'messages[0].key'],
      ['POST', `${Q}/delays/messages`, { messages: [{ key: 'a', seq: '1e3' }] }, 'messages[0].seq'],
      ['POST', `${Q}/delays/messages`, {}, 'messages'],
      ['GET', `${Q}/delays/partitions/1/poll`, undefined, 'partition'],
      ['GET', `${Q}/delays/partitions/-1/poll`, undefined, 'partition'],
      ['GET', `${Q}/delays/partitions/0/poll?limit=1001`, undefined, 'limit'],
      ['GET', `${Q}/delays/partitions/0/poll?limit=0`, undefined, 'limit'],
      ['GET', `${Q}/delays/partitions/0/poll?offset=abc`, undefined, 'offset'],
      ['DELETE', `${Q}/delays/partitions/0/messages`, undefined, 'offset'],
      ['POST', Q, { queue: 'bad name', storage: 'datastore://your_namespace/x' }, 'queue'],
      ['POST', Q, { queue: 'x', storage: 'hbase://x' }, 'storage'],
      ['POST', Q, { queue: 'x', storage: 'datastore://your_namespace/x', partitions: 0 }, 'partitions'],
      ['POST', Q, { queue: 'x', storage: 'datastore://your_namespace/x', partitionCount: 3 }, 'body'],
    ];
    for (const [method, p, body, field] of cases) {
      const r = await call(method, p, body);
      expect([p, r.status]).toEqual([p, 400]);
      expect([p, r.body.message]).toEqual([p, expect.stringContaining(field === 'body' ? 'partitionCount' : field)]);
    }
    expect((await call('GET', `${Q}/delays/partitions/0/poll`)).body).toEqual(before.body);
    expect((await call('GET', `${Q}/x`)).status).toBe(404);
  });

  it('a queue name is a table name of its database: a table of that name cannot be shadowed', async () => {
    const clash = await api(core.url, 'POST', `/queue/v1/namespaces/your_database/queues`, { queue: 'your_table', storage: 'datastore://your_database/t' });
    expect(clash.status).toBe(409);
    const noDb = await call('POST', '/queue/v1/namespaces/nowhere/queues', { queue: 'q', storage: 'datastore://nowhere/q' });
    expect(noDb.status).toBe(404);
    // and the other way round: no table may take a queue's name
    const table = await call('POST', `/graph/v3/databases/${NS}/tables`, {
      table: 'your_queue',
      schema: { type: 'EDGE', source: { type: 'string', comment: '' }, target: { type: 'string', comment: '' }, properties: [], direction: 'OUT', indexes: [] },
      storage: 'datastore://your_namespace/your_queue',
      mode: 'SYNC',
      comment: '',
    });
    expect(table.status).toBe(409);
  });

  it('a database with an enabled queue cannot be deleted; its disabled queues go with it', async () => {
    await call('POST', '/graph/v3/databases', { database: 'scratch', comment: '' });
    await call('POST', '/queue/v1/namespaces/scratch/queues', { queue: 'q', storage: 'datastore://scratch/q', partitions: 1 });
    await call('POST', '/queue/v1/namespaces/scratch/queues/q/messages', { messages: [{ key: 'k', seq: 1 }] });
    await call('PUT', '/graph/v3/databases/scratch', { active: false });
    const refused = await call('DELETE', '/graph/v3/databases/scratch');
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('enabled queues q');
    await call('PUT', '/queue/v1/namespaces/scratch/queues/q/disable');
    expect((await call('DELETE', '/graph/v3/databases/scratch')).status).toBe(204);
    expect((await call('GET', '/queue/v1/namespaces/scratch/queues/q')).status).toBe(404);
    await call('POST', '/graph/v3/databases', { database: 'scratch', comment: '' });
    await call('POST', '/queue/v1/namespaces/scratch/queues', { queue: 'q', storage: 'datastore://scratch/q', partitions: 1 });
    expect((await call('GET', '/queue/v1/namespaces/scratch/queues/q/partitions/0/poll')).body.messages).toEqual([]);
  });

  it('3-4. disable, enable, delete: delete of an enabled queue is 409; a disabled queue refuses reads and writes', async () => {
    const del = await call('DELETE', `${Q}/delays`);
    expect(del.status).toBe(409);
    const off = await call('PUT', `${Q}/delays/disable`);
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ namespace: NS, queue: 'delays', partitions: 1, storage: 'datastore://your_namespace/delays' });
    expect((await call('GET', `${Q}/delays/partitions/0/poll`)).status).toBe(400);
    expect((await call('POST', `${Q}/delays/messages`, { messages: [{ key: 'a', seq: 1 }] })).status).toBe(400);
    expect((await call('PUT', `${Q}/delays/enable`)).status).toBe(200);
    expect((await call('GET', `${Q}/delays/partitions/0/poll`)).body.messages).toHaveLength(1);
    await call('PUT', `${Q}/delays/disable`);
    const gone = await call('DELETE', `${Q}/delays`);
    expect(gone.status).toBe(204);
    expect((await call('GET', `${Q}/delays`)).status).toBe(404);
    // created again, it starts empty
    await call('POST', Q, { queue: 'delays', storage: 'datastore://your_namespace/delays', partitions: 1 });
    expect((await call('GET', `${Q}/delays/partitions/0/poll`)).body.messages).toEqual([]);
  });

  it('commit is bounded: an offset covering more than 10,000 messages is refused and deletes nothing', async () => {
    await call('POST', Q, { queue: 'bulk', storage: 'datastore://your_namespace/bulk', partitions: 1 });
    for (let b = 0; b < 3; b++) {
      const messages = Array.from({ length: 3_500 }, (_, i) => ({ key: 'k', seq: b * 3_500 + i }));
      expect((await call('POST', `${Q}/bulk/messages`, { messages })).status).toBe(200);
    }
    const r = await call('DELETE', `${Q}/bulk/partitions/0/messages?offset=20000`);
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('10000');
    const half = await call('DELETE', `${Q}/bulk/partitions/0/messages?offset=4999`);
    expect(half.body.committed).toBe(5_000);
    const rest = await call('DELETE', `${Q}/bulk/partitions/0/messages?offset=20000`);
    expect(rest.body.committed).toBe(5_500);
  });

  it('the poll → process → commit lifecycle through @pipeline/core-api: every message once, in seq order per key', async () => {
    const client = new CoreClient({ baseUrl: core.url, actor: 'queue-test' });
    await client.createQueue(NS, 'work', 'datastore://your_namespace/work', 6);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const sent = Array.from({ length: 400 }, (_, i) => ({ key: keys[i % keys.length]!, seq: 1_000 + Math.floor(i / 3), value: { i } }));
    for (let i = 0; i < sent.length; i += 100) expect((await client.enqueue(NS, 'work', sent.slice(i, i + 100))).accepted).toBe(100);
    const partitions = await client.queuePartitions(NS, 'work');
    const seen: { key: string; i: number; seq: number }[] = [];
    for (let p = 0; p < partitions; p++) {
      let offset: number | bigint | null = null;
      for (;;) {
        const page = await client.poll(NS, 'work', p, { limit: 7, offset });
        for (const m of page.messages) seen.push({ key: sent[(m.value as { i: number }).i]!.key, i: (m.value as { i: number }).i, seq: Number(m.seq) });
        if (page.messages.length) await client.commit(NS, 'work', p, page.offset!);
        offset = page.offset;
        if (!page.hasNext) break;
      }
      expect((await client.poll(NS, 'work', p)).messages).toEqual([]);
    }
    expect(seen.map((m) => m.i).sort((a, b) => a - b)).toEqual(sent.map((_, i) => i));
    for (const k of keys) {
      const mine = seen.filter((m) => m.key === k).map((m) => m.i);
      expect(mine).toEqual([...mine].sort((a, b) => a - b)); // one key: one partition, in seq (and arrival) order
    }
  });

  it('queue operations write no WAL or CDC record (the log sink prints every record; an edge mutation shows one)', async () => {
    const records = (needle: string) => core.output.split('\n').filter((l) => l.startsWith('{"topic":') && l.includes(needle));
    expect(records(`"${NS}"`)).toEqual([]);
    const w = await api(core.url, 'POST', '/graph/v3/databases/your_database/tables/your_table/edges', {
      mutations: [{ type: 'INSERT', edge: { version: 1, source: 'a', target: 'b', properties: {} } }],
    });
    expect(w.status).toBe(200);
    await waitFor('the edge mutation in the log sink', async () => records('"your_database"').length >= 2);
    expect(records('"your_database"').map((l) => JSON.parse(l).topic)).toEqual(expect.arrayContaining(['wal', 'cdc']));
    expect(records(`"${NS}"`)).toEqual([]);
  });

  it('messages survive a restart of the core', async () => {
    await call('POST', `${Q}/your_queue/messages`, { messages: [{ key: 'user1', seq: 2000, value: 'kept' }] });
    await core.stop('SIGKILL');
    await core.start();
    const r = await call('GET', `${Q}/your_queue/partitions/${USER1_OF_30}/poll`);
    expect(r.body.messages.map((m: { value: unknown }) => m.value)).toEqual(['kept']);
  });

  (testStorage() === 'postgres' ? it : it.skip)('two cores creating one name at once (a table and a queue, or two tables): one is created, the other is a conflict', async () => {
    const other = new CoreProcess({ ...core.env, PORT: String(await freePort()) });
    await other.start();
    const table = (name: string) => ({
      table: name,
      schema: { type: 'EDGE', source: { type: 'string', comment: '' }, target: { type: 'string', comment: '' }, properties: [], direction: 'OUT', indexes: [] },
      storage: `datastore://${NS}/${name}`,
      mode: 'SYNC',
      comment: '',
    });
    try {
      for (let i = 0; i < 8; i++) {
        const [t, q] = await Promise.all([
          call('POST', `/graph/v3/databases/${NS}/tables`, table(`race_q${i}`)),
          api(other.url, 'POST', Q, { queue: `race_q${i}`, storage: `datastore://${NS}/race_q${i}` }),
        ]);
        expect([t.status, q.status].sort()).toEqual([200, 409]);
        const [a, b] = await Promise.all([call('POST', `/graph/v3/databases/${NS}/tables`, table(`race_t${i}`)), api(other.url, 'POST', `/graph/v3/databases/${NS}/tables`, table(`race_t${i}`))]);
        expect([a.status, b.status].sort()).toEqual([200, 409]);
      }
      // Both cores see the same winners: each name is a table or a queue, never both.
      for (const url of [core.url, other.url]) {
        for (let i = 0; i < 8; i++) {
          const [t, q] = await Promise.all([api(url, 'GET', `/graph/v3/databases/${NS}/tables/race_q${i}`), api(url, 'GET', `${Q}/race_q${i}`)]);
          expect([t.status, q.status].sort()).toEqual([200, 404]);
        }
      }
    } finally {
      await other.stop('SIGKILL');
    }
  });

  (testStorage() === 'postgres' ? it : it.skip)('two cores on one PostgreSQL share queues and messages', async () => {
    const other = new CoreProcess({ ...core.env, PORT: String(await freePort()) });
    await other.start();
    try {
      await api(other.url, 'POST', Q, { queue: 'shared', storage: 'datastore://your_namespace/shared', partitions: 2 });
      expect((await call('GET', `${Q}/shared`)).body.partitions).toBe(2);
      const w = await call('POST', `${Q}/shared/messages`, { messages: [{ key: 'x', seq: 1, value: 'from a' }] });
      const p = w.body.results[0].partition;
      const seen = await api(other.url, 'GET', `${Q}/shared/partitions/${p}/poll`);
      expect(seen.body.messages.map((m: { value: unknown }) => m.value)).toEqual(['from a']);
      expect((await api(other.url, 'DELETE', `${Q}/shared/partitions/${p}/messages?offset=1`)).body.committed).toBe(1);
      expect((await call('GET', `${Q}/shared/partitions/${p}/poll`)).body.messages).toEqual([]);
    } finally {
      await other.stop('SIGKILL');
    }
  });
});
