/**
 * An Iceberg REST catalog server: Iceberg's own reference server, `org.apache.iceberg.rest.RESTCatalogServer`
 * (the test fixtures of `iceberg-open-api` on Maven Central, the same server the `iceberg-rest-fixture` image
 * runs), in front of Iceberg Java's JdbcCatalog on the stack's PostgreSQL (database `iceberg_rest`), so the
 * catalog survives a restart of the server. Metadata files go where each table's location says: tables live on
 * the local file system (Hadoop's file IO), shared by every writer and reader on this host.
 *
 * Layout: `<stackDir>/iceberg-rest` holds lib/ (the classpath Maven resolves), warehouse/ (the server's default
 * table locations), server.log and the pid file.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { resolveClasspath, type MavenArtifact } from '../maven';
import { envPort, isAlive, ownedPid, portOpen, removePidFile, run, spawnDetached, tail, terminate, writePidFile } from '../process';
import { stackDir } from '../paths';
import { ensurePostgres, type PostgresOptions } from './postgres';
import type { Service } from './index';

const SERVICE = 'iceberg-rest';
/** The Iceberg release whose server the stack runs unless ICEBERG_REST_VERSION says otherwise. */
export const DEFAULT_ICEBERG_REST_VERSION = '1.10.0';
const MAIN_CLASS = 'org.apache.iceberg.rest.RESTCatalogServer';

export interface IcebergRestOptions {
  /** Folder for lib/, warehouse/, the log and the pid file. Default `<stackDir>/iceberg-rest`. */
  dir?: string;
  /** HTTP port. Default $ICEBERG_REST_PORT or 8181. */
  port?: number;
  /** Iceberg version from Maven. Default $ICEBERG_REST_VERSION or DEFAULT_ICEBERG_REST_VERSION. */
  version?: string;
  /** The PostgreSQL that holds the catalog tables (started when not running). Default: the stack's. */
  postgres?: PostgresOptions;
  /** Database of the catalog tables. Default `iceberg_rest`. */
  database?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  onProgress?: (msg: string) => void;
}

export interface IcebergRestStatus {
  running: boolean;
  /** Base URL of the REST API (clients append `/v1/...`). */
  url: string;
  pid?: number;
  foreign?: boolean;
}

interface Resolved {
  dir: string;
  port: number;
  url: string;
  version: string;
  database: string;
  postgres: PostgresOptions;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  pidFile: string;
  logFile: string;
}

function resolve(opts: IcebergRestOptions = {}): Resolved {
  const dir = path.resolve(opts.dir ?? path.join(stackDir(), SERVICE));
  const port = opts.port ?? envPort(SERVICE, 'ICEBERG_REST_PORT', 8181);
  return {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    version: opts.version ?? process.env['ICEBERG_REST_VERSION'] ?? DEFAULT_ICEBERG_REST_VERSION,
    database: opts.database ?? 'iceberg_rest',
    postgres: opts.postgres ?? {},
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 15_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'iceberg-rest.pid'),
    logFile: path.join(dir, 'server.log'),
  };
}

/**
 * The server's classpath. The fixtures jar holds only the server's main class: the REST adapter and servlet are
 * in iceberg-core's test jar, the HTTP server is Jetty 11 (the version Iceberg builds it with), Hadoop's client
 * gives the file IO for local paths, and the PostgreSQL driver the JDBC catalog behind it.
 */
export function icebergRestArtifacts(version: string): MavenArtifact[] {
  return [
    { groupId: 'org.apache.iceberg', artifactId: 'iceberg-open-api', version, classifier: 'test-fixtures' },
    { groupId: 'org.apache.iceberg', artifactId: 'iceberg-core', version },
    { groupId: 'org.apache.iceberg', artifactId: 'iceberg-core', version, classifier: 'tests' },
    { groupId: 'org.eclipse.jetty', artifactId: 'jetty-servlet', version: '11.0.25' },
    { groupId: 'org.apache.hadoop', artifactId: 'hadoop-client-api', version: '3.4.1' },
    { groupId: 'org.apache.hadoop', artifactId: 'hadoop-client-runtime', version: '3.4.1' },
    { groupId: 'org.postgresql', artifactId: 'postgresql', version: '42.7.4' },
    { groupId: 'org.slf4j', artifactId: 'slf4j-simple', version: '2.0.16' },
  ];
}

