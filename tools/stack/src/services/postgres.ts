/**
 * PostgreSQL from the machine's Debian package (postgresql-15), one server per stack folder on 127.0.0.1.
 * The server refuses to run as root, so as root it runs as a system user made for it (runuser), like
 * Elasticsearch. Tests share the one server and get a fresh database each (`createDatabase`).
 *
 * Layout: `<stackDir>/postgres` holds data/ (initdb), the Unix socket, postgres.log and the pid file, so a test
 * can run a private server in its own folder on another port next to the stack's.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { commandLine, envPort, isAlive, portOpen, run, tail } from '../process';
import { stackDir } from '../paths';

const SERVICE = 'postgres';
/** The system user the server runs as when the stack runs as root. */
export const PG_USER = 'stack-pg';
/** The database superuser initdb creates (trust authentication on 127.0.0.1 and the socket: a test server). */
export const PG_SUPERUSER = 'postgres';

export interface PostgresOptions {
  /** Server folder (data/, socket, log). Default `<stackDir>/postgres`. */
  dir?: string;
  /** TCP port on 127.0.0.1. Default $PGPORT or 5432. */
  port?: number;
  /** Folder with initdb/pg_ctl/postgres. Default $PG_BIN or the newest /usr/lib/postgresql/<v>/bin. */
  binDir?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  onProgress?: (msg: string) => void;
}

export interface PostgresStatus {
  running: boolean;
  /** Connection URL of the superuser's `postgres` database. */
  url: string;
  pid?: number;
  foreign?: boolean;
}

interface Resolved {
  dir: string;
  dataDir: string;
  port: number;
  url: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  logFile: string;
  binDir?: string;
}

function resolve(opts: PostgresOptions = {}): Resolved {
  const dir = path.resolve(opts.dir ?? path.join(stackDir(), 'postgres'));
  const port = opts.port ?? envPort(SERVICE, 'PGPORT', 5432);
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    port,
    url: postgresUrl(port),
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    progress: opts.onProgress ?? (() => undefined),
    logFile: path.join(dir, 'postgres.log'),
    ...(opts.binDir ?? process.env['PG_BIN'] ? { binDir: opts.binDir ?? process.env['PG_BIN'] } : {}),
  };
}

export function postgresUrl(port: number, database = 'postgres'): string {
  return `postgres://${PG_SUPERUSER}@127.0.0.1:${port}/${database}`;
}

