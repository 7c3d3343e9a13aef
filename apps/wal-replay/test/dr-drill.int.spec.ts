/**
 * The disaster-recovery drill, on the real Kafka and Elasticsearch, with the consumers as processes: the
 * es-indexer (CDC -> current-state index) and the snapshotter (CDC -> Iceberg tables).
 *
 * 1. Steady load from 4 clients on two tables (unique edges and multi-edges), monotonic versions.
 * 2. Under that load the core is killed with SIGKILL and its storage deleted (the disaster).
 * 3. A fresh core on the same topics; `wal-replay rebuild --schema-file` from the WAL.
 * 4. Traffic resumes on the same keys with higher versions.
 * 5. `reconcile` (core, Elasticsearch, Iceberg, each at the CDC offsets it committed) and `wal-replay check`
 *    find zero divergence, once every sink has caught up; and every CDC record of the rebuilt core carries a
 *    higher seq than any record of the lost one (so its records superseded the old ones in every sink).
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import { createKafka, type Admin } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, freePort, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import { CoreClient } from '@pipeline/core-api';
import { appReady, DB, deleteStorage, runCli, spawnApp, startCore } from './helpers';

const SOURCES = Array.from({ length: 40 }, (_, i) => `u${i}`);
const TARGETS = Array.from({ length: 25 }, (_, i) => i + 1);
const GIFTS = Array.from({ length: 200 }, (_, i) => `g${i}`);

let bootstrap: string;
let esUrl: string;
let es: Client;
let admin: Admin;
const tmp = tempDir('wal-replay-dr');
const prefix = uniqueName('dr').replace(/\./g, '-');
const children: ChildProcess[] = [];
let core: CoreProcess | undefined;

/** CoreProcess.start waits 30 s; on this shared machine a start under load can take longer: try again. */
async function startPatiently(c: CoreProcess): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await c.start();
      return;
    } catch (err) {
      await c.stop('SIGKILL');
      if (attempt === 3) throw err;
    }
  }
}

const app = (name: string, main: string, env: Record<string, string>) => spawnApp(children, name, main, env);

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  ({ url: esUrl } = await ensureElasticsearch());
  es = new Client({ node: esUrl });
  admin = await createKafka({ brokers: [bootstrap], clientId: 'wal-replay-dr' }).admin();
}, 240_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await core?.stop('SIGKILL');
  await admin?.close();
  if (es) {
    const rows = (await es.cat.indices({ index: `${prefix}-*`, format: 'json', h: 'index' } as never).catch(() => [])) as unknown as { index: string }[];
    const names = rows.map((r) => r.index);
    if (names.length) await es.indices.delete({ index: names.join(',') }).catch(() => undefined);
    for (const t of [`${prefix}-edges`, `${prefix}-mutations`]) await es.indices.deleteIndexTemplate({ name: t }).catch(() => undefined);
    await es.close();
  }
}, 60_000);

async function createSchema(url: string): Promise<void> {
  const ok = (r: { status: number; body: unknown }) => {
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  };
  ok(await api(url, 'POST', '/graph/v3/databases', { database: DB }));
  ok(
    await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'likes',
      schema: {
        source: { type: 'STRING' },
        target: { type: 'LONG' },
        properties: [
          { name: 'created_at', type: 'LONG', nullable: false },
          { name: 'score', type: 'LONG', nullable: true },
        ],
      },
      direction: 'BOTH',
      indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
      mode: 'SYNC',
    }),
  );
  ok(
    await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'gifts',
      type: 'MULTI_EDGE',
      schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'amount', type: 'LONG', nullable: false }] },
      direction: 'BOTH',
      indexes: [{ index: 'by_amount', fields: [{ field: 'amount', order: 'DESC' }] }],
      mode: 'SYNC',
    }),
  );
}

/** Versions grow with time, as client timestamps do; one counter for every client. */
let version = Date.now() * 1000;

