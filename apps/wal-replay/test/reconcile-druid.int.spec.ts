/**
 * `wal-replay reconcile` against a real Druid: the real core (child process) on fresh topics, a fresh Druid
 * datasource fed by the Kafka supervisor that apps/druid-ingest applies (its CLI, as an operator would run it),
 * then reconcile (core and Druid) as a child process.
 *
 * 1. Right after the workload (Druid's task has not read it yet), reconcile waits for the supervisor to reach
 *    the CDC read and finds every per-pair sum equal to the core's state: exit 0.
 * 2. A CDC record sent a second time (what the relay does after a crash between publish and bookkeeping),
 *    counted once by the core's history and twice by Druid: reconcile names that pair, and only that one. A
 *    multi-edge moved to other endpoints in the same run agrees: the druid-ingest spec counts it -1 at the pair it
 *    left and +1 at its new one, as the core moves its counts. Without the wait reconcile would often compare
 *    before Druid read them, and see nothing.
 * 3. With the supervisor suspended, a new record cannot reach Druid: reconcile gives up after DRUID_CATCHUP_MS,
 *    says so and exits 1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DruidClient } from '@pipeline/druid';
import { createKafka } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { ensureDruid, ensureKafka } from '@pipeline/stack';
import { api, waitFor, type CoreProcess } from '@pipeline/testing';
import { createTables, DB, runCli, runDruidIngest, startCore } from './helpers';

let bootstrap: string;
let coordinatorUrl: string;
let brokerUrl: string;
let druid: DruidClient;
let core: CoreProcess;
let cdc: string;
const dataSource = `wr_reconcile_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

const druidIngest = (args: string[]) =>
  runDruidIngest(args, { KAFKA_BROKERS: bootstrap, CDC_TOPIC: cdc, DATASOURCE: dataSource, DRUID_URL: coordinatorUrl, DRUID_BROKER_URL: brokerUrl });

const reconcileEnv = (extra: Record<string, string> = {}) => ({
  KAFKA_BROKERS: bootstrap,
  CDC_TOPIC: cdc,
  TARGET_URL: core.url,
  RECONCILE_SINKS: 'core,druid',
  DRUID_URL: coordinatorUrl,
  DRUID_BROKER_URL: brokerUrl,
  DRUID_DATASOURCE: dataSource,
  DRUID_CATCHUP_MS: '150000',
  SETTLE_ROUNDS: '2',
  SETTLE_MS: '1000',
  ...extra,
});

let version = 1_000_000;
async function post(table: string, kind: 'edges' | 'multi-edges', mutations: unknown[]): Promise<void> {
  const r = await api(core.url, 'POST', `/graph/v3/databases/${DB}/tables/${table}/${kind}`, { mutations });
  if (r.status !== 200) throw new Error(`${table}: ${r.status} ${JSON.stringify(r.body)}`);
}
const like = (type: string, source: string, target: number, properties: Record<string, unknown> = type === 'DELETE' ? {} : { created_at: version }) => ({
  type,
  edge: { version: ++version, source, target, properties },
});
const gift = (type: string, i: number, extra: Record<string, unknown> = {}) => ({
  type,
  edge: { version: ++version, id: `g${i}`, ...(type === 'INSERT' ? { source: `u${i % 4}`, target: `u${4 + (i % 3)}` } : {}), properties: type === 'DELETE' ? {} : { amount: i }, ...extra },
});

/** Likes: created, some updated, unliked (one never liked), liked again. Gifts: created, updated, deleted, created again. */
async function workload(): Promise<void> {
  for (let u = 0; u < 12; u++) await post('likes', 'edges', [1, 2, 3, 4, 5, 6].filter((t) => (u + t) % 3 !== 0).map((t) => like('INSERT', `u${u}`, t)));
  await post('likes', 'edges', [like('UPDATE', 'u0', 1, { score: 3 }), like('DELETE', 'u1', 1), like('DELETE', 'u2', 2), like('DELETE', 'u4', 2), like('DELETE', 'u9', 9)]);
  await post('likes', 'edges', [like('INSERT', 'u1', 1), like('UPDATE', 'u5', 1, { tag: 'a' })]);
  await post('gifts', 'multi-edges', Array.from({ length: 10 }, (_, i) => gift('INSERT', i)));
  await post('gifts', 'multi-edges', [gift('UPDATE', 3, { properties: { amount: 99 } }), gift('DELETE', 1), gift('DELETE', 2)]);
  await post('gifts', 'multi-edges', [gift('INSERT', 1)]);
}

