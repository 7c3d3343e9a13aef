/**
 * 64-bit LONGs through the whole pipeline, on the real services: a LONG-keyed table whose source, target, a
 * property and the versions (nanoseconds) lie beyond 2^53, where a double cannot tell 9007199254740993 from its
 * neighbour 9007199254740992. Written through REST, each value must come back exactly from:
 * the core's get / scan / counts, the es-indexer's support lookup, the snapshotter's Iceberg table read by
 * pyiceberg, Druid SQL over the datasource druid-ingest applies, and a core rebuilt from the WAL
 * (`wal-replay rebuild`), which `wal-replay check` and `reconcile` then find equal to every sink.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@elastic/elasticsearch';
import { CoreClient } from '@pipeline/core-api';
import { DruidClient } from '@pipeline/druid';
import { parseJson } from '@pipeline/events';
import { ensureDruid, ensureElasticsearch, ensureKafka, stackDir } from '@pipeline/stack';
import { CoreProcess, freePort, repoRoot, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import { appReady, DB, deleteStorage, runCli, runDruidIngest, spawnApp, startCore } from './helpers';

const run = promisify(execFile);
const BIG = 9007199254740993n; // 2^53 + 1
const NS = 1732900000000000001n; // a version in nanoseconds
const TOKEN = 'long64.user:long64-token-Zq8vK3mX1pR7-0001';

const tmp = tempDir('wal-replay-long64');
const prefix = uniqueName('l64').replace(/\./g, '-');
const dataSource = `wr_long64_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const children: ChildProcess[] = [];
let bootstrap: string;
let esUrl: string;
let es: Client;
let druid: DruidClient;
let coordinatorUrl: string;
let brokerUrl: string;
let core: CoreProcess | undefined;

/** A request whose answer is read losslessly: integers beyond 2^53 come back as bigint, never rounded. */
async function exact(url: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, init);
  const text = await res.text();
  return { status: res.status, body: text ? parseJson(text) : null };
}

const app = (name: string, main: string, env: Record<string, string>) => spawnApp(children, name, main, env);
const druidIngest = (args: string[], cdc: string) =>
  runDruidIngest(args, { KAFKA_BROKERS: bootstrap, CDC_TOPIC: cdc, DATASOURCE: dataSource, DRUID_URL: coordinatorUrl, DRUID_BROKER_URL: brokerUrl });

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  ({ url: esUrl } = await ensureElasticsearch());
  ({ coordinatorUrl, brokerUrl } = await ensureDruid());
  es = new Client({ node: esUrl });
  druid = new DruidClient({ overlordUrl: coordinatorUrl, brokerUrl });
}, 240_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await core?.stop('SIGKILL');
  await druid?.supervisorAction(dataSource, 'terminate').catch(() => undefined);
  for (const id of (await druid?.unfinishedTasks(dataSource).catch(() => [] as string[])) ?? []) await druid.shutdownTask(id).catch(() => undefined);
  await druid?.dropDatasource(dataSource).catch(() => undefined);
  if (es) {
    const rows = (await es.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' } as never).catch(() => [])) as unknown as { index: string }[];
    const names = rows.map((r) => r.index);
    if (names.length) await es.indices.delete({ index: names.join(',') }).catch(() => undefined);
    for (const t of [`${prefix}-edges`, `${prefix}-mutations`]) await es.indices.deleteIndexTemplate({ name: t }).catch(() => undefined);
    await es.close();
  }
}, 120_000);