/** The server binaries of the newest installed major version (Debian keeps them off PATH). */
async function installedBinDir(): Promise<string | undefined> {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? (await readdir(base)).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const bin = path.join(base, v, 'bin');
    if (existsSync(path.join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

async function findBinDir(r: Resolved): Promise<string> {
  if (r.binDir) return r.binDir;
  const have = await installedBinDir();
  if (have) return have;
  // A fresh machine (CI) may lack the package: as root, install Debian's (the server binaries only).
  if (isRoot() && existsSync('/usr/bin/apt-get')) {
    r.progress('installing the Debian package postgresql (apt-get)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-q'], { timeoutMs: 300_000, env });
    const inst = await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'postgresql'], { timeoutMs: 600_000, env });
    const now = await installedBinDir();
    if (now) return now;
    r.progress(`apt-get install failed: ${inst.output.trim().split('\n').slice(-3).join(' / ')}`);
  }
  const base = '/usr/lib/postgresql';
  throw new StackError(SERVICE, `no PostgreSQL server binaries under ${base}/<version>/bin`, {
    hint: 'install the Debian package (apt-get update && apt-get install -y postgresql), or set PG_BIN to the folder holding initdb and pg_ctl',
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function ensureUser(): Promise<void> {
  if (!isRoot()) return;
  if ((await run('id', ['-u', PG_USER])).code === 0) return;
  const add = await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', PG_USER]);
  if (add.code !== 0 && (await run('id', ['-u', PG_USER])).code !== 0) {
    throw new StackError(SERVICE, `could not create the system user ${PG_USER}: ${add.output.trim()}`, {
      hint: 'PostgreSQL refuses to run as root; create the user by hand (useradd --system) or run the stack as a normal user',
    });
  }
}

/** Runs a server binary as the server's user (root) or as ourselves. */
function asServerUser(binary: string, args: string[], opts: { timeoutMs: number }) {
  return isRoot() ? run('runuser', ['-u', PG_USER, '--', binary, ...args], opts) : run(binary, args, opts);
}

/** Ready = a real query answers. */
export async function postgresReady(url: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The postmaster's pid from data/postmaster.pid, when that process is alive. */
async function serverPid(r: Resolved): Promise<number | undefined> {
  let first: string;
  try {
    // The first line is the pid; the others name the data folder, port and socket.
    first = (await readFile(path.join(r.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '';
  } catch {
    return undefined;
  }
  const pid = Number(first.trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // Pids are reused: after a reboot the file may name somebody else's process.
  const cmd = commandLine(pid);
  return cmd === undefined || cmd.includes('postgres') ? pid : undefined;
}

export async function postgresStatus(opts: PostgresOptions = {}): Promise<PostgresStatus> {
  const r = resolve(opts);
  const pid = await serverPid(r);
  if (pid !== undefined) return { running: await postgresReady(r.url), url: r.url, pid };
  if (await portOpen(r.port)) {
    const running = await postgresReady(r.url);
    return running ? { running, url: r.url, foreign: true } : { running, url: r.url };
  }
  return { running: false, url: r.url };
}

export interface PostgresStartResult {
  url: string;
  pid?: number;
  started: boolean;
  readyMs?: number;
}

/** Starts the server unless it runs already (idempotent; a lock folder serialises concurrent callers). */
export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresStartResult> {
  const r = resolve(opts);
  await mkdir(r.dir, { recursive: true });
  return withLock(path.join(r.dir, '.lock'), async () => {
    const existing = await serverPid(r);
    if (existing !== undefined) {
      if (!(await waitReady(r, existing))) {
        throw new StackError(SERVICE, `the server (pid ${existing}) runs but does not answer at ${r.url}`, {
          hint: `read ${r.logFile}; stop it with: npx tsx tools/stack/src/cli.ts down postgres`,
        });
      }
      r.progress(`already running (pid ${existing}) at ${r.url}`);
      return { url: r.url, pid: existing, started: false };
    }
    if (await portOpen(r.port)) {
      if (await postgresReady(r.url)) {
        r.progress(`a PostgreSQL not started from ${r.dir} already answers at ${r.url}; using it`);
        return { url: r.url, started: false };
      }
      throw new StackError(SERVICE, `port ${r.port} on 127.0.0.1 is taken by something that is not a PostgreSQL we can log into as ${PG_SUPERUSER}`, {
        hint: 'free the port or pick another with PGPORT',
      });
    }
    const bin = await findBinDir(r);
    await ensureUser();
    if (isRoot()) {
      const own = await run('chown', ['-R', `${PG_USER}:`, r.dir]);
      if (own.code !== 0) throw new StackError(SERVICE, `chown of ${r.dir} failed: ${own.output.trim()}`);
      // The user must reach its folder through the parents (the repo is usually root's): add the search bit
      // for others where missing, nothing else.
      for (let d = path.dirname(r.dir); d !== path.dirname(d); d = path.dirname(d)) {
        const mode = (await stat(d)).mode & 0o7777;
        if ((mode & 0o001) === 0) await chmod(d, mode | 0o001);
      }
    }
    const t0 = Date.now();
    if (!existsSync(path.join(r.dataDir, 'PG_VERSION'))) {
      r.progress(`initdb ${r.dataDir}`);
      const init = await asServerUser(
        path.join(bin, 'initdb'),
        ['-D', r.dataDir, '-U', PG_SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-instructions'],
        { timeoutMs: 120_000 },
      );
      if (init.code !== 0) {
        await rm(r.dataDir, { recursive: true, force: true });
        throw new StackError(SERVICE, `initdb failed: ${init.error?.message ?? init.output.trim().split('\n').slice(-5).join('\n  ')}`, {
          hint: `check that ${r.dir} is writable by ${isRoot() ? PG_USER : 'this user'}`,
        });
      }
    }
    await writeFile(r.logFile, '');
    if (isRoot()) await run('chown', [`${PG_USER}:`, r.logFile]);
    // Settings of a small shared test server: many short-lived test databases and pools, little memory.
    const serverOpts = [
      `-p ${r.port}`,
      `-k ${r.dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      '-c shared_buffers=128MB',
    ].join(' ');
    const started = Date.now();
    // pg_ctl start forks the postmaster into the background and returns once it accepts connections (-w).
    const ctl = await asServerUser(path.join(bin, 'pg_ctl'), ['-D', r.dataDir, '-l', r.logFile, '-o', serverOpts, '-w', '-t', String(Math.ceil(r.readyTimeoutMs / 1000)), 'start'], {
      timeoutMs: r.readyTimeoutMs + 10_000,
    });
    const pid = await serverPid(r);
    if (ctl.code !== 0 || pid === undefined || !(await waitReady(r, pid))) {
      throw new StackError(SERVICE, `the server did not start: ${ctl.output.trim()}\nlast log lines:\n${await tail(r.logFile)}`, {
        hint: `read ${r.logFile}; if the port is taken pick another with PGPORT`,
      });
    }
    const readyMs = Date.now() - started;
    r.progress(`ready at ${r.url} (pid ${pid}) in ${(readyMs / 1000).toFixed(1)} s (${((Date.now() - t0) / 1000).toFixed(1)} s with initdb)`);
    return { url: r.url, pid, started: true, readyMs };
  });
}

async function waitReady(r: Resolved, pid: number): Promise<boolean> {
  const deadline = Date.now() + r.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    if (await postgresReady(r.url, 2_000)) return true;
    await new Promise((res) => setTimeout(res, 200));
  }
  return false;
}

/** Starts PostgreSQL if it is not running and returns the superuser's URL. Safe from several jest globalSetups. */
export async function ensurePostgres(opts: PostgresOptions = {}): Promise<{ url: string; port: number }> {
  const { url } = await startPostgres(opts);
  return { url, port: resolve(opts).port };
}

/**
 * A fresh, empty database on the server at `serverUrl` (a test's own), named `<prefix>_<random>`; returns its
 * URL and a function that drops it.
 */
export async function createDatabase(serverUrl: string, prefix = 'test'): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40)}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** pg_ctl stop -m fast (rolls back open transactions, checkpoints), immediate after the timeout. */
export async function stopPostgres(opts: PostgresOptions = {}): Promise<{ stopped: boolean }> {
  const r = resolve(opts);
  return withLock(path.join(r.dir, '.lock'), async () => {
    const pid = await serverPid(r);
    if (pid === undefined) {
      r.progress('not running');
      return { stopped: false };
    }
    const bin = await findBinDir(r);
    r.progress(`stopping pid ${pid}`);
    const ctl = await asServerUser(path.join(bin, 'pg_ctl'), ['-D', r.dataDir, '-m', 'fast', '-w', '-t', String(Math.ceil(r.stopTimeoutMs / 1000)), 'stop'], {
      timeoutMs: r.stopTimeoutMs + 10_000,
    });
    if (ctl.code !== 0 && isAlive(pid)) {
      r.progress('fast shutdown did not finish in time: immediate');
      await asServerUser(path.join(bin, 'pg_ctl'), ['-D', r.dataDir, '-m', 'immediate', '-w', 'stop'], { timeoutMs: 30_000 });
    }
    r.progress('stopped');
    return { stopped: true };
  });
}

/** Stops the server and deletes its data and log. */
export async function cleanPostgres(opts: PostgresOptions = {}): Promise<void> {
  const r = resolve(opts);
  await stopPostgres(opts);
  await rm(r.dataDir, { recursive: true, force: true });
  await rm(r.logFile, { force: true });
  r.progress(`removed data and log under ${r.dir}`);
}
