/**
 * shadow on the real Kafka of tools/stack and two real cores, each its own process with its own SQLite file
 * and its own WAL/CDC topics (the target is just another core: shadow does not care which store it runs on).
 * Clients write to the primary only; shadow, as its own process (main.ts), mirrors the primary's WAL into the
 * target and compares. In order, on the same cores:
 * 1. live load with shadow running ends at zero divergent keys; both cores answer alike for every key and
 *    count, and `wal-replay check` on the target against the primary's CDC finds nothing;
 * 2. kill -9 of shadow mid-load, restart: still zero divergent keys, and the same checks;
 * 3. writes made directly to the target are reported, with the keys named and both sides.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreClient } from '@pipeline/core-api';
import { createKafka, type Admin } from '@pipeline/kafka';
import { ensureKafka } from '@pipeline/stack';
import { api, createLikes, freePort, startCoreOnFreshTopics, tempDir, uniqueName, waitFor, type CoreProcess } from '@pipeline/testing';
import { keyId, normalEdge, type KeyRef } from '../src/keys';
import type { ShadowReport } from '../src/comparer';
import { metric, readReport } from './report';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const WAL_REPLAY = fileURLToPath(new URL('../../wal-replay/src/main.ts', import.meta.url));
const SOURCES = Array.from({ length: 8 }, (_, i) => `u-${i}`);
const TARGETS = Array.from({ length: 25 }, (_, i) => i);

let bootstrap: string;
let admin: Admin;
let primary: { core: CoreProcess; wal: string; cdc: string };
let target: { core: CoreProcess; wal: string; cdc: string };
let dir: string;
let group: string;
let reportFile: string;
let port: number;

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  admin = await createKafka({ brokers: [bootstrap], clientId: 'shadow-int-test' }).admin();
  [primary, target] = await Promise.all([startCoreOnFreshTopics(bootstrap, 'shadow-p'), startCoreOnFreshTopics(bootstrap, 'shadow-t')]);
  // Tables on the primary only: shadow copies the schema to the target.
  await createLikes(primary.core.url, 'likes');
  await createLikes(primary.core.url, 'views', 'ASYNC');
  dir = tempDir('shadow-it');
  group = uniqueName('shadow-g');
  reportFile = join(dir, 'report.json');
  port = await freePort();
}, 180_000);

afterAll(async () => {
  await shadow?.stop();
  await Promise.all([primary?.core.stop(), target?.core.stop()]);
  const topics = [primary?.wal, primary?.cdc, target?.wal, target?.cdc, `${group}.dlq`].filter((t): t is string => !!t);
  await admin?.deleteTopics(topics).catch(() => undefined);
  await admin?.close();
});

/** shadow's main.ts as its own process, so the test can kill -9 it. */
class ShadowProcess {
  child: ChildProcess | null = null;
  output = '';
  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KAFKA_BROKERS: bootstrap,
        CONSUMER_GROUP: group,
        WAL_TOPIC: primary.wal,
        PRIMARY_URL: primary.core.url,
        TARGET_URL: target.core.url,
        HTTP_PORT: String(port),
        BATCH_MAX_WAIT_MS: '50',
        START_AT: 'earliest',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        SETTLE_MS: '300',
        SETTLE_ROUNDS: '3',
        COMPARE_INTERVAL_MS: '200',
        COUNT_SAMPLE_RATE: '1',
        REPORT_FILE: reportFile,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      'shadow ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`shadow exited ${child.exitCode}:\n${this.output.slice(-2000)}`);
        return (await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined))?.status === 200;
      },
      60_000,
    );
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill(signal);
    return exited;
  }
}
let shadow: ShadowProcess | undefined;

