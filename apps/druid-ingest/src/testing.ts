/**
 * @pipeline/druid-ingest/testing: the set-up shared by the integration tests and the benchmark: a real core, real
 * Kafka, real Druid, and helpers to write likes and read Druid's totals.
 */
import { ensureDruid, ensureKafka } from '@pipeline/stack';
import { CoreProcess, createLikes, freePort, tempStorage, uniqueName, waitFor } from '@pipeline/testing';
import { DruidClient } from '@pipeline/druid';
import { totalsPerTarget, runQuery } from './dashboard.queries';
import type { SupervisorOptions } from './supervisor.spec-builder';
import { baseOptions } from './spec-fixtures';

export const like = (source: string, target: number, version: number, type = 'INSERT') => ({
  type,
  edge: { version, source, target, properties: type === 'DELETE' ? {} : { created_at: version } },
});

export async function mutate(core: CoreProcess, table: string, mutations: unknown[], actor = 'druid-it'): Promise<any> {
  const res = await fetch(`${core.url}/graph/v3/databases/shop/tables/${table}/edges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': uniqueName('req'), 'x-actor-id': actor },
    body: JSON.stringify({ mutations }),
  });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`mutation: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** The core's IN count of a target (how many active likes it has). */
export async function inCount(core: CoreProcess, table: string, target: number): Promise<number> {
  const res = await fetch(`${core.url}/graph/v3/databases/shop/tables/${table}/edges/count?start=${target}&direction=IN`);
  const body = (await res.json()) as { count: number };
  return body.count;
}

export interface Env {
  bootstrap: string;
  druid: DruidClient;
  core: CoreProcess;
  cdc: string;
  table: string;
}

export async function startEnv(extraCoreEnv: Record<string, string> = {}): Promise<Env> {
  const { bootstrap } = await ensureKafka();
  const { coordinatorUrl, brokerUrl } = await ensureDruid();
  const druid = new DruidClient({ overlordUrl: coordinatorUrl, brokerUrl });
  const cdc = uniqueName('druid.cdc');
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: uniqueName('druid.wal'),
    CDC_TOPIC: cdc,
    WAL_PARTITIONS: '3',
    CDC_PARTITIONS: '3',
    STORAGE_PATH: tempStorage(),
    LOG_LEVEL: 'warn',
    ...extraCoreEnv,
  });
  await core.start();
  const table = 'likes';
  await createLikes(core.url, table);
  return { bootstrap, druid, core, cdc, table };
}

/** Datasource names unique per run; Druid allows dots and dashes, SQL needs them quoted (ident()). */
export const newDataSource = (prefix: string) => `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

export function supervisorOptions(env: Env, dataSource: string): SupervisorOptions {
  return { ...baseOptions, dataSource, topic: env.cdc, bootstrapServers: env.bootstrap };
}

/** SUM(accumulator) and SUM(events) per target, from Druid SQL. */
export async function druidTotals(druid: DruidClient, dataSource: string, table: string): Promise<Map<string, { net: number; events: number }>> {
  try {
    const rows = await runQuery<{ target: string; net: number; events: number }>(druid, totalsPerTarget(dataSource, table));
    return new Map(rows.map((r) => [String(r.target), { net: r.net, events: r.events }]));
  } catch (err) {
    // Before the first row arrives the datasource does not exist yet: SQL answers "Object not found".
    if (/not found|does not exist/i.test((err as Error).message)) return new Map();
    throw err;
  }
}

/**
 * Throws a test datasource away: terminates the supervisor, shuts its tasks down at once (a graceful stop
 * would publish and then wait for the handoff, which never comes once the datasource is marked unused, and
 * hold an indexer slot meanwhile), then marks the datasource unused.
 */
export async function dropAll(druid: DruidClient, dataSource: string): Promise<void> {
  await druid.supervisorAction(dataSource, 'terminate').catch(() => undefined);
  const tasks = await druid.unfinishedTasks(dataSource).catch(() => [] as string[]);
  for (const id of tasks) await druid.shutdownTask(id).catch(() => undefined);
  await waitFor(`the tasks of ${dataSource} to stop`, async () => (await druid.unfinishedTasks(dataSource)).length === 0, 60_000).catch(() => undefined);
  await druid.dropDatasource(dataSource).catch(() => undefined);
}