interface Summary {
  divergent: number;
  notCaughtUp: string[];
  results: { sink: string; table: string; compared: number; divergent: number; behind: number; caughtUp?: boolean }[];
}

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  ({ coordinatorUrl, brokerUrl } = await ensureDruid());
  druid = new DruidClient({ overlordUrl: coordinatorUrl, brokerUrl });
  const started = await startCore(bootstrap);
  core = started.core;
  cdc = started.topics.cdc;
  await createTables(core.url);
  const applied = await druidIngest(['apply']);
  if (applied.code !== 0) throw new Error(`druid-ingest apply: ${applied.stdout}\n${applied.stderr}`);
  await workload();
}, 240_000);

afterAll(async () => {
  // Terminate, then stop the tasks at once (a graceful stop would wait for a handoff the dropped datasource never gets).
  await druid?.supervisorAction(dataSource, 'terminate').catch(() => undefined);
  for (const id of (await druid?.unfinishedTasks(dataSource).catch(() => [] as string[])) ?? []) await druid.shutdownTask(id).catch(() => undefined);
  await waitFor('the test tasks to stop', async () => (await druid.unfinishedTasks(dataSource)).length === 0, 60_000).catch(() => undefined);
  await druid?.dropDatasource(dataSource).catch(() => undefined);
  await core?.stop();
}, 120_000);

describe('reconcile with Druid', () => {
  it('waits for Druid to ingest the CDC read, then finds every per-pair sum equal to the core', async () => {
    const run = await runCli(['reconcile'], reconcileEnv());
    const s = run.result as Summary;
    expect({ code: run.code, divergent: s?.divergent, notCaughtUp: s?.notCaughtUp }).toEqual({ code: 0, divergent: 0, notCaughtUp: [] });
    // recent_views is ASYNC and nothing processed its queue: compared, with no keys.
    const druidResults = s.results.filter((r) => r.sink === 'druid' && r.table !== `${DB}.recent_views`);
    expect(druidResults.map((r) => r.table).sort()).toEqual([`${DB}.gifts`, `${DB}.likes`]);
    for (const r of druidResults) expect({ table: r.table, caughtUp: r.caughtUp, behind: r.behind, compared: r.compared >= 9 }).toEqual({ table: r.table, caughtUp: true, behind: 0, compared: true });
    expect(run.stderr).toMatch(/Druid has ingested the CDC read/);
  }, 240_000);

  it('names the pair whose CDC record Druid read twice; a multi-edge that moved agrees', async () => {
    // A fresh like, then its CDC record sent again under the same key (same partition).
    await post('likes', 'edges', [like('INSERT', 'dup', 42)]);
    const original = await waitFor('the CDC record of dup -> 42', async () => {
      const records = await readAll(bootstrap, cdc, { timeoutMs: 30_000 });
      return records.find((m) => {
        const v = JSON.parse(String(m.value)) as { context?: { table?: string }; after?: { source?: string } | null };
        return v.context?.table === 'likes' && v.after?.source === 'dup';
      });
    });
    const kafka = createKafka({ brokers: [bootstrap], clientId: 'wal-replay-it-duplicate' });
    const producer = await kafka.producer();
    try {
      await producer.send(cdc, [{ key: original.key === null ? null : String(original.key), value: Buffer.from(original.value!) }]);
    } finally {
      await producer.close();
    }
    // g0 (u0 -> u4, the only gift there) moves to m1 -> m2: the core counts it there now.
    await post('gifts', 'multi-edges', [{ type: 'INSERT', edge: { version: ++version, id: 'g0', source: 'm1', target: 'm2', properties: { amount: 5 } } }]);

    const run = await runCli(['reconcile'], reconcileEnv());
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('DIVERGENT'));
    expect(lines).toEqual([`DIVERGENT druid ${DB}.likes ["dup","42"] differs: sink 2; CDC at its point 1`]);
    const s = run.result as Summary;
    // The move was read (Druid caught up past it) and both of its pairs were compared.
    expect(s.results.find((x) => x.sink === 'druid' && x.table === `${DB}.gifts`)).toMatchObject({ divergent: 0, behind: 0, caughtUp: true });
    expect(s.results.filter((x) => x.sink === 'core').every((x) => x.divergent === 0)).toBe(true);
    expect(s.notCaughtUp).toEqual([]);
  }, 240_000);

  it('fails, saying so, when Druid does not reach the CDC read within DRUID_CATCHUP_MS', async () => {
    await druid.supervisorAction(dataSource, 'suspend');
    await waitFor('the supervisor to stop reading', async () => (await druid.supervisorStatus(dataSource)).tasks.filter((t) => t.type === 'ACTIVE').length === 0, 90_000);
    await post('likes', 'edges', [like('INSERT', 'late', 43)]);
    const run = await runCli(['reconcile'], reconcileEnv({ DRUID_CATCHUP_MS: '3000', SETTLE_ROUNDS: '0' }));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^NOT CAUGHT UP druid: /m);
    expect((run.result as Summary).notCaughtUp).toEqual(['druid']);
  }, 180_000);
});
