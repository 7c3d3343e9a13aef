/**
 * core -> real Kafka -> real Druid: a workload on the real core (child process), its CDC topic read by a
 * real Druid Kafka supervisor whose spec this app generated and applied, checked with Druid SQL against
 * the core's own counts. Druid is started once per run (tools/stack, `npm test` starts it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createKafka } from '@pipeline/kafka';
import { repoRoot, waitFor } from '@pipeline/testing';
import { runBackfill } from '../src/backfill';
import { buildHttp } from '../src/http';
import { netChangePerTable, runQuery, topTargetsLastHour } from '../src/dashboard.queries';
import { InvalidSpecError } from '../src/spec.validation';
import { applySupervisor, supervisorHealth } from '../src/supervisor.apply';
import { buildSupervisorSpec } from '../src/supervisor.spec-builder';
import { dropAll, druidTotals, inCount, like, mutate, newDataSource, startEnv, supervisorOptions, type Env } from './harness';

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

async function coreCounts(): Promise<Map<string, number>> {
  return new Map(await Promise.all(TARGETS.map(async (t) => [String(t), await inCount(env.core, env.table, t)] as [string, number])));
}

beforeAll(async () => {
  // Heartbeats every second put `sys` records between the data records: the spec's filter must drop them.
  // (The expected number of CDC records comes from the core's answers, one per key per request, not from
  // reading the topic: kcat chasing a topic that keeps growing with heartbeats was slow under load.)
  env = await startEnv({ HEARTBEAT_INTERVAL_MS: '1000' });
  workloadStart = Date.now();
  await workload();
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
    expect(perTable).toEqual([{ database: 'shop', table: env.table, net, events: cdcCount }]);

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
    const dir = mkdtempSync(path.join(tmpdir(), 'druid-backfill-'));
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
    const totals = await waitFor(
      'the backfilled segments to be queryable',
      async () => {
        const t = await druidTotals(env.druid, bf, env.table);
        const events = [...t.values()].reduce((a, b) => a + b.events, 0);
        return events === result.export.written && t;
      },
      180_000,
    );
    for (const t of TARGETS) expect({ target: t, net: totals.get(String(t))?.net }).toEqual({ target: t, net: expected.get(String(t)) });
  }, 280_000);
});