/** Ready = `GET /v1/config` answers with a catalog configuration. */
export async function icebergRestReady(url: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/config`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return false;
    const body = (await res.json()) as { defaults?: unknown };
    return typeof body.defaults === 'object';
  } catch {
    return false;
  }
}

const ownPid = (r: Resolved) => ownedPid(r.pidFile, (cmd) => cmd.includes(MAIN_CLASS) && cmd.includes(r.dir));

export async function icebergRestStatus(opts: IcebergRestOptions = {}): Promise<IcebergRestStatus> {
  const r = resolve(opts);
  const pid = await ownPid(r);
  if (pid !== undefined) return { running: await icebergRestReady(r.url), url: r.url, pid };
  if (await portOpen(r.port)) {
    const running = await icebergRestReady(r.url);
    return running ? { running, url: r.url, foreign: true } : { running, url: r.url };
  }
  return { running: false, url: r.url };
}

async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    const have = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (have.rowCount === 0) await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (err) {
    // Two starts at once: the other one created it.
    if ((err as { code?: string }).code !== '42P04') throw err;
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** postgres://user@host:port/db -> the JDBC URL and user the server's JdbcCatalog connects with. */
export function jdbcFromPostgresUrl(url: string): { uri: string; user: string } {
  const u = new URL(url);
  return { uri: `jdbc:postgresql://${u.hostname}:${u.port || 5432}${u.pathname}`, user: decodeURIComponent(u.username || 'postgres') };
}

/**
 * Starts the server unless it already runs (idempotent; a lock folder serialises concurrent starts): PostgreSQL
 * and the catalog database first, the classpath on first use, then the JVM, ready when /v1/config answers.
 */
export async function startIcebergRest(opts: IcebergRestOptions = {}): Promise<{ url: string; pid?: number; started: boolean; readyMs?: number }> {
  const r = resolve(opts);
  await mkdir(r.dir, { recursive: true });
  return withLock(path.join(r.dir, '.lock'), async () => {
    const existing = await ownPid(r);
    if (existing !== undefined) {
      if (!(await waitReady(r, existing))) {
        throw new StackError(SERVICE, `the server (pid ${existing}) runs but does not answer at ${r.url}`, {
          hint: `read ${r.logFile}; stop it with: npx tsx tools/stack/src/cli.ts down ${SERVICE}`,
        });
      }
      r.progress(`already running (pid ${existing}) at ${r.url}`);
      return { url: r.url, pid: existing, started: false };
    }
    if (await portOpen(r.port)) {
      if (await icebergRestReady(r.url)) {
        r.progress(`a REST catalog not started from ${r.dir} already answers at ${r.url}; using it`);
        return { url: r.url, started: false };
      }
      throw new StackError(SERVICE, `port ${r.port} is taken by something that is not an Iceberg REST catalog`, {
        hint: 'free the port or pick another with ICEBERG_REST_PORT',
      });
    }
    const java = process.env['JAVA_HOME'] ? path.join(process.env['JAVA_HOME'], 'bin', 'java') : 'java';
    const v = await run(java, ['-version'], { timeoutMs: 30_000 });
    if (v.error || v.code !== 0) {
      throw new StackError(SERVICE, `cannot run Java (${java}): ${v.error?.message ?? v.output.trim()}`, {
        hint: 'install a JDK 17+ (bash tools/scripts/install-system-deps.sh does it on Debian) or set JAVA_HOME',
      });
    }
    const { url: pgUrl } = await ensurePostgres({ ...r.postgres, onProgress: (m) => r.progress(`postgres: ${m}`) });
    const jdbc = jdbcFromPostgresUrl(await ensureDatabase(pgUrl, r.database));
    const lib = await resolveClasspath({
      name: SERVICE,
      dir: r.dir,
      artifacts: icebergRestArtifacts(r.version),
      onProgress: r.progress,
      versionHint: `set ICEBERG_REST_VERSION; ${DEFAULT_ICEBERG_REST_VERSION} is the version this stack was tested with`,
    });
    const warehouse = path.join(r.dir, 'warehouse');
    await mkdir(warehouse, { recursive: true });
    // The server reads its catalog properties from CATALOG_* variables (CATALOG_JDBC_USER -> jdbc.user): only
    // ours may reach it, not a CATALOG_* meant for one of our apps.
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CATALOG_')));
    Object.assign(env, {
      CATALOG_CATALOG__IMPL: 'org.apache.iceberg.jdbc.JdbcCatalog',
      CATALOG_URI: jdbc.uri,
      CATALOG_JDBC_USER: jdbc.user,
      CATALOG_WAREHOUSE: `file://${warehouse}`,
      CATALOG_REST_PORT: String(r.port),
    });
    await writeFile(r.logFile, '');
    const started = Date.now();
    const heap = (process.env['ICEBERG_REST_HEAP_OPTS'] ?? '-Xmx256m').split(/\s+/).filter(Boolean);
    const pid = spawnDetached(java, [...heap, '-Djava.awt.headless=true', '-cp', `${lib}/*`, MAIN_CLASS], { cwd: r.dir, logFile: r.logFile, env });
    await writePidFile(r.pidFile, pid);
    r.progress(`started the Iceberg ${r.version} REST catalog (pid ${pid}) on ${jdbc.uri}, waiting for ${r.url}/v1/config`);
    if (!(await waitReady(r, pid))) {
      const alive = isAlive(pid);
      if (alive) await terminate(pid, 5_000);
      await removePidFile(r.pidFile);
      throw new StackError(SERVICE, `${alive ? `the server did not answer within ${r.readyTimeoutMs} ms` : 'the server exited during start-up'}; last log lines:\n${await tail(r.logFile)}`, {
        hint: `read ${r.logFile}`,
      });
    }
    const readyMs = Date.now() - started;
    r.progress(`ready at ${r.url} in ${(readyMs / 1000).toFixed(1)} s`);
    return { url: r.url, pid, started: true, readyMs };
  });
}