let version = Date.now();
/** Writers on the primary: inserts, updates and deletes over a small key space (so keys are hit many times). */
async function load(ms: number, writers = 4): Promise<number> {
  const end = Date.now() + ms;
  let requests = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (Date.now() < end) {
        const mutations = Array.from({ length: 1 + Math.floor(Math.random() * 4) }, () => {
          const x = Math.random();
          const type = x < 0.6 ? 'INSERT' : x < 0.8 ? 'UPDATE' : 'DELETE';
          const v = ++version;
          const source = SOURCES[Math.floor(Math.random() * SOURCES.length)]!;
          const target = TARGETS[Math.floor(Math.random() * TARGETS.length)]!;
          return { type, edge: { version: v, source, target, properties: type === 'DELETE' ? {} : { created_at: v } } };
        });
        // Most requests to the SYNC table; some to the ASYNC one, whose items the primary only queues.
        const table = Math.random() < 0.85 ? 'likes' : 'views';
        const r = await api(primary.core.url, 'POST', `/graph/v3/databases/shop/tables/${table}/edges`, { mutations });
        if (r.status !== 200) throw new Error(`write to the primary: ${r.status} ${JSON.stringify(r.body)}`);
        requests++;
      }
    }),
  );
  return requests;
}

/** shadow has consumed the whole WAL and compared every key it touched. */
async function caughtUp(): Promise<ShadowReport> {
  const ends = await admin.endOffsets(primary.wal);
  await waitFor(
    'shadow committed the end of the WAL',
    async () => {
      const committed = await admin.committedOffsets(group, primary.wal);
      return [...ends].every(([p, end]) => committed.get(p) === end);
    },
    60_000,
  );
  return waitFor(
    'no key pending comparison',
    async () => {
      const r = readReport(reportFile);
      return r && r.pending === 0 && Date.parse(r.generatedAt) > Date.now() - 2_000 ? r : undefined;
    },
    60_000,
  );
}

/** Every key and count the load can reach, read on both cores: they must answer alike. */
async function bothCoresAgree(): Promise<void> {
  const clients = [primary, target].map((c) => new CoreClient({ baseUrl: c.core.url, actor: 'test' }));
  for (const table of ['likes', 'views']) {
    const read = async (c: CoreClient) => {
      const edges: Record<string, unknown> = {};
      for (const s of SOURCES) for (const e of await c.get('shop', table, s, TARGETS)) edges[keyId({ kind: 'edge', db: 'shop', table, source: e.source, target: e.target } as KeyRef)] = normalEdge(e);
      const out = Object.fromEntries(await c.counts('shop', table, 'OUT', SOURCES));
      const inn = Object.fromEntries(await c.counts('shop', table, 'IN', TARGETS));
      const scans: Record<string, unknown> = {};
      for (const s of SOURCES) scans[s] = (await c.scanAll('shop', table, 'recent', 'OUT', s)).map((e) => [e.target, e.version]);
      return { edges, out, inn, scans };
    };
    const [p, t] = (await Promise.all(clients.map(read))) as [Awaited<ReturnType<typeof read>>, Awaited<ReturnType<typeof read>>];
    expect(t).toEqual(p);
    if (table === 'likes') expect(Object.keys(p.edges).length).toBeGreaterThan(10);
    // The ASYNC table's items were only queued on the primary (no async processor runs here): none applied.
    if (table === 'views') expect(Object.keys(p.edges)).toHaveLength(0);
  }
}

