/**
 * The processor against the real Kafka and the real core (both as OS processes), on fresh topics and a fresh
 * core per test. What is checked is what a user sees through the core's REST API, and the CDC read by kcat.
 */
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureKafka } from '@pipeline/stack';
import { api, dataRecords, kcatRead, uniqueName, waitFor, type CoreProcess } from '@pipeline/testing';
import { createRecentViews, freshCore, post, ProcessorProcess, view } from './helpers';

const run = promisify(execFile);
const TABLE = 'recent_views';
const BASE = `/graph/v3/databases/shop/tables/${TABLE}`;

let bootstrap: string;
let core: CoreProcess | undefined;
const processors: ProcessorProcess[] = [];

beforeAll(async () => {
  bootstrap = (await ensureKafka()).bootstrap;
}, 180_000);

afterEach(async () => {
  for (const p of processors.splice(0)) await p.stop('SIGKILL');
  await core?.stop('SIGKILL');
  core = undefined;
});

function processor(wal: string, url: string, env: Record<string, string> = {}): ProcessorProcess {
  const p = new ProcessorProcess({ KAFKA_BROKERS: bootstrap, WAL_TOPIC: wal, GROUP_ID: uniqueName('ap.group'), CORE_URL: url, ...env });
  processors.push(p);
  return p;
}

