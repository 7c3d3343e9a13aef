/**
 * core -> real Kafka -> real Druid: a workload on the real core (child process), its CDC topic read by a
 * real Druid Kafka supervisor whose spec this app generated and applied, checked with Druid SQL against
 * the core's own counts. Druid is started once per run (tools/stack, `npm test` starts it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { activeEdgeCounts, type EdgeCountRow } from '@pipeline/druid';
import { createKafka } from '@pipeline/kafka';
import { api, repoRoot, tempDir, waitFor } from '@pipeline/testing';
import { runBackfill } from '../src/backfill';
import { buildHttp } from '../src/http';
import { netChangePerTable, runQuery, topTargetsLastHour, totalsPerTarget } from '../src/dashboard.queries';
import { InvalidSpecError } from '../src/spec.validation';
import { applySupervisor, supervisorHealth } from '../src/supervisor.apply';
import { buildSupervisorSpec } from '../src/supervisor.spec-builder';
import { dropAll, druidTotals, inCount, like, mutate, newDataSource, startEnv, supervisorOptions, type Env } from '../src/testing';

const TARGETS = [1, 2, 3, 4, 5, 6];
let env: Env;
let dataSource: string;
let workloadStart: number;
/** CDC records the workload produced: one per key per request (the results of the core's answers). */
let cdcCount = 0;
const created: string[] = [];

/** Likes from 12 users over 6 targets, then some unlikes, a replayed like (IDLE) and a re-like. */
async function workload(): Promise<void> {
  const send = async (mutations: unknown[], actor?: string) => {
    cdcCount += ((await mutate(env.core, env.table, mutations, actor)) as { results: unknown[] }).results.length;
  };
  let v = 1_000;
  for (let u = 0; u < 12; u++) {
    await send(TARGETS.filter((t) => (u + t) % 3 !== 0).map((t) => like(`u${u}`, t, v++)), u % 2 ? 'web' : 'app');
  }
  await send([like('u1', 1, v++, 'DELETE'), like('u2', 2, v++, 'DELETE'), like('u4', 2, v++, 'DELETE')]);
  await send([like('u0', 1, 1_000)]); // the same event again: IDLE, accumulator 0
  await send([like('u1', 1, v++)]); // liked again after the unlike
}

const GIFTS = 'gifts';
/** CDC records of the gifts workload (one per key per request). */
let giftCdcCount = 0;
let giftVersion = 5_000;

async function gifts(mutations: { type: string; edge: Record<string, unknown> }[]): Promise<void> {
  const r = await api(env.core.url, 'POST', `/graph/v3/databases/shop/tables/${GIFTS}/multi-edges`, {
    mutations: mutations.map((m) => ({ ...m, edge: { version: ++giftVersion, properties: m.type === 'DELETE' ? {} : { amount: 1 }, ...m.edge } })),
  });
  if (r.status !== 200) throw new Error(`gifts: ${r.status} ${JSON.stringify(r.body)}`);
  giftCdcCount += (r.body as { results: unknown[] }).results.length;
}

/**
 * Multi-edges moved to other endpoints in every way the core allows: an active edge moved (INSERT with new ends),
 * moved on one end only, moved by an UPDATE carrying its ends, moved twice in one request (one CDC record), a
 * deleted edge brought back elsewhere, and an edge deleted after it moved. The core moves its counts each time.
 */
async function giftWorkload(): Promise<void> {
  const ins = (id: string, source: string, target: string) => ({ type: 'INSERT', edge: { id, source, target } });
  await gifts([ins('g1', 'a', 'x'), ins('g2', 'a', 'y'), ins('g3', 'b', 'x'), ins('g4', 'b', 'y'), ins('g5', 'c', 'x'), ins('g6', 'c', 'z'), ins('g7', 'a', 'x')]);
  await gifts([ins('g1', 'd', 'w'), { type: 'DELETE', edge: { id: 'g2' } }, ins('g4', 'b', 'z'), { type: 'UPDATE', edge: { id: 'g3', source: 'e', target: 'y', properties: { amount: 2 } } }]);
  await gifts([ins('g2', 'e', 'x'), ins('g6', 'f', 'w'), ins('g6', 'f', 'x'), { type: 'DELETE', edge: { id: 'g7' } }]);
  await gifts([{ type: 'DELETE', edge: { id: 'g1' } }, ins('g5', 'a', 'y')]);
}

