/**
 * The stack's PostgreSQL for real: a private server (own folder, own free port), so the shared one is not
 * touched. Started through the CLI (the server outlives it), a database per test, stopped, started again.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createDatabase, ensurePostgres, postgresStatus, repoRoot, stackDir, stopPostgres } from '../src/index';

const exec = promisify(execFile);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const root = repoRoot();
const cli = path.join(root, 'tools/stack/src/cli.ts');
const testStack = path.join(stackDir(), `it-pg-${process.pid}`);
const dir = path.join(testStack, 'postgres');
let port: number;

async function runCli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', cli, ...args], {
      cwd: root,
      env: { ...process.env, STACK_DIR: testStack, PGPORT: String(port) },
      timeout: 110_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

describe('tools/stack: PostgreSQL', () => {
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(async () => {
    await stopPostgres({ dir, port }).catch(() => undefined);
    await rm(testStack, { recursive: true, force: true });
  }, 60_000);

  it('starts through the CLI, outlives it, answers status, and stops', async () => {
    const up = await runCli('up', 'postgres');
    expect(up.out).toContain('ready at');
    expect(up.code).toBe(0);
    const s = await postgresStatus({ dir, port });
    expect(s.running).toBe(true);
    expect(s.pid).toBeGreaterThan(0);
    expect((await runCli('status', 'postgres')).code).toBe(0);
    const rows = await query(s.url, 'SHOW server_version');
    expect(String(rows[0]!['server_version'])).toMatch(/^\d+\./);
    expect((await runCli('down', 'postgres')).code).toBe(0);
    expect((await postgresStatus({ dir, port })).running).toBe(false);
    expect((await runCli('status', 'postgres')).code).toBe(3);
  }, 120_000);

  it('ensurePostgres restarts on the same data; each test gets its own database, dropped after', async () => {
    const { url } = await ensurePostgres({ dir, port });
    const again = await ensurePostgres({ dir, port });
    expect(again.url).toBe(url);
    const a = await createDatabase(url, 'it_a');
    const b = await createDatabase(url, 'it_a');
    expect(a.name).not.toBe(b.name);
    await query(a.url, 'CREATE TABLE t (k text PRIMARY KEY)');
    await query(a.url, "INSERT INTO t VALUES ('x')");
    expect(await query(a.url, 'SELECT k FROM t')).toEqual([{ k: 'x' }]);
    // b is a separate database: a's table is not there.
    expect(await query(b.url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 't'")).toEqual([{ n: 0 }]);
    await a.drop();
    await b.drop();
    const names = (await query(url, 'SELECT datname FROM pg_database')).map((r) => r['datname']);
    expect(names).not.toContain(a.name);
    expect(names).not.toContain(b.name);
  }, 120_000);
});