/** Sum of async_processor_mutations_total over tables and statuses. */
async function appliedCount(p: ProcessorProcess): Promise<number> {
  const lines = (await p.metrics()).split('\n').filter((l) => l.startsWith('async_processor_mutations_total{'));
  return lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const getEdge = async (url: string, user: string, product: number) =>
  (await api(url, 'GET', `${BASE}/edges/get?source=${user}&target=${product}`)).body.edges as any[];
const countOf = async (url: string, user: string) => (await api(url, 'GET', `${BASE}/edges/count?start=${user}&direction=OUT`)).body.count as number;
const scanTargets = async (url: string, user: string) =>
  ((await api(url, 'GET', `${BASE}/edges/scan/recent?start=${user}&direction=OUT&limit=100`)).body.edges as any[]).map((e) => e.target);

describe('async processor: Recent Views on the real core and Kafka', () => {
  it('an ASYNC view answers QUEUED, stays invisible until the processor runs, then shows up via get and scan', async () => {
    const c = await freshCore(bootstrap);
    core = c.core;
    const url = core.url;
    await createRecentViews(url, TABLE);
    const t0 = Date.now();

    const first = await post(url, TABLE, [view('u1', 101, t0), view('u1', 102, t0 + 1)], 'req-before');
    expect(first.body.results).toEqual([
      { source: 'u1', target: 101, status: 'QUEUED', count: 1 },
      { source: 'u1', target: 102, status: 'QUEUED', count: 1 },
    ]);
    expect(await getEdge(url, 'u1', 101)).toEqual([]); // only the WAL has it until a processor applies it

    const p = processor(c.wal, url);
    await p.start();
    await waitFor('the views queued before the start', async () => (await countOf(url, 'u1')) === 2, 20_000);

    // While running: QUEUED answer, visible shortly after.
    const queuedAt = Date.now();
    const second = await post(url, TABLE, [view('u1', 103, t0 + 2)], 'req-while-running');
    expect(second.body.results[0].status).toBe('QUEUED');
    await waitFor('the new view via get', async () => (await getEdge(url, 'u1', 103)).length === 1, 10_000);
    const visibleMs = Date.now() - queuedAt;
    expect(await scanTargets(url, 'u1')).toEqual([103, 102, 101]); // newest first on the `recent` index

    // Applied as the processor, carrying the original request id; the processor's own WAL records are not queued.
    const cdc = await waitFor('3 CDC records', async () => {
      const recs = await dataRecords(bootstrap, c.cdc);
      return recs.length >= 3 && recs;
    });
    expect(cdc.map((r) => r.value.status)).toEqual(['CREATED', 'CREATED', 'CREATED']);
    expect(cdc.every((r) => r.value.context.request.actor === 'AsyncRequestProcessor')).toBe(true);
    expect(new Set(cdc.map((r) => r.value.context.request.requestId))).toEqual(new Set(['req-before', 'req-while-running']));
    const wal = await dataRecords(bootstrap, c.wal);
    const replays = wal.filter((r) => r.value.context.request.actor === 'AsyncRequestProcessor');
    expect(replays).toHaveLength(3);
    expect(replays.every((r) => r.value.mode.queue === false && r.value.mode.force === true)).toBe(true);
    console.log(`QUEUED -> visible via get: ${visibleMs} ms`);
  });

  it('KEEP_NEWEST keeps only the newest N views per user, deleting older ones through the core', async () => {
    const c = await freshCore(bootstrap);
    core = c.core;
    const url = core.url;
    await createRecentViews(url, TABLE);
    const p = processor(c.wal, url, { KEEP_NEWEST: `shop.${TABLE}:recent:3` });
    await p.start();
    const t0 = Date.now();

    // u1 views 6 products in two requests; u2 views 2 (under the limit, untouched).
    await post(url, TABLE, [1, 2, 3, 4].map((i) => view('u1', 200 + i, t0 + i)));
    await post(url, TABLE, [view('u1', 205, t0 + 5), view('u1', 206, t0 + 6), view('u2', 201, t0 + 1), view('u2', 202, t0 + 2)]);
    await waitFor('u1 trimmed to its 3 newest views', async () => (await scanTargets(url, 'u1')).join() === '206,205,204', 20_000);
    expect(await countOf(url, 'u1')).toBe(3);
    expect(await getEdge(url, 'u1', 201)).toEqual([]);
    expect(await scanTargets(url, 'u2')).toEqual([202, 201]);

    // Viewing an old product again makes it the newest; the oldest of the three goes.
    await post(url, TABLE, [view('u1', 201, t0 + 7)]);
    await waitFor('201 back as the newest, 204 trimmed', async () => (await scanTargets(url, 'u1')).join() === '201,206,205', 20_000);
    expect(await countOf(url, 'u1')).toBe(3);

    // The trims are DELETEs by the processor, visible in the CDC.
    const cdc = await dataRecords(bootstrap, c.cdc);
    const deleted = cdc.filter((r) => r.value.status === 'DELETED');
    expect(deleted.map((r) => r.key).sort()).toEqual(['u1:201', 'u1:202', 'u1:203', 'u1:204']);
    expect(deleted.every((r) => r.value.context.request.actor === 'AsyncRequestProcessor')).toBe(true);
    expect(await p.metrics()).toMatch(/async_processor_trimmed_total\{table="shop.recent_views"\} 4/);
  });

  /**
   * 1200 queued views (40 users x 30, products drawn from 12, so many keys are viewed more than once), the
   * processor killed with SIGKILL in the middle, then started again in the same group. `external`: the test
   * kills it after some views are applied (wherever it is); `fault`: it kills itself right after its 5th
   * accepted request to the core, before that batch's commit, so the restart must replay applied records.
   */
  async function killUnderLoad(how: 'external' | 'fault') {
    const c = await freshCore(bootstrap);
    core = c.core;
    const url = core.url;
    await createRecentViews(url, TABLE);
    // Slow enough that the kill lands in the middle of the work: batches of 10, 100 mutations/s (~12 s of work).
    const env = { BATCH_MAX_RECORDS: '10', RATE_LIMIT_PER_SEC: '100', RATE_LIMIT_BURST: '10', KAFKA_SESSION_TIMEOUT_MS: '6000' };
    const group = uniqueName('ap.group');
    const p1 = processor(c.wal, url, { ...env, GROUP_ID: group, ...(how === 'fault' ? { FAULT_KILL_AFTER_APPLIES: '5' } : {}) });
    await p1.start();

    const t0 = Date.now();
    const expected = new Map<string, Set<number>>();
    let n = 0;
    for (let u = 0; u < 40; u++) {
      const user = `user${u}`;
      const views = [];
      for (let i = 0; i < 30; i++) {
        const product = 1 + ((u * 7 + i * i) % 12);
        views.push(view(user, product, t0 + n++));
        (expected.get(user) ?? expected.set(user, new Set()).get(user)!).add(product);
      }
      expect((await post(url, TABLE, views)).status).toBe(200);
    }
    const distinct = [...expected.values()].reduce((s, v) => s + v.size, 0);

    if (how === 'external') {
      // The processor's own counter: cheap to poll, so the kill lands early (reading the CDC with kcat can take
      // seconds on a busy machine, long enough for the whole load to finish).
      await waitFor('some views applied', async () => (await appliedCount(p1)) >= 100, 30_000);
      await p1.stop('SIGKILL');
    } else {
      await p1.exited();
      expect(p1.child!.signalCode).toBe('SIGKILL');
    }
    const appliedAtKill = (await dataRecords(bootstrap, c.cdc)).length;
    const p2 = processor(c.wal, url, { ...env, GROUP_ID: group });
    await p2.start();

    await waitFor(
      `all ${distinct} distinct views visible`,
      async () => {
        const counts = (await api(url, 'GET', `${BASE}/edges/counts?start=${[...expected.keys()].join(',')}&direction=OUT`)).body.counts as any[];
        return counts.reduce((s, x) => s + x.count, 0) === distinct;
      },
      90_000,
    );
    for (const [user, products] of expected) expect(await countOf(url, user)).toBe(products.size);

    // Every queued item was sent to the core (the core's WAL has a processor record for each of the 1200, more
    // when some were replayed); the CDC shows one CREATED per key and accumulators summing to the distinct views.
    const replays = await waitFor('a processor WAL record for every queued item', async () => {
      const wal = await dataRecords(bootstrap, c.wal);
      const mine = wal.filter((r) => r.value.context.request.actor === 'AsyncRequestProcessor').length;
      return mine >= 1200 && mine;
    }, 30_000);
    const cdc = await dataRecords(bootstrap, c.cdc);
    expect(cdc.length).toBeGreaterThan(appliedAtKill); // the kill did land in the middle of the load
    const created = new Map<string, number>();
    for (const r of cdc) if (r.value.status === 'CREATED') created.set(r.key!, (created.get(r.key!) ?? 0) + 1);
    expect(created.size).toBe(distinct);
    expect([...created.values()].every((x) => x === 1)).toBe(true);
    expect(cdc.reduce((s, r) => s + r.value.accumulator, 0)).toBe(distinct);
    const statuses: Record<string, number> = {};
    for (const r of cdc) statuses[r.value.status] = (statuses[r.value.status] ?? 0) + 1;
    console.log(`${how} kill -9 after ${appliedAtKill} CDC records; CDC statuses ${JSON.stringify(statuses)}; processor WAL records ${replays} for 1200 queued`);
    return { replays, statuses };
  }

  it('kill -9 of the processor under load, then restart: every view applied, counts exact, no second CREATED for a key', async () => {
    await killUnderLoad('external');
  });

  it('killed after applying and before committing: the restart replays the batch, and the replays come back IDLE', async () => {
    const { replays, statuses } = await killUnderLoad('fault');
    expect(replays).toBeGreaterThan(1200); // the batch applied before the kill was sent again
    expect(statuses.IDLE ?? 0).toBeGreaterThan(0); // ... and the core found nothing to change
  });

  it('while the core is down the processor waits (not ready, nothing dead-lettered) and applies everything once it is back', async () => {
    const c = await freshCore(bootstrap);
    core = c.core;
    const url = core.url;
    await createRecentViews(url, TABLE);
    const t0 = Date.now();
    await post(url, TABLE, [view('u1', 301, t0), view('u2', 302, t0 + 1)]);
    await core.stop('SIGKILL');

    const group = uniqueName('ap.group');
    const p = processor(c.wal, url, { GROUP_ID: group, RETRY_BASE_MS: '50', RETRY_MAX_MS: '500' });
    await p.start('live');
    await waitFor('the processor reports the outage', async () => {
      const r = await fetch(`http://127.0.0.1:${p.port}/health/readiness`);
      return r.status !== 200 && /failing/.test(await r.text());
    }, 20_000);

    await core.start(); // same port, same storage
    await waitFor('both views applied after the outage', async () => (await countOf(url, 'u1')) === 1 && (await countOf(url, 'u2')) === 1, 30_000);
    await waitFor('ready again', async () => (await fetch(`http://127.0.0.1:${p.port}/health/readiness`)).ok, 20_000);
    const dlq = await kcatRead(bootstrap, `${group}.dlq`).catch(() => []);
    expect(dlq).toHaveLength(0);
  });

  it('applies a v2-format (Actionbase) WAL record produced by hand; dead-letters a bad item and one for an unknown table', async () => {
    const c = await freshCore(bootstrap);
    core = c.core;
    const url = core.url;
    await createRecentViews(url, TABLE);
    const group = uniqueName('ap.group');
    const p = processor(c.wal, url, { GROUP_ID: group });
    await p.start();
    const ts = Date.now();
    const v2 = (label: string, tgt: number, traceId: string) => ({
      version: '2',
      tenant: 'default',
      phase: 'production',
      label,
      alias: null,
      edge: { ts, src: 'v2user', tgt, props: { viewed_at: ts }, traceId },
      op: 'INSERT',
      mode: { l: 'ASYNC', r: null, s: null, f: false, queue: true },
      audit: { actor: 'legacy-app' },
      requestId: `v2-${traceId}`,
      ts,
    });
    const badType = { ...v2(`shop.${TABLE}`, 903, 'trace-3'), edge: { ts, src: 'v2user', tgt: 903, props: { viewed_at: 'yesterday' }, traceId: 'trace-3' } };
    // Same key for all three: one partition, so one batch in this order. The core rejects the whole request for
    // the bad item (400 naming mutations[i]): the processor dead-letters that one and sends the rest again.
    const lines = [
      `v2user:900\t${JSON.stringify(badType)}`,
      `v2user:900\t${JSON.stringify(v2(`shop.${TABLE}`, 901, 'trace-1'))}`,
      `v2user:900\t${JSON.stringify(v2('shop.no_such_table', 902, 'trace-2'))}`,
    ];
    // kcat, a producer outside this project, as an operator would do it.
    const child = run('kcat', ['-b', bootstrap, '-P', '-t', c.wal, '-K', '\t']);
    child.child.stdin!.end(lines.join('\n') + '\n');
    await child;

    await waitFor('the v2 view applied', async () => (await getEdge(url, 'v2user', 901)).length === 1, 20_000);
    const [edge] = await getEdge(url, 'v2user', 901);
    expect(edge).toMatchObject({ version: ts, source: 'v2user', target: 901, properties: { viewed_at: ts } });
    const dlq = await waitFor('the dead letter', async () => {
      const recs = await kcatRead(bootstrap, `${group}.dlq`).catch(() => []);
      return recs.length >= 1 && recs;
    }, 20_000);
    await waitFor('both dead letters', async () => (await kcatRead(bootstrap, `${group}.dlq`)).length >= 2, 20_000);
    const letters = (await kcatRead(bootstrap, `${group}.dlq`)).map((r) => JSON.parse(r.payload!)); // the original bytes, unchanged
    expect(letters.map((l) => l.edge.traceId).sort()).toEqual(['trace-2', 'trace-3']);
    expect(dlq.length).toBeGreaterThanOrEqual(1);
    const headers = (await run('kcat', ['-b', bootstrap, '-C', '-t', `${group}.dlq`, '-o', 'beginning', '-e', '-q', '-f', '%h\n'])).stdout;
    expect(headers).toContain('dlq.error.code=CORE_400_INVALID_REQUEST');
    expect(headers).toContain('dlq.error.code=CORE_404_NOT_FOUND');
    expect(await getEdge(url, 'v2user', 903)).toEqual([]);
    const cdc = await dataRecords(bootstrap, c.cdc);
    expect(cdc).toHaveLength(1);
    expect(cdc[0]!.value.context.request).toEqual({ actor: 'AsyncRequestProcessor', requestId: 'v2-trace-1' });
  });
});