/** What the core answers for the edges under BIG, read exactly. */
async function coreView(url: string) {
  const t = `/graph/v3/databases/${DB}/tables/ids`;
  const get = await exact(url, `${t}/edges/get?source=${BIG}&target=${BIG + 2n},${BIG + 1n}`);
  const scan = await exact(url, `${t}/edges/scan/by_n?start=${BIG}&direction=OUT`);
  const count = await exact(url, `${t}/edges/count?start=${BIG}&direction=OUT`);
  const counts = await exact(url, `${t}/edges/counts?start=${BIG + 1n},${BIG + 2n},${BIG - 1n}&direction=IN`);
  return {
    get: get.body.edges,
    scan: scan.body.edges.map((e: { target: bigint; properties: { n: bigint } }) => [e.target, e.properties.n]),
    count: count.body.count,
    counts: counts.body.counts.map((c: { start: bigint; count: number }) => [c.start, c.count]),
  };
}

const EXPECTED = {
  get: [
    { version: NS, source: BIG, target: BIG + 2n, properties: { n: BIG }, context: {} },
    { version: NS + 1n, source: BIG, target: BIG + 1n, properties: { n: BIG + 1n }, context: {} },
  ],
  // by n DESC: values one apart beyond 2^53 keep their order
  scan: [
    [BIG + 1n, BIG + 1n],
    [BIG + 2n, BIG],
  ],
  count: 2,
  counts: [
    [BIG + 1n, 1],
    [BIG + 2n, 1],
    [BIG - 1n, 0],
  ],
};