interface Load {
  acked: number;
  failed: number;
  stop(): Promise<void>;
}

/** `clients` loops, each sending requests of 1-10 mutations until stopped; a failed request is counted, not retried. */
function steadyLoad(url: () => string, clients: number): Load {
  let running = true;
  const load = { acked: 0, failed: 0 } as Load;
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
  const loop = async () => {
    while (running) {
      const multi = Math.random() < 0.3;
      const size = 1 + Math.floor(Math.random() * 10);
      const mutations = Array.from({ length: size }, () => {
        const type = pick(['INSERT', 'INSERT', 'UPDATE', 'DELETE']);
        const v = ++version;
        if (multi) {
          const edge: Record<string, unknown> = { version: v, id: pick(GIFTS), properties: type === 'DELETE' ? {} : { amount: Math.floor(Math.random() * 100) } };
          if (type === 'INSERT') Object.assign(edge, { source: pick(SOURCES), target: pick(SOURCES) });
          return { type, edge };
        }
        const properties: Record<string, unknown> = type === 'DELETE' ? {} : type === 'INSERT' ? { created_at: v, score: Math.floor(Math.random() * 10) } : { score: Math.random() < 0.2 ? null : Math.floor(Math.random() * 10) };
        return { type, edge: { version: v, source: pick(SOURCES), target: pick(TARGETS), properties } };
      });
      const path = `/graph/v3/databases/${DB}/tables/${multi ? 'gifts/multi-edges' : 'likes/edges'}`;
      const r = await api(url(), 'POST', path, { mutations }).catch(() => ({ status: 0, body: null }));
      if (r.status === 200) load.acked += size;
      else {
        load.failed += size;
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

interface CdcLine {
  seq?: number;
  context?: { database: string };
}

describe('disaster recovery drill', () => {
  it('core storage destroyed under load, rebuilt from the WAL, traffic resumed on the same keys: every sink and the core agree', async () => {
    const started = Date.now();
    const storage = join(tmp, 'core.db');
    const first = await startCore(bootstrap, storage);
    core = first.core;
    const { wal, cdc } = first.topics;
    const port = core.env.PORT!;
    await createSchema(core.url);
    const schemaFile = join(tmp, 'schema.json');
    writeFileSync(schemaFile, JSON.stringify(await new CoreClient({ baseUrl: core.url, actor: 'WalReplay' }).schema()));

    const group = `${prefix}-idx`;
    const esHttp = await freePort();
    app('es-indexer', 'apps/es-indexer/src/main.ts', {
      KAFKA_BROKERS: bootstrap,
      ES_URL: esUrl,
      WAL_TOPIC: wal,
      CDC_TOPIC: cdc,
      CONSUMER_GROUP: group,
      INDEX_PREFIX: prefix,
      ROLE: 'indexer',
      API_PORT: String(await freePort()),
      API_HOST: '127.0.0.1',
      HTTP_PORT: String(esHttp),
      REFRESH_INTERVAL: '200ms',
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
    await waitFor('both consumers ready', async () => (await appReady(esHttp)) && (await appReady(snapHttp)), 120_000);

    // 1-2. Steady load, then the disaster under it.
    const coreUrl = () => `http://127.0.0.1:${port}`;
    const before = steadyLoad(coreUrl, 4);
    await waitFor('3000 acknowledged mutations before the disaster', async () => before.acked >= 3_000, 180_000);
    const ackedBefore = before.acked;
    await core.stop('SIGKILL');
    deleteStorage(storage);
    await before.stop();
    const killedAt = Date.now();
    const cdcEndAtDisaster = await admin.endOffsets(cdc);

    // 3. A fresh core on the same storage path and topics, rebuilt from the WAL before it takes traffic again.
    core = new CoreProcess({ ...core.env });
    await startPatiently(core);
    const rebuild = await runCli(['rebuild', '--target-url', core.url, '--schema-file', schemaFile], {
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: wal,
      STATE_FILE: join(tmp, 'rebuild.state.json'),
    });
    expect({ code: rebuild.code, stderr: rebuild.code ? rebuild.stderr.slice(-2_000) : '' }).toEqual({ code: 0, stderr: '' });
    expect(rebuild.result.rejected).toBe(0);
    const rebuiltAt = Date.now();

    // 4. Traffic resumes on the same keys, versions higher than anything before.
    const after = steadyLoad(coreUrl, 4);
    await waitFor('2000 acknowledged mutations after the rebuild', async () => after.acked >= 2_000, 180_000);
    await after.stop();

    // 5. Every sink catches up and agrees with the core at the offsets it committed.
    const env = {
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: cdc,
      TARGET_URL: core.url,
      ES_URL: esUrl,
      ES_INDEX_PREFIX: prefix,
      ES_CDC_GROUP: `${group}.cdc`,
      ICEBERG_WAREHOUSE: warehouse,
      SETTLE_ROUNDS: '3',
      SETTLE_MS: '1500',
      RECONCILE_SINKS: 'core,elasticsearch,iceberg',
    };
    let last: Awaited<ReturnType<typeof runCli>> | undefined;
    await waitFor(
      'reconcile: no divergent key and every sink caught up',
      async () => {
        last = await runCli(['reconcile'], env);
        const results = (last.result?.results ?? []) as { sink: string; behind: number }[];
        return last.code === 0 && results.length === 6 && results.every((r) => r.behind === 0);
      },
      240_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nlast reconcile (exit ${last?.code}):\n${last?.stdout.slice(-4_000)}\n${last?.stderr.slice(-2_000)}`);
    });
    const summary = last!.result as { divergent: number; cdcRecords: number; results: { sink: string; table: string; compared: number; divergent: number }[] };
    expect(summary.divergent).toBe(0);
    for (const r of summary.results) expect(r.compared).toBeGreaterThan(100);

    const check = await runCli(['check', '--target-url', core.url], { KAFKA_BROKERS: bootstrap, CDC_TOPIC: cdc });
    expect({ code: check.code, mismatches: check.stdout.split('\n').filter((l) => l.startsWith('MISMATCH')).slice(0, 20) }).toEqual({ code: 0, mismatches: [] });

    // The scheme that makes this work: the rebuilt core's seqs are above every seq of the lost one.
    const records = await readAll(bootstrap, cdc, { timeoutMs: 60_000 });
    let oldMax = 0;
    let newMin = Number.POSITIVE_INFINITY;
    let rebuiltRecords = 0;
    for (const m of records) {
      const r = JSON.parse(String(m.value)) as CdcLine;
      if (r.seq === undefined || r.context?.database !== DB) continue;
      if (m.offset < (cdcEndAtDisaster.get(m.partition) ?? 0n)) oldMax = Math.max(oldMax, r.seq);
      else {
        newMin = Math.min(newMin, r.seq);
        rebuiltRecords++;
      }
    }
    expect(newMin).toBeGreaterThan(oldMax);

    process.stderr.write(
      `${JSON.stringify({
        drill: 'dr',
        ackedBeforeDisaster: ackedBefore,
        failedDuringDisaster: before.failed,
        walReplayed: rebuild.result.applied,
        rebuildSeconds: rebuild.result.seconds,
        ackedAfterRebuild: after.acked,
        cdcRecords: summary.cdcRecords,
        cdcRecordsOfRebuiltCore: rebuiltRecords,
        keys: Object.fromEntries(summary.results.map((r) => [`${r.sink} ${r.table}`, r.compared])),
        divergent: summary.divergent,
        checkMismatches: 0,
        downSeconds: (rebuiltAt - killedAt) / 1000,
        totalSeconds: (Date.now() - started) / 1000,
      })}\n`,
    );
  }, 900_000);
});
