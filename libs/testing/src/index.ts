/**
 * Helpers for integration tests across the repository: a real core as a child process (so tests can
 * kill -9 it), kcat reads (a Kafka client outside the project), polling with deadlines.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp-dir';

export { tempDir } from './temp-dir';

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
}

/** Reads a whole topic with kcat, a Kafka client outside the project. */
export async function kcatRead(bootstrap: string, topic: string): Promise<KcatRecord[]> {
  const { stdout } = await run('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-q'], { maxBuffer: 256 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as KcatRecord);
}

/** Data records of a topic (heartbeats and other `sys` records left out), decoded. */
export async function dataRecords(bootstrap: string, topic: string): Promise<{ key: string | null; value: any; partition: number }[]> {
  return (await kcatRead(bootstrap, topic))
    .map((r) => ({ key: r.key, partition: r.partition, value: JSON.parse(r.payload ?? 'null') }))
    .filter((r) => r.value?.context?.database !== 'sys');
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

export const uniqueName = (prefix: string) => `${prefix}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
/** A fresh SQLite path for a core, in a folder removed after the test file (tempDir). */
export const tempStorage = () => join(tempDir('actionbase-it'), 'core.db');

/**
 * The store integration tests run the core on: `TEST_STORAGE=postgres` runs every core a test starts on
 * its own fresh PostgreSQL database (at `PG_TEST_URL`, default the local server), else on a fresh SQLite
 * file. A test that names its store (STORAGE or DATABASE_URL in the core's env) keeps it.
 */
export const testStorage = (): 'sqlite' | 'postgres' => (process.env.TEST_STORAGE === 'postgres' ? 'postgres' : 'sqlite');
const pgAdminUrl = () => process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const createdDatabases = new Set<string>();

async function adminQuery(sql: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new, empty PostgreSQL database; its connection string. Dropped by `dropTestDatabases`. */
export async function createTestDatabase(prefix = 'actionbase_it'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  createdDatabases.add(name);
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops the databases `createTestDatabase` made in this process (connections still open are ended). */
export async function dropTestDatabases(): Promise<void> {
  for (const name of [...createdDatabases]) {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    createdDatabases.delete(name);
  }
}

/** The core as its own OS process, so a test can kill -9 it. */
export class CoreProcess {
  child: ChildProcess | null = null;
  output = '';
  constructor(readonly env: Record<string, string>) {}

  get url(): string {
    return `http://127.0.0.1:${this.env.PORT}`;
  }

  async start(extraEnv: Record<string, string> = {}): Promise<void> {
    // One database per core, kept across restarts of that core.
    if (testStorage() === 'postgres' && !this.env.STORAGE && !this.env.DATABASE_URL) {
      this.env.STORAGE = 'postgres';
      this.env.DATABASE_URL = await createTestDatabase();
    }
    this.output = '';
    this.child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/actionbase/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(`the core on ${this.url} (output: ${this.output.slice(-500)})`, async () => {
      if (this.child?.exitCode !== null) throw new Error(`core exited: ${this.output.slice(-2000)}`);
      const r = await fetch(`${this.url}/graph/health/readiness`).catch(() => undefined);
      return r?.ok;
    });
  }

  exited(): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c?.exitCode ?? null);
    return new Promise((r) => c.once('exit', (code) => r(code)));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = this.exited();
    this.child.kill(signal);
    await done;
  }
}

export async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function createLikes(url: string, table: string, mode = 'SYNC'): Promise<void> {
  await api(url, 'POST', '/graph/v3/databases', { database: 'shop' });
  const r = await api(url, 'POST', '/graph/v3/databases/shop/tables', {
    table,
    schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
    direction: 'BOTH',
    indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
    mode,
  });
  if (r.status !== 200) throw new Error(`create table ${table}: ${JSON.stringify(r.body)}`);
}

/**
 * A started core on fresh WAL/CDC topics (`<prefix>.wal.*`, `<prefix>.cdc.*`, 3 partitions each) and a
 * fresh storage file, so tests never see each other's records.
 */
export async function startCoreOnFreshTopics(
  bootstrap: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<{ core: CoreProcess; wal: string; cdc: string }> {
  const wal = uniqueName(`${prefix}.wal`);
  const cdc = uniqueName(`${prefix}.cdc`);
  const core = new CoreProcess({
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: wal,
    CDC_TOPIC: cdc,
    WAL_PARTITIONS: '3',
    CDC_PARTITIONS: '3',
    STORAGE_PATH: tempStorage(),
    LOG_LEVEL: 'warn',
    ...env,
  });
  await core.start();
  return { core, wal, cdc };
}