/** `wal-replay check` on the target against the primary's CDC: the target holds what the primary committed. */
async function walReplayCheck(): Promise<void> {
  let last = '';
  await waitFor(
    'wal-replay check exits 0',
    async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', WAL_REPLAY, 'check', '--target-url', target.core.url], {
        cwd: REPO_ROOT,
        env: { ...process.env, KAFKA_BROKERS: bootstrap, CDC_TOPIC: primary.cdc, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      last = `exit ${code}: ${out.slice(-1500)}`;
      // The primary's CDC relay may still be behind its commits: a mismatch from that passes on the next run.
      if (code === 0) return true;
      if (code !== 1) throw new Error(last);
      return false;
    },
    45_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nlast run: ${last}`);
  });
}

describe('shadow mirrors the primary into a second core and compares them', () => {
  it('live load with shadow running ends at zero divergent keys, both cores equal, wal-replay check clean', async () => {
    shadow = new ShadowProcess();
    await shadow.start();
    const requests = await load(8_000);
    expect(requests).toBeGreaterThan(20);
    const report = await caughtUp();
    expect(report.divergentCount).toBe(0);
    expect(report.divergent).toEqual([]);
    expect(report.compared.equal).toBeGreaterThan(50);
    expect(await metric(port, 'shadow_divergent_keys')).toBe(0);
    expect(await metric(port, 'shadow_records_applied_total')).toBeGreaterThan(50);
    expect(await metric(port, 'shadow_records_skipped_total')).toBeGreaterThan(0); // the queued ones
    expect(await metric(port, 'shadow_lag_seconds')).toBeGreaterThanOrEqual(0);
    await bothCoresAgree();
    await walReplayCheck();
  }, 120_000);

  it('kill -9 of shadow mid-load and a restart still end at zero divergent keys', async () => {
    const applied = await metric(port, 'shadow_records_applied_total');
    const running = load(8_000);
    // Mid-load: killed once it has mirrored some of this load, with more still coming.
    await waitFor('shadow mirroring the load', async () => (await metric(port, 'shadow_records_applied_total')) > applied + 20, 30_000);
    expect(await shadow!.stop('SIGKILL')).toBeNull();
    await new Promise((r) => setTimeout(r, 1_000)); // down for a second, as a crashed process is
    await shadow!.start();
    await running;
    const report = await caughtUp();
    expect(report.divergentCount).toBe(0);
    expect(await metric(port, 'shadow_divergent_keys')).toBe(0);
    await bothCoresAgree();
    await walReplayCheck();
  }, 120_000);

  it('reports writes made to the target only, naming the keys with both sides', async () => {
    const t = new CoreClient({ baseUrl: target.core.url, actor: 'test' });
    const far = Date.now() + 10_000_000;
    // An edge the target holds at a version the primary's later writes cannot override ...
    await t.mutateForced('shop', 'likes', false, [{ type: 'INSERT', edge: { version: far, source: 'u-div', target: 1, properties: { created_at: 1 } } }]);
    // ... and an edge only the target has, under a source the primary then writes to (its OUT count differs).
    await t.mutateForced('shop', 'likes', false, [{ type: 'INSERT', edge: { version: far, source: 'u-extra', target: 99, properties: { created_at: 1 } } }]);
    const v = ++version;
    const mutations = [
      { type: 'INSERT', edge: { version: v, source: 'u-div', target: 1, properties: { created_at: v } } },
      { type: 'INSERT', edge: { version: v, source: 'u-extra', target: 2, properties: { created_at: v } } },
    ];
    expect((await api(primary.core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations })).status).toBe(200);
    const edgeKey = keyId({ kind: 'edge', db: 'shop', table: 'likes', source: 'u-div', target: 1 });
    const countKey = keyId({ kind: 'count', db: 'shop', table: 'likes', direction: 'OUT', start: 'u-extra' });
    const report = await waitFor(
      'both keys reported divergent',
      async () => {
        const r = readReport(reportFile);
        return r && [edgeKey, countKey].every((k) => r.divergent.some((d) => d.key === k)) ? r : undefined;
      },
      30_000,
    );
    const edge = report.divergent.find((d) => d.key === edgeKey)!;
    expect(edge.primary).toEqual({ edge: { version: v, source: 'u-div', target: '1', properties: { created_at: v } } });
    expect(edge.target).toEqual({ edge: { version: far, source: 'u-div', target: '1', properties: { created_at: 1 } } });
    const count = report.divergent.find((d) => d.key === countKey)!;
    expect(count.primary).toEqual({ count: 1 });
    expect(count.target).toEqual({ count: 2 });
    // Only what was written to the target alone diverges (the IN count of target 99 was never touched by the primary).
    expect(report.divergent.map((d) => d.key).sort()).toEqual([countKey, edgeKey].sort());
    expect(await metric(port, 'shadow_divergent_keys')).toBe(2);
    expect(shadow!.output).toContain('divergent key');
    // SIGTERM drains and exits 0; the last report still names both keys.
    expect(await shadow!.stop('SIGTERM')).toBe(0);
    expect(readReport(reportFile)!.divergent.map((d) => d.key).sort()).toEqual([countKey, edgeKey].sort());
  }, 60_000);
});
