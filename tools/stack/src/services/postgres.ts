/**
 * PostgreSQL from the machine's Debian package (postgresql-15), one server per stack folder on 127.0.0.1.
 * The server refuses to run as root, so as root it runs as a system user made for it (runuser), like
 * Elasticsearch. Tests share the one server and get a fresh database each (`createDatabase`).
 *
 * Layout: `<stackDir>/postgres` holds data/ (initdb), the Unix socket, postgres.log and the pid file, so a test
 * can run a private server in its own folder on another port next to the stack's.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { StackError } from '../errors';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { commandLine, envPort, isAlive, run } from '../process';
import { stackDir } from '../paths';
import { openParents } from './elasticsearch';
import { serviceEntry } from './entry';

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

/**
 * One server that pg_ctl starts and stops (it forks the postmaster and knows how to shut it down cleanly), so the
 * process has `launch`/`pid`/`halt` instead of a command line: initdb the first time, then `pg_ctl start -w`.
 */
function definition(r: Resolved): ServiceSpec {
  let bin = '';
  return {
    service: SERVICE,
    title: 'PostgreSQL',
    dir: r.dir,
    address: r.url,
    processes: [
      {
        name: SERVICE,
        ports: [{ port: r.port, env: 'PGPORT' }],
        pidFile: path.join(r.dataDir, 'postmaster.pid'),
        isOurs: (cmd) => cmd.includes('postgres'),
        outFile: r.logFile,
        pid: () => serverPid(r),
        async launch() {
          await writeFile(r.logFile, '');
          if (isRoot()) await run('chown', [`${PG_USER}:`, r.logFile]);
          // Settings of a small shared test server: many short-lived test databases and pools, little memory.
          const serverOpts = [`-p ${r.port}`, `-k ${r.dir}`, '-c listen_addresses=127.0.0.1', '-c max_connections=300', '-c shared_buffers=128MB'].join(' ');
          // pg_ctl start forks the postmaster into the background and returns once it accepts connections (-w).
          const ctl = await asServerUser(
            path.join(bin, 'pg_ctl'),
            ['-D', r.dataDir, '-l', r.logFile, '-o', serverOpts, '-w', '-t', String(Math.ceil(r.readyTimeoutMs / 1000)), 'start'],
            { timeoutMs: r.readyTimeoutMs + 10_000 },
          );
          const pid = await serverPid(r);
          if (ctl.code !== 0 || pid === undefined) {
            throw new StackError(SERVICE, `the server did not start: ${ctl.output.trim()}\nlast log lines:\n${(await readFile(r.logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n')}`, {
              hint: `read ${r.logFile}; if the port is taken pick another with PGPORT`,
            });
          }
          return pid;
        },
        async halt(pid, timeoutMs) {
          // -m fast rolls back open transactions and checkpoints; immediate when that does not finish in time.
          const b = bin || (await findBinDir(r));
          const ctl = await asServerUser(path.join(b, 'pg_ctl'), ['-D', r.dataDir, '-m', 'fast', '-w', '-t', String(Math.ceil(timeoutMs / 1000)), 'stop'], {
            timeoutMs: timeoutMs + 10_000,
          });
          if (ctl.code === 0 || !isAlive(pid)) return 'terminated';
          r.progress('fast shutdown did not finish in time: immediate');
          await asServerUser(path.join(b, 'pg_ctl'), ['-D', r.dataDir, '-m', 'immediate', '-w', 'stop'], { timeoutMs: 30_000 });
          return 'killed';
        },
      },
    ],
    ready: (ms) => postgresReady(r.url, ms),
    async prepare() {
      bin = await findBinDir(r);
      await ensureUser();
      if (isRoot()) {
        const own = await run('chown', ['-R', `${PG_USER}:`, r.dir]);
        if (own.code !== 0) throw new StackError(SERVICE, `chown of ${r.dir} failed: ${own.output.trim()}`);
        await openParents(r.dir);
      }
      if (existsSync(path.join(r.dataDir, 'PG_VERSION'))) return;
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
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    pollMs: 200,
    hint: `read ${r.logFile}; if the port is taken pick another with PGPORT`,
    cleanPaths: [r.dataDir, r.logFile],
    progress: r.progress,
  };
}

export async function postgresStatus(opts: PostgresOptions = {}): Promise<PostgresStatus> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, url: r.url, pid };
  return s.foreign ? { running: true, url: r.url, foreign: true } : { running: false, url: r.url };
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
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return { url: r.url, ...(pid !== undefined ? { pid } : {}), started: s.started, ...(s.readyMs !== undefined ? { readyMs: s.readyMs } : {}) };
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
  const s = await stopService(definition(resolve(opts)));
  return { stopped: s.stopped.length > 0 };
}

/** Stops the server and deletes its data and log. */
export async function cleanPostgres(opts: PostgresOptions = {}): Promise<void> {
  await cleanService(definition(resolve(opts)));
}

export const postgresService = serviceEntry(SERVICE, 'PostgreSQL', {
  up: (onProgress) => startPostgres({ onProgress }),
  down: (onProgress) => stopPostgres({ onProgress }),
  clean: (onProgress) => cleanPostgres({ onProgress }),
  status: async () => {
    const s = await postgresStatus();
    return { running: s.running, address: s.url, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
  },
});
