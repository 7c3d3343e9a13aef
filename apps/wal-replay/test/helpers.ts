/**
 * Test helpers: real cores (CoreProcess), a seeded random workload, the CLI as a child process, and a full
 * picture of a core's state (REST views, counts, index scans, and the raw SQLite rows) to compare two cores.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readAll } from '@pipeline/kafka/testing';
import { api, CoreProcess, freePort, repoRoot, tempStorage, uniqueName } from '@pipeline/testing';

export const DB = 'shop';

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startCore(bootstrap: string, storage = tempStorage(), topics = { wal: uniqueName('wr.wal'), cdc: uniqueName('wr.cdc') }) {
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: topics.wal,
    CDC_TOPIC: topics.cdc,
    WAL_PARTITIONS: '3',
    CDC_PARTITIONS: '3',
    STORAGE_PATH: storage,
    LOG_LEVEL: 'warn',
  });
  await core.start();
  return { core, storage, topics };
}

export function deleteStorage(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
}

export async function createTables(url: string): Promise<void> {
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
          { name: 'tag', type: 'STRING', nullable: true },
        ],
      },
      direction: 'BOTH',
      indexes: [
        { index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] },
        { index: 'by_score', fields: [{ field: 'score', order: 'ASC' }, { field: 'tag', order: 'DESC' }] },
      ],
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
  ok(await api(url, 'POST', `/graph/v3/databases/${DB}/aliases`, { alias: 'favs', table: 'likes' }));
  // Recent Views: ASYNC, the core answers QUEUED and only the WAL holds the item until a processor applies it.
  ok(
    await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'recent_views',
      schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'viewed_at', type: 'LONG', nullable: false }] },
      direction: 'OUT',
      indexes: [{ index: 'recent', fields: [{ field: 'viewed_at', order: 'DESC' }] }],
      mode: 'ASYNC',
    }),
  );
}

export const SOURCES = Array.from({ length: 12 }, (_, i) => `u${i}`);
export const TARGETS = Array.from({ length: 10 }, (_, i) => i + 1);
export const GIFT_IDS = Array.from({ length: 15 }, (_, i) => `g${i}`);

/**
 * A random workload: INSERT/UPDATE/DELETE over a small key space, in requests of 1-15 items, through the
 * table, its alias, the multi-edge table and the ASYNC table (`queued` items: only the WAL has them).
 * Versions are unique per key: the one order-dependent case of the transition (an INSERT and a DELETE at
 * one version, docs/model.md) is left out, because duplicated and reordered WAL copies legitimately change its
 * outcome.
 */
export async function runWorkload(url: string, seed: number, n: number, versionBase: number, monotonic = false): Promise<{ items: number; queued: number; keys: number }> {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const used = new Set<number>();
  let counter = versionBase;
  const version = () => {
    // Monotonic: versions grow with time, as client timestamps do.
    if (monotonic) return ++counter;
    let v: number;
    do v = versionBase + Math.floor(r() * n * 20);
    while (used.has(v));
    used.add(v);
    return v;
  };
  let items = 0;
  let keys = 0;
  let queued = 0;
  while (items + queued < n) {
    const size = 1 + Math.floor(r() * 15);
    const roll = r();
    if (roll < 0.15) {
      const mutations = Array.from({ length: size }, () => {
        const v = version();
        const type = pick(['INSERT', 'INSERT', 'DELETE']);
        return { type, edge: { version: v, source: pick(SOURCES), target: pick(TARGETS), properties: type === 'DELETE' ? {} : { viewed_at: v } } };
      });
      const res = await api(url, 'POST', `/graph/v3/databases/${DB}/tables/recent_views/edges`, { mutations });
      if (res.status !== 200 || res.body.results.some((x: { status: string }) => x.status !== 'QUEUED')) throw new Error(`workload: ${JSON.stringify(res.body)}`);
      queued += size;
      continue;
    }
    const multi = roll < 0.35;
    const mutations = Array.from({ length: size }, () => {
      const type = pick(['INSERT', 'INSERT', 'UPDATE', 'DELETE']);
      const v = version();
      if (multi) {
        const props: Record<string, unknown> = type === 'DELETE' ? {} : { amount: Math.floor(r() * 50) };
        const edge: Record<string, unknown> = { version: v, id: pick(GIFT_IDS), properties: props };
        if (type === 'INSERT') Object.assign(edge, { source: pick(SOURCES.slice(0, 4)), target: pick(SOURCES.slice(4, 8)) });
        return { type, edge };
      }
      const props: Record<string, unknown> = {};
      if (type !== 'DELETE') {
        if (type === 'INSERT' || r() < 0.5) props.created_at = v;
        if (r() < 0.6) props.score = Math.floor(r() * 5);
        if (r() < 0.4) props.tag = r() < 0.2 ? null : pick(['a', 'b', 'c']);
      }
      return { type, edge: { version: v, source: pick(SOURCES), target: pick(TARGETS), properties: props } };
    });
    const path = multi ? `/graph/v3/databases/${DB}/tables/gifts/multi-edges` : `/graph/v3/databases/${DB}/tables/${r() < 0.3 ? 'favs' : 'likes'}/edges`;
    const res = await api(url, 'POST', path, { mutations });
    if (res.status !== 200) throw new Error(`workload: ${res.status} ${JSON.stringify(res.body)}`);
    items += size;
    keys += (res.body.results as unknown[]).length;
  }
  return { items, queued, keys };
}