/** Per pair of the gifts table, the active edges the core holds (from its own view of every gift). */
async function coreGiftPairs(): Promise<Map<string, number>> {
  const r = await api(env.core.url, 'GET', `/graph/v3/databases/shop/tables/${GIFTS}/multi-edges/ids?ids=g1,g2,g3,g4,g5,g6,g7`);
  if (r.status !== 200) throw new Error(`multi-edges/ids: ${r.status} ${JSON.stringify(r.body)}`);
  const pairs = new Map<string, number>();
  for (const e of r.body.edges as { source: string; target: string }[]) pairs.set(`${e.source}->${e.target}`, (pairs.get(`${e.source}->${e.target}`) ?? 0) + 1);
  return pairs;
}

async function coreGiftCount(vertex: string, direction: 'IN' | 'OUT'): Promise<number> {
  const r = await api(env.core.url, 'GET', `/graph/v3/databases/shop/tables/${GIFTS}/edges/count?start=${vertex}&direction=${direction}`);
  if (r.status !== 200) throw new Error(`count: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { count: number }).count;
}

/** Druid's per-pair sums of the gifts table (the query wal-replay reconcile compares). */
async function druidGiftPairs(dataSource: string): Promise<{ pairs: Map<string, number>; events: number }> {
  const q = activeEdgeCounts(dataSource, 'shop', GIFTS);
  const rows = await env.druid.sql<EdgeCountRow>(q.sql, q.parameters).catch((err: Error) => {
    if (/not found|does not exist/i.test(err.message)) return [] as EdgeCountRow[];
    throw err;
  });
  // Pairs that sum to 0 are left out of that query: the records ingested come from the per-table figures.
  const perTable = await runQuery<{ table: string; events: number }>(env.druid, netChangePerTable(dataSource)).catch(() => []);
  return { pairs: new Map(rows.map((r) => [`${r.source}->${r.target}`, r.active])), events: perTable.find((r) => r.table === GIFTS)?.events ?? 0 };
}

async function coreCounts(): Promise<Map<string, number>> {
  return new Map(await Promise.all(TARGETS.map(async (t) => [String(t), await inCount(env.core, env.table, t)] as [string, number])));
}

beforeAll(async () => {
  // Heartbeats every second put `sys` records between the data records: the spec's filter must drop them.
  // (The expected number of CDC records comes from the core's answers, one per key per request, not from
  // reading the topic: kcat chasing a topic that keeps growing with heartbeats was slow under load.)
  env = await startEnv({ HEARTBEAT_INTERVAL_MS: '1000' });
  const t = await api(env.core.url, 'POST', '/graph/v3/databases/shop/tables', {
    table: GIFTS,
    type: 'MULTI_EDGE',
    schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'amount', type: 'LONG', nullable: false }] },
    direction: 'BOTH',
    mode: 'SYNC',
  });
  if (t.status !== 200) throw new Error(`create table ${GIFTS}: ${JSON.stringify(t.body)}`);
  workloadStart = Date.now();
  await workload();
  await giftWorkload();
  // A vertex record (Actionbase v3) of the same table, with a count delta of its own: the spec keeps edge
  // records only, so the per-table figures below stay those of the edges.
  const kafka = createKafka({ brokers: [env.bootstrap], clientId: 'druid-ingest-it-vertex' });
  const producer = await kafka.producer();
  try {
    const vertex = JSON.parse(readFileSync(path.join(repoRoot, 'libs/events/samples/v3-actionbase/cdc-vertex.json'), 'utf8'));
    vertex.processedAt = Date.now();
    vertex.context = { ...vertex.context, database: 'shop', table: env.table, alias: null };
    await producer.send(env.cdc, [{ key: 'u-100', value: JSON.stringify(vertex) }]);
  } finally {
    await producer.close();
  }
}, 300_000);

afterAll(async () => {
  for (const ds of created) await dropAll(env.druid, ds);
  await env?.core.stop();
}, 180_000);

describe('druid-ingest on a real Druid', () => {
  it('Druid SQL sums of the accumulator per target equal the core IN counts after a workload', async () => {
    dataSource = newDataSource('it_likes');
    created.push(dataSource);
    const r = await applySupervisor(env.druid, buildSupervisorSpec(supervisorOptions(env, dataSource)));
    expect(r.outcome).toBe('created');

    const expected = await coreCounts();
    let seen = 'nothing yet';
    const totals = await waitFor(
      `Druid to hold all ${cdcCount} CDC records`,
      async () => {
        const t = await druidTotals(env.druid, dataSource, env.table);
        const events = [...t.values()].reduce((a, b) => a + b.events, 0);
        seen = `${events} events: ${JSON.stringify([...t])}`;
        return events === cdcCount && t;
      },
      150_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; Druid had ${seen}`);
    });
    for (const t of TARGETS) expect({ target: t, net: totals.get(String(t))?.net }).toEqual({ target: t, net: expected.get(String(t)) });
    // 12 users x 4 likes, 2 unlikes (u4 never liked target 2: IDLE), 1 re-like.
    const net = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(net).toBe(12 * 4 - 2 + 1);

    // Heartbeats (database sys) and the vertex record reached the topic but not the datasource.
    const perTable = await runQuery<{ database: string; table: string; net: number; events: number }>(env.druid, netChangePerTable(dataSource));
    expect(perTable.filter((r) => r.table !== GIFTS)).toEqual([{ database: 'shop', table: env.table, net, events: cdcCount }]);

    const top = await runQuery<{ target: string; net: number }>(env.druid, topTargetsLastHour(dataSource, env.table, 3, Date.now()));
    const sorted = [...expected].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 3);
    expect(top.map((x) => [x.target, x.net])).toEqual(sorted);

    const health = await supervisorHealth(env.druid, dataSource);
    expect(health.state).toBe('RUNNING');

    // The same figures through the app's HTTP API.
    const http = buildHttp({ druid: env.druid, spec: buildSupervisorSpec(supervisorOptions(env, dataSource)), dataSource });
    const base = await http.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await (await fetch(`${base}/queries/net-change-per-table`)).json()).toEqual(perTable);
      const viaHttp = (await (await fetch(`${base}/queries/top-targets?table=${env.table}&limit=3`)).json()) as { target: string; net: number }[];
      expect(viaHttp.map((x) => [x.target, x.net])).toEqual(sorted);
      expect((await fetch(`${base}/queries/top-targets`)).status).toBe(400);
    } finally {
      await http.close();
    }
  }, 280_000); // a cold supervisor task took ~100 s to serve its first row once

  it('a multi-edge moved to other endpoints counts at its new pair only, as the core counts it', async () => {
    const expected = await coreGiftPairs();
    // The moves above, by hand: g1 moved then deleted, g2 deleted then back at e->x, g3 moved by an UPDATE, g4 on
    // its target only, g5 moved after the other moves, g6 twice in one request, g7 deleted where it was created.
    expect([...expected].sort()).toEqual([
      ['a->y', 1],
      ['b->z', 1],
      ['e->x', 1],
      ['e->y', 1],
      ['f->x', 1],
    ]);
    let seen = 'nothing yet';
    const druidPairs = await waitFor(
      `Druid to hold all ${giftCdcCount} CDC records of ${GIFTS}`,
      async () => {
        const d = await druidGiftPairs(dataSource);
        seen = `${d.events} events: ${JSON.stringify([...d.pairs])}`;
        return d.events === giftCdcCount && d.pairs;
      },
      150_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; Druid had ${seen}`);
    });
    expect([...druidPairs].sort()).toEqual([...expected].sort());

    // Every IN count (per target) and OUT count (per source) Druid answers, against the core's.
    for (const v of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const out = [...druidPairs].filter(([p]) => p.startsWith(`${v}->`)).reduce((a, [, n]) => a + n, 0);
      expect({ source: v, out }).toEqual({ source: v, out: await coreGiftCount(v, 'OUT') });
    }
    const perTarget = new Map((await runQuery<{ target: string; net: number }>(env.druid, totalsPerTarget(dataSource, GIFTS))).map((r) => [r.target, r.net]));
    for (const v of ['w', 'x', 'y', 'z']) expect({ target: v, in: perTarget.get(v) ?? 0 }).toEqual({ target: v, in: await coreGiftCount(v, 'IN') });
    const perTable = await runQuery<{ table: string; net: number; events: number }>(env.druid, netChangePerTable(dataSource));
    expect(perTable.find((r) => r.table === GIFTS)).toMatchObject({ net: 5, events: giftCdcCount });
  }, 200_000);

  it('applying an unchanged spec again submits nothing and keeps the running tasks', async () => {
    const before = await waitFor('an active task', async () => {
      const s = await supervisorHealth(env.druid, dataSource);
      return s.activeTaskIds.length > 0 && s;
    });
    const r = await applySupervisor(env.druid, buildSupervisorSpec(supervisorOptions(env, dataSource)));
    expect(r).toEqual({ id: dataSource, outcome: 'unchanged', changes: [] });
    const after = await supervisorHealth(env.druid, dataSource);
    expect(after.activeTaskIds).toEqual(before.activeTaskIds);
  });

  it('a changed spec updates the supervisor and reports the difference', async () => {
    const changed = buildSupervisorSpec({ ...supervisorOptions(env, dataSource), queryGranularity: 'hour', taskDuration: 'PT30M' });
    const r = await applySupervisor(env.druid, changed);
    expect(r.outcome).toBe('updated');
    expect(r.changes).toEqual([
      { path: 'spec.dataSchema.granularitySpec.queryGranularity', kind: 'changed', before: 'MINUTE', after: 'HOUR' },
      { path: 'spec.ioConfig.taskDuration', kind: 'changed', before: 'PT1H', after: 'PT30M' },
    ]);
    const served = (await env.druid.getSupervisor(dataSource)) as any;
    expect(served.spec.dataSchema.granularitySpec.queryGranularity).toBe('HOUR');
    expect(served.spec.ioConfig.taskDuration).toBe('PT1800S');
    // And now that spec is the unchanged one.
    expect((await applySupervisor(env.druid, changed)).outcome).toBe('unchanged');
  });

  it('rejects an invalid spec before anything reaches the Overlord', async () => {
    const ds = newDataSource('it_invalid');
    const bad = buildSupervisorSpec({ ...supervisorOptions(env, ds), taskDuration: 'one hour' });
    await expect(applySupervisor(env.druid, bad)).rejects.toThrow(InvalidSpecError);
    expect(await env.druid.getSupervisor(ds)).toBeUndefined();
  });

  it('a backfill spec loads a CDC time range into a datasource whose totals match the core', async () => {
    const bf = newDataSource('it_backfill');
    created.push(bf);
    const kafka = createKafka({ brokers: [env.bootstrap], clientId: 'druid-ingest-it' });
    const dir = tempDir('druid-backfill');
    const result = await runBackfill(kafka, env.druid, {
      ...supervisorOptions(env, bf),
      fromMs: workloadStart - 60_000,
      toMs: Date.now() + 1_000,
      dir,
      replace: true,
      timeoutMs: 240_000,
    });
    expect(result.state).toBe('SUCCESS');
    expect(result.export.skipped.system).toBeGreaterThan(0); // heartbeats were in the topic, not in the file
    const expected = await coreCounts();
    await waitFor(
      'the backfilled segments to be queryable',
      async () => {
        const perTable = await runQuery<{ events: number }>(env.druid, netChangePerTable(bf)).catch(() => []);
        return perTable.reduce((a, r) => a + r.events, 0) === result.export.written;
      },
      180_000,
    );
    const totals = await druidTotals(env.druid, bf, env.table);
    for (const t of TARGETS) expect({ target: t, net: totals.get(String(t))?.net }).toEqual({ target: t, net: expected.get(String(t)) });
    // The export keeps each record's `before`, so the same transforms split the moves of the gifts.
    expect([...(await druidGiftPairs(bf)).pairs].sort()).toEqual([...(await coreGiftPairs())].sort());
  }, 280_000);
});
