import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureKafka, startKafka, stopKafka } from '@pipeline/stack';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson } from '@pipeline/events';
import { api, CoreProcess, createLikes, dataRecords, freePort, kcatRead, repoRoot, startCoreOnFreshTopics, waitFor } from '@pipeline/testing';

/** A request whose answer is read losslessly: 64-bit integers come back as bigint, never rounded. */
async function exact(url: string, method: string, path: string, body?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body });
  const text = await res.text();
  return { status: res.status, body: text ? parseJson(text) : null };
}

const like = (source: string, target: number, version: number, type = 'INSERT') => ({
  type,
  edge: { version, source, target, properties: type === 'DELETE' ? {} : { created_at: version } },
});

describe('core -> real Kafka', () => {
  let bootstrap: string;
  let core: CoreProcess;
  let wal: string;
  let cdc: string;

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
  });

  const newCore = async (extra: Record<string, string> = {}) => {
    ({ core, wal, cdc } = await startCoreOnFreshTopics(bootstrap, 'it', { LOG_LEVEL: 'info', ...extra }));
    return core;
  };


  afterEach(async () => core?.stop('SIGKILL'));
  afterAll(async () => {
    // leave the shared broker running for the next suite, as ensureKafka found it
  });

  it('one request gives one WAL record per item and one CDC record per key, read back with kcat', async () => {
    await newCore();
    await createLikes(core.url, 'likes');
    const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', {
      mutations: [like('u1', 1, 100), like('u1', 1, 300), like('u1', 1, 200, 'DELETE'), like('u2', 1, 100), like('u2', 1, 150, 'DELETE')],
    });
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { source: 'u1', target: 1, status: 'CREATED', count: 3 },
      { source: 'u2', target: 1, status: 'IDLE', count: 2 },
    ]);

    const walRecords = await waitFor('5 WAL records', async () => {
      const recs = await dataRecords(bootstrap, wal);
      return recs.length >= 5 && recs;
    });
    expect(walRecords).toHaveLength(5);
    expect(walRecords.map((x) => x.key).sort()).toEqual(['u1:1', 'u1:1', 'u1:1', 'u2:1', 'u2:1']);
    expect(walRecords.every((x) => x.value.version === '3' && x.value.mode.queue === false)).toBe(true);
    // one key stays in one partition: per-edge order
    expect(new Set(walRecords.filter((x) => x.key === 'u1:1').map((x) => x.partition)).size).toBe(1);

    const cdcRecords = await waitFor('2 CDC records', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.length >= 2 && recs;
    });
    expect(cdcRecords).toHaveLength(2);
    const byKey = Object.fromEntries(cdcRecords.map((x) => [x.key, x.value]));
    expect(byKey['u1:1']).toMatchObject({ status: 'CREATED', accumulator: 1, before: null, after: { active: true, version: 300, createdAt: 300, deletedAt: 200 } });
    expect(byKey['u1:1'].events).toHaveLength(3);
    // insert@100 then delete@150: stored as an inactive tombstone, nothing to count
    expect(byKey['u2:1']).toMatchObject({ status: 'IDLE', accumulator: 0, before: null, after: { active: false, deletedAt: 150 } });
    // the worked example: counts agree with the CDC accumulators
    const count = await api(core.url, 'GET', '/graph/v3/databases/shop/tables/likes/edges/count?start=1&direction=IN');
    expect(count.body.count).toBe(cdcRecords.reduce((s, x) => s + x.value.accumulator, 0));
  });

  it('64-bit LONG keys, properties and nanosecond versions beyond 2^53 are stored and answered exactly, WAL/CDC included', async () => {
    await newCore();
    await api(core.url, 'POST', '/graph/v3/databases', { database: 'shop' });
    const created = await api(core.url, 'POST', '/graph/v3/databases/shop/tables', {
      table: 'ids',
      schema: { source: { type: 'LONG' }, target: { type: 'LONG' }, properties: [{ name: 'n', type: 'LONG', nullable: false }] },
      direction: 'BOTH',
      indexes: [{ index: 'by_n', fields: [{ field: 'n', order: 'DESC' }] }],
      mode: 'SYNC',
    });
    expect(created.status).toBe(200);
    const t = '/graph/v3/databases/shop/tables/ids';
    // 2^53 + 1 and its neighbours: a double cannot tell them apart, so any rounding merges them.
    const big = 9007199254740993n;
    const ns = 1732900000000000001n;
    const body = `{"mutations":[
      {"type":"INSERT","edge":{"version":${ns},"source":${big},"target":${big + 2n},"properties":{"n":${big}}}},
      {"type":"INSERT","edge":{"version":${ns + 1n},"source":${big},"target":${big + 1n},"properties":{"n":${big + 1n}}}},
      {"type":"UPDATE","edge":{"version":${ns - 1n},"source":${big},"target":${big + 2n},"properties":{"n":1}}}]}`;
    const r = await exact(core.url, 'POST', `${t}/edges`, body);
    expect(r.status).toBe(200);
    expect(r.body.results).toEqual([
      { source: big, target: big + 1n, status: 'CREATED', count: 1 },
      { source: big, target: big + 2n, status: 'CREATED', count: 2 },
    ]);

    const got = await exact(core.url, 'GET', `${t}/edges/get?source=${big}&target=${big + 2n},${big + 1n}`);
    expect(got.body.edges).toEqual([
      // the UPDATE one ns older than the INSERT lost
      { version: ns, source: big, target: big + 2n, properties: { n: big }, context: {} },
      { version: ns + 1n, source: big, target: big + 1n, properties: { n: big + 1n }, context: {} },
    ]);
    // the neighbour 2^53 (what a rounding reader would have asked for) is another edge: none
    expect((await exact(core.url, 'GET', `${t}/edges/get?source=${big - 1n}&target=${big + 2n}`)).body.edges).toEqual([]);
    // scan by n DESC: the two values one apart keep their order
    const scan = await exact(core.url, 'GET', `${t}/edges/scan/by_n?start=${big}&direction=OUT`);
    expect(scan.body.edges.map((e: { target: bigint }) => e.target)).toEqual([big + 1n, big + 2n]);
    const ranged = await exact(core.url, 'GET', `${t}/edges/scan/by_n?start=${big}&direction=OUT&ranges=n:lt:${big + 1n}`);
    expect(ranged.body.edges.map((e: { target: bigint }) => e.target)).toEqual([big + 2n]);
    expect((await exact(core.url, 'GET', `${t}/edges/count?start=${big}&direction=OUT`)).body).toMatchObject({ start: big, count: 2 });
    const counts = await exact(core.url, 'GET', `${t}/edges/counts?start=${big + 1n},${big + 2n},${big - 1n}&direction=IN`);
    expect(counts.body.counts.map((c: { start: bigint; count: number }) => [c.start, c.count])).toEqual([
      [big + 1n, 1],
      [big + 2n, 1],
      [big - 1n, 0],
    ]);

    // The records carry the exact values as bare JSON integers.
    const walRecs = await waitFor('3 WAL records', async () => {
      const recs = (await kcatRead(bootstrap, wal)).filter((x) => x.payload?.includes('"ids"'));
      return recs.length >= 3 && recs;
    });
    const walEvents = walRecs.map((x) => (parseJson(x.payload!) as { event: { version: bigint; source: bigint; target: bigint } }).event);
    expect(walEvents.map((e) => [e.version, e.source, e.target]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1))).toEqual([
      [ns - 1n, big, big + 2n],
      [ns, big, big + 2n],
      [ns + 1n, big, big + 1n],
    ]);
    expect(walRecs.map((x) => x.key).sort()).toEqual([`${big}:${big + 1n}`, `${big}:${big + 2n}`, `${big}:${big + 2n}`]);
    const cdcRecords = await waitFor('2 CDC records', async () => {
      const recs = (await kcatRead(bootstrap, cdc)).filter((x) => x.payload?.includes('"ids"'));
      return recs.length >= 2 && recs;
    });
    const after = cdcRecords.map((x) => (parseJson(x.payload!) as { after: unknown }).after).find((a) => (a as { target: bigint }).target === big + 2n);
    expect(after).toEqual({
      source: big,
      target: big + 2n,
      active: true,
      version: ns,
      createdAt: ns,
      deletedAt: null,
      properties: { n: { value: big, version: ns } },
    });
  });

  it('a request of 10,000 items (the limit) is written to the WAL in byte-bounded produce requests', async () => {
    await newCore();
    await createLikes(core.url, 'likes');
    const mutations = Array.from({ length: 10_000 }, (_, i) => like(`user-with-a-longish-id-${i % 500}`, i, 1_000 + i));
    const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations });
    expect(r.status).toBe(200);
    expect(r.body.results).toHaveLength(10_000);
    const walRecords = await waitFor('10,000 WAL records', async () => {
      const recs = await dataRecords(bootstrap, wal);
      return recs.length >= 10_000 && recs;
    });
    expect(walRecords).toHaveLength(10_000);
  });

  it('an ASYNC table answers QUEUED, publishes WAL with queue=true and no CDC', async () => {
    await newCore();
    await createLikes(core.url, 'recent_views', 'ASYNC');
    const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/recent_views/edges', { mutations: [like('u1', 7, 100)] });
    expect(r.body.results).toEqual([{ source: 'u1', target: 7, status: 'QUEUED', count: 1 }]);
    const walRecords = await waitFor('the WAL record', async () => {
      const recs = await dataRecords(bootstrap, wal);
      return recs.length >= 1 && recs;
    });
    expect(walRecords[0]!.value.mode).toMatchObject({ table: 'ASYNC', request: null, queue: true });
    // a SYNC write after it proves the CDC relay ran; still no CDC for the queued edge
    await createLikes(core.url, 'likes');
    await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u9', 9, 100)] });
    const cdcRecords = await waitFor('the CDC of the SYNC write', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.length >= 1 && recs;
    });
    expect(cdcRecords.map((x) => x.value.context.table)).toEqual(['likes']);
  });

  it('kill -9 after the state commit and before the CDC relay: the restarted core publishes the CDC record once', async () => {
    await newCore();
    await createLikes(core.url, 'likes');
    await core.stop();
    await core.start({ FAULT_CRASH_AFTER_COMMIT: 'true' });
    const answered = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u1', 1, 100)] }).then(
      () => true,
      () => false,
    );
    expect(answered).toBe(false); // the process died before answering
    await core.exited();
    expect(await dataRecords(bootstrap, wal)).toHaveLength(1);
    expect(await dataRecords(bootstrap, cdc)).toHaveLength(0);

    await core.start();
    const cdcRecords = await waitFor('the relayed CDC record', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.length >= 1 && recs;
    });
    expect(cdcRecords).toHaveLength(1);
    expect(cdcRecords[0]!.value).toMatchObject({ status: 'CREATED', accumulator: 1 });
    // the state was committed before the crash
    expect((await api(core.url, 'GET', '/graph/v3/databases/shop/tables/likes/edges/count?start=u1&direction=OUT')).body.count).toBe(1);
    // a further clean restart sends nothing again
    await core.stop();
    await core.start();
    await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u2', 2, 100)] });
    const after = await waitFor('the next CDC record', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.length >= 2 && recs;
    });
    expect(after.filter((x) => x.key === 'u1:1')).toHaveLength(1);
  });

  it('with the broker stopped, mutations fail with 503 and change nothing; they succeed once it is back', async () => {
    // A private broker (own folder and ports): the shared one is never stopped.
    const stackDir = join(repoRoot, '.stack', `it-core-broker-${process.pid}`);
    const broker = { dir: join(stackDir, 'kafka'), port: await freePort(), controllerPort: await freePort(), readyTimeoutMs: 120_000 };
    const shared = bootstrap;
    try {
      await startKafka(broker);
      bootstrap = `127.0.0.1:${broker.port}`;
      await brokerStopped(broker);
    } finally {
      bootstrap = shared;
      await core?.stop('SIGKILL');
      await stopKafka({ ...broker, stopTimeoutMs: 10_000 }).catch(() => undefined);
      rmSync(stackDir, { recursive: true, force: true });
    }
  }, 300_000);

  async function brokerStopped(broker: { dir: string; port: number; controllerPort: number; readyTimeoutMs: number }): Promise<void> {
    await newCore();
    await createLikes(core.url, 'likes');
    expect((await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u1', 1, 100)] })).status).toBe(200);
    await stopKafka(broker);
    try {
      const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u1', 2, 100)] });
      expect(r.status).toBe(503);
      expect(r.body.code).toBe('WAL_UNAVAILABLE');
      expect((await api(core.url, 'GET', '/graph/v3/databases/shop/tables/likes/edges/count?start=u1&direction=OUT')).body.count).toBe(1);
    } finally {
      await startKafka(broker);
    }
    const ok = await waitFor('a successful mutation after the broker returned', async () => {
      const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: [like('u1', 2, 100)] });
      return r.status === 200 && r;
    }, 60_000);
    expect(ok.body.results[0].status).toBe('CREATED');
    expect((await api(core.url, 'GET', '/graph/v3/databases/shop/tables/likes/edges/count?start=u1&direction=OUT')).body.count).toBe(2);
    const cdcRecords = await waitFor('both CDC records', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.length >= 2 && recs;
    }, 30_000);
    expect(cdcRecords.map((x) => x.key).sort()).toEqual(['u1:1', 'u1:2']);
  }
});