describe('64-bit LONG through the whole pipeline', () => {
  it('a LONG id of 9007199254740993 and ns versions come back exactly from the core, the lookup, Iceberg, Druid and a WAL rebuild', async () => {
    const storage = join(tmp, 'core.db');
    const first = await startCore(bootstrap, storage);
    core = first.core;
    const { wal, cdc } = first.topics;
    const json = { 'content-type': 'application/json' };
    const ok = (r: { status: number; body: unknown }) => expect({ status: r.status, body: r.status === 200 ? null : r.body }).toEqual({ status: 200, body: null });
    ok(await exact(core.url, '/graph/v3/databases', { method: 'POST', headers: json, body: JSON.stringify({ database: DB }) }));
    ok(
      await exact(core.url, `/graph/v3/databases/${DB}/tables`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({
          table: 'ids',
          schema: { source: { type: 'LONG' }, target: { type: 'LONG' }, properties: [{ name: 'n', type: 'LONG', nullable: false }] },
          direction: 'BOTH',
          indexes: [{ index: 'by_n', fields: [{ field: 'n', order: 'DESC' }] }],
          mode: 'SYNC',
        }),
      }),
    );
    const schemaFile = join(tmp, 'schema.json');
    writeFileSync(schemaFile, JSON.stringify(await new CoreClient({ baseUrl: core.url, actor: 'WalReplay' }).schema()));

    // The sinks, as processes on the core's topics.
    const group = `${prefix}-idx`;
    const esHttp = await freePort();
    const lookupPort = await freePort();
    app('es-indexer', 'apps/es-indexer/src/main.ts', {
      KAFKA_BROKERS: bootstrap,
      ES_URL: esUrl,
      WAL_TOPIC: wal,
      CDC_TOPIC: cdc,
      CONSUMER_GROUP: group,
      INDEX_PREFIX: prefix,
      ROLE: 'all',
      API_PORT: String(lookupPort),
      API_HOST: '127.0.0.1',
      HTTP_PORT: String(esHttp),
      REFRESH_INTERVAL: '200ms',
      LOOKUP_TOKENS: TOKEN,
      AUDIT_LOG_PATH: join(tmp, 'audit.jsonl'),
    });
    const warehouse = join(tmp, 'warehouse');
    const snapHttp = await freePort();
    app('snapshotter', 'apps/snapshotter/src/main.ts', {
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: cdc,
      CONSUMER_GROUP: `${prefix}-snap`,
      HTTP_PORT: String(snapHttp),
      WAREHOUSE_DIR: warehouse,
      STAGING_DIR: join(tmp, 'staging'),
      COMMIT_INTERVAL_MS: '1000',
      CHANGELOG_ENABLED: 'false',
    });
    const applied = await druidIngest(['apply'], cdc);
    expect({ code: applied.code, err: applied.code ? `${applied.stdout}\n${applied.stderr}` : '' }).toEqual({ code: 0, err: '' });
    await waitFor('es-indexer and snapshotter ready', async () => (await appReady(esHttp)) && (await appReady(snapHttp)), 120_000);

    // Written through REST as bare JSON integers; the UPDATE one nanosecond older than the INSERT loses.
    const body = `{"mutations":[
      {"type":"INSERT","edge":{"version":${NS},"source":${BIG},"target":${BIG + 2n},"properties":{"n":${BIG}}}},
      {"type":"INSERT","edge":{"version":${NS + 1n},"source":${BIG},"target":${BIG + 1n},"properties":{"n":${BIG + 1n}}}},
      {"type":"UPDATE","edge":{"version":${NS - 1n},"source":${BIG},"target":${BIG + 2n},"properties":{"n":1}}}]}`;
    const written = await exact(core.url, `/graph/v3/databases/${DB}/tables/ids/edges`, { method: 'POST', headers: json, body });
    expect(written.body).toEqual({
      results: [
        { source: BIG, target: BIG + 1n, status: 'CREATED', count: 1 },
        { source: BIG, target: BIG + 2n, status: 'CREATED', count: 2 },
      ],
    });

    // 1. The core: get, scan, count, counts.
    expect(await coreView(core.url)).toEqual(EXPECTED);

    // 2. The support lookup (es-indexer's API over Elasticsearch).
    const auth = { authorization: `Bearer ${TOKEN.split(':')[1]}` };
    const lookupUrl = `http://127.0.0.1:${lookupPort}`;
    const state = await waitFor('the lookup to answer the edge state', async () => {
      const r = await exact(lookupUrl, `/api/edges/state?database=${DB}&table=ids&source=${BIG}&target=${BIG + 2n}`, { headers: auth });
      return r.status === 200 && r.body.state !== null && r.body.state;
    }, 120_000);
    expect(state).toMatchObject({ source: String(BIG), target: String(BIG + 2n), active: true, version: NS });
    // The state can answer before the history holds the CDC item (each becomes searchable on its own refresh).
    const cdcItem = await waitFor('the lookup history to hold the CDC record', async () => {
      const history = await exact(lookupUrl, `/api/edges/history?database=${DB}&table=ids&source=${BIG}&target=${BIG + 2n}`, { headers: auth });
      return history.status === 200 && history.body.items.find((i: { kind: string }) => i.kind === 'cdc');
    }, 120_000);
    expect(cdcItem).toMatchObject({ source: String(BIG), target: String(BIG + 2n), version: NS, after: { active: true, version: NS } });
    const revealed = await exact(lookupUrl, `/api/records/${encodeURIComponent(cdcItem.id)}?reason=${encodeURIComponent('checking 64-bit ids end to end')}`, { headers: auth });
    expect(revealed.body.record.cdc.after).toEqual({
      source: BIG,
      target: BIG + 2n,
      active: true,
      version: NS,
      createdAt: NS,
      deletedAt: null,
      properties: { n: { value: BIG, version: NS } },
    });

    // 3. The Iceberg table, read by pyiceberg (Python ints are exact; its JSON is read losslessly here).
    const python = join(stackDir(), 'venv', 'bin', 'python');
    const reader = join(repoRoot, 'apps/snapshotter/test/read_iceberg.py');
    const rows = await waitFor('the Iceberg table to hold both edges', async () => {
      const out = await run(python, [reader, join(warehouse, DB, 'ids')]).catch(() => undefined);
      if (!out) return false;
      const read = parseJson(out.stdout) as { rows: Record<string, unknown>[] };
      return read.rows.length === 2 && read.rows;
    }, 120_000);
    const byTarget = (t: bigint) => rows.find((r) => r['target'] === String(t))!;
    expect(byTarget(BIG + 2n)).toMatchObject({ source: String(BIG), target: String(BIG + 2n), active: true, version: NS, created_at: NS, deleted_at: null, properties: `{"n":${BIG}}` });
    expect(byTarget(BIG + 1n)).toMatchObject({ source: String(BIG), version: NS + 1n, created_at: NS + 1n, properties: `{"n":${BIG + 1n}}` });

    // 4. Druid SQL over the CDC datasource.
    const druidRows = await waitFor('Druid to answer both edges', async () => {
      const r = await druid
        .sql<{ source: string; target: string; active: number }>(
          `SELECT "source", "target", SUM("accumulator") AS "active" FROM "${dataSource}" WHERE "table" = 'ids' GROUP BY 1, 2 ORDER BY 2`,
        )
        .catch(() => []);
      return r.length === 2 && r;
    }, 180_000);
    expect(druidRows).toEqual([
      { source: String(BIG), target: String(BIG + 1n), active: 1 },
      { source: String(BIG), target: String(BIG + 2n), active: 1 },
    ]);
    // reconcile agrees on every sink, Druid included (per-pair sums), before the disaster
    const reconcileEnv = {
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: cdc,
      TARGET_URL: core.url,
      ES_URL: esUrl,
      ES_INDEX_PREFIX: prefix,
      ES_CDC_GROUP: `${group}.cdc`,
      ICEBERG_WAREHOUSE: warehouse,
      DRUID_URL: coordinatorUrl,
      DRUID_BROKER_URL: brokerUrl,
      DRUID_DATASOURCE: dataSource,
      DRUID_CATCHUP_MS: '150000',
      SETTLE_ROUNDS: '2',
      SETTLE_MS: '1000',
    };
    const reconciled = await runCli(['reconcile'], { ...reconcileEnv, RECONCILE_SINKS: 'core,elasticsearch,iceberg,druid' });
    expect({ code: reconciled.code, divergent: reconciled.result?.divergent, out: reconciled.code ? reconciled.stdout.slice(-3_000) : '' }).toEqual({ code: 0, divergent: 0, out: '' });

    // 5. The core's storage lost; a fresh core rebuilt from the WAL answers the same, exactly.
    await core.stop('SIGKILL');
    deleteStorage(storage);
    core = new CoreProcess({ ...core.env });
    await core.start();
    const rebuild = await runCli(['rebuild', '--target-url', core.url, '--schema-file', schemaFile], { KAFKA_BROKERS: bootstrap, WAL_TOPIC: wal, STATE_FILE: join(tmp, 'rebuild.state.json') });
    expect({ code: rebuild.code, stderr: rebuild.code ? rebuild.stderr.slice(-2_000) : '' }).toEqual({ code: 0, stderr: '' });
    expect({ applied: rebuild.result.applied, rejected: rebuild.result.rejected }).toEqual({ applied: 3, rejected: 0 });
    expect(await coreView(core.url)).toEqual(EXPECTED);

    const check = await runCli(['check', '--target-url', core.url], { KAFKA_BROKERS: bootstrap, CDC_TOPIC: cdc });
    expect({ code: check.code, mismatches: check.stdout.split('\n').filter((l) => l.startsWith('MISMATCH')) }).toEqual({ code: 0, mismatches: [] });
    let last: Awaited<ReturnType<typeof runCli>> | undefined;
    await waitFor('reconcile after the rebuild: core, Elasticsearch and Iceberg agree and caught up', async () => {
      last = await runCli(['reconcile'], { ...reconcileEnv, TARGET_URL: core!.url, RECONCILE_SINKS: 'core,elasticsearch,iceberg' });
      const results = (last.result?.results ?? []) as { behind: number }[];
      return last.code === 0 && results.length === 3 && results.every((r) => r.behind === 0);
    }, 180_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\nlast reconcile (exit ${last?.code}):\n${last?.stdout.slice(-4_000)}\n${last?.stderr.slice(-2_000)}`);
    });
    expect(last!.result.divergent).toBe(0);
  }, 900_000);
});