/**
 * Stands in for the async processor (apps/async-processor is not imported: apps never import apps): applies
 * every queued WAL record seen so far through `edges/sync?force=true` as actor AsyncRequestProcessor, as
 * docs/model.md describes. Answers the number of CDC records this produced (one per key per request).
 */
export async function processQueued(bootstrap: string, walTopic: string, url: string): Promise<number> {
  const queued = (await readAll(bootstrap, walTopic, { timeoutMs: 20_000 }))
    .map((m) => JSON.parse(String(m.value)))
    .filter((w) => w.mode?.queue === true);
  let cdc = 0;
  for (let i = 0; i < queued.length; i += 200) {
    const mutations = queued.slice(i, i + 200).map((w) => ({ type: w.event.type, edge: { version: w.event.version, source: w.event.source, target: w.event.target, properties: w.event.properties } }));
    const res = await fetch(`${url}/graph/v3/databases/${DB}/tables/recent_views/edges/sync?force=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-actor-id': 'AsyncRequestProcessor' },
      body: JSON.stringify({ mutations }),
    });
    if (res.status !== 200) throw new Error(`processQueued: ${res.status} ${await res.text()}`);
    cdc += ((await res.json()) as { results: unknown[] }).results.length;
  }
  return cdc;
}

export interface CoreState {
  rows: { tbl: string; ekey: string; state: unknown }[];
  views: Record<string, unknown[]>;
  counts: Record<string, number>;
  scans: Record<string, unknown[]>;
}

/** Everything a user can observe of the tables, plus the stored rows (state, createdAt/deletedAt, cell versions). */
export async function captureState(url: string, storage: string): Promise<CoreState> {
  const db = new Database(storage, { readonly: true, fileMustExist: true });
  const rows = (db.prepare('SELECT tbl, ekey, state FROM edge_state ORDER BY tbl, ekey').all() as { tbl: string; ekey: string; state: string }[]).map((x) => ({
    ...x,
    state: JSON.parse(x.state) as unknown,
  }));
  db.close();
  const base = `/graph/v3/databases/${DB}/tables`;
  const views: CoreState['views'] = {};
  for (const s of SOURCES) views[`likes ${s}`] = (await api(url, 'GET', `${base}/likes/edges/get?source=${s}&target=${TARGETS.join(',')}`)).body.edges;
  for (const s of SOURCES) views[`recent_views ${s}`] = (await api(url, 'GET', `${base}/recent_views/edges/get?source=${s}&target=${TARGETS.join(',')}`)).body.edges;
  views.gifts = (await api(url, 'GET', `${base}/gifts/multi-edges/ids?ids=${GIFT_IDS.join(',')}`)).body.edges;
  const counts: CoreState['counts'] = {};
  const scans: CoreState['scans'] = {};
  const scanAll = async (table: string, index: string, dir: string, start: string | number) => {
    const out: unknown[] = [];
    let offset = '';
    for (;;) {
      const r = await api(url, 'GET', `${base}/${table}/edges/scan/${index}?start=${start}&direction=${dir}&limit=7${offset ? `&offset=${offset}` : ''}`);
      out.push(...r.body.edges);
      if (!r.body.hasNext) return out;
      offset = r.body.offset;
    }
  };
  for (const [table, starts, indexes] of [
    ['likes', { OUT: SOURCES, IN: TARGETS }, ['recent', 'by_score']],
    ['gifts', { OUT: SOURCES.slice(0, 4), IN: SOURCES.slice(4, 8) }, ['by_amount']],
    ['recent_views', { OUT: SOURCES }, ['recent']],
  ] as const) {
    for (const [dir, list] of Object.entries(starts)) {
      const r = await api(url, 'GET', `${base}/${table}/edges/counts?start=${list.join(',')}&direction=${dir}`);
      for (const c of r.body.counts) counts[`${table} ${dir} ${c.start}`] = c.count;
      for (const index of indexes) for (const s of list) scans[`${table} ${index} ${dir} ${s}`] = await scanAll(table, index, dir, s);
    }
  }
  return { rows, views, counts, scans };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line, parsed. */
  result: any;
}

/** Runs the wal-replay CLI as its own process (tsx), as an operator would. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'apps/wal-replay/src/main.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'info', PROGRESS_INTERVAL_MS: '500', ...env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        const last = stdout.trim().split('\n').pop() ?? '';
        let result: unknown = null;
        try {
          result = JSON.parse(last);
        } catch {
          result = null;
        }
        resolve({ code, stdout, stderr, result });
      },
    );
  });
}

/**
 * Starts a consumer app as its own process (tsx), as it runs in production, and adds it to `children` for the
 * suite to kill at the end. Its output is kept (last 20 kB) and printed if it exits on its own.
 */
export function spawnApp(children: ChildProcess[], name: string, main: string, env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, main)], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.on('exit', (code, signal) => {
    if (signal !== 'SIGTERM' && signal !== 'SIGKILL') process.stderr.write(`${name} exited (${code}): ${output.slice(-3_000)}\n`);
  });
  children.push(child);
  return { child, output: () => output };
}

/** A consumer's readiness probe on its HTTP port. */
export async function appReady(port: number): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined))?.ok === true;
}

/** Runs the druid-ingest CLI as its own process with `env` (KAFKA_BROKERS, CDC_TOPIC, DATASOURCE, DRUID_URL...). */
export function runDruidIngest(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'apps/druid-ingest/src/cli.ts'), ...args],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