async function waitReady(r: Resolved, pid: number): Promise<boolean> {
  const deadline = Date.now() + r.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    if (await icebergRestReady(r.url, 2_000)) return true;
    await new Promise((res) => setTimeout(res, 250));
  }
  return false;
}

/** Starts the server if it is not running and returns its base URL. Safe from several jest globalSetups. */
export async function ensureIcebergRest(opts: IcebergRestOptions = {}): Promise<{ url: string }> {
  const { url } = await startIcebergRest(opts);
  return { url };
}

export async function stopIcebergRest(opts: IcebergRestOptions = {}): Promise<{ stopped: boolean }> {
  const r = resolve(opts);
  return withLock(path.join(r.dir, '.lock'), async () => {
    const pid = await ownPid(r);
    if (pid === undefined) {
      r.progress('not running');
      return { stopped: false };
    }
    r.progress(`stopping pid ${pid}`);
    const how = await terminate(pid, r.stopTimeoutMs);
    await removePidFile(r.pidFile);
    return { stopped: how !== 'not-running' };
  });
}

/** Stops the server and drops its catalog database and warehouse (the classpath stays). */
export async function cleanIcebergRest(opts: IcebergRestOptions = {}): Promise<void> {
  const r = resolve(opts);
  await stopIcebergRest(opts);
  await rm(path.join(r.dir, 'warehouse'), { recursive: true, force: true });
  await rm(r.logFile, { force: true });
  r.progress(`removed the warehouse and log under ${r.dir} (the catalog rows stay in database ${r.database}; drop it to forget the tables)`);
}

/** The CLI's entry (`stack up|down|status|clean iceberg-rest`). */
export const icebergRestService: Service = {
  name: SERVICE,
  async up(onProgress) {
    await startIcebergRest({ onProgress });
  },
  async down(onProgress) {
    await stopIcebergRest({ onProgress });
  },
  async status() {
    const s = await icebergRestStatus();
    return {
      running: s.running,
      address: s.url,
      ...(s.pid !== undefined ? { pid: s.pid } : {}),
      ...(s.foreign ? { note: 'answered by a REST catalog this stack folder did not start' } : {}),
    };
  },
  async clean(onProgress) {
    await cleanIcebergRest({ onProgress });
  },
};
