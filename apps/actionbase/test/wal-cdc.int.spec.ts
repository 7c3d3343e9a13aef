import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureKafka, startKafka, stopKafka } from '@pipeline/stack';
import { api, CoreProcess, createLikes, dataRecords, freePort, startCoreOnFreshTopics, waitFor } from '@pipeline/testing';

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
    // leave the broker running for the next suite, as ensureKafka found it
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
    // A private broker: the shared one serves every other suite (and `npm start`), which must not see it go down.
    const dir = mkdtempSync(path.join(tmpdir(), 'wal-cdc-kafka-'));
    const broker = { dir, port: await freePort(), controllerPort: await freePort(), readyTimeoutMs: 180_000 };
    try {
      const { bootstrap: own } = await startKafka(broker);
      ({ core, wal, cdc } = await startCoreOnFreshTopics(own, 'it', { LOG_LEVEL: 'info' }));
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
        const recs = await dataRecords(own, cdc);
        return recs.length >= 2 && recs;
      }, 30_000);
      expect(cdcRecords.map((x) => x.key).sort()).toEqual(['u1:1', 'u1:2']);
    } finally {
      await core?.stop('SIGKILL');
      await stopKafka(broker);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
