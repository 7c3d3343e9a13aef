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
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { findJava } from '../java';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { resolveClasspath, type MavenArtifact } from '../maven';
import { envPort } from '../process';
import { stackDir } from '../paths';
import { serviceEntry } from './entry';
import { ensurePostgres, type PostgresOptions } from './postgres';

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
 * One JVM (`RESTCatalogServer`), ready when /v1/config answers. Before it starts: PostgreSQL and the catalog
 * database, and the classpath on first use.
 */
function definition(r: Resolved): ServiceSpec {
  const warehouse = path.join(r.dir, 'warehouse');
  let java = 'java';
  let lib = '';
  let jdbc = { uri: '', user: '' };
  return {
    service: SERVICE,
    title: 'Iceberg REST catalog',
    dir: r.dir,
    address: r.url,
    processes: [
      {
        name: SERVICE,
        ports: [{ port: r.port, env: 'ICEBERG_REST_PORT' }],
        pidFile: r.pidFile,
        isOurs: (cmd) => cmd.includes(MAIN_CLASS) && cmd.includes(r.dir),
        outFile: r.logFile,
        command: () => {
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
          const heap = (process.env['ICEBERG_REST_HEAP_OPTS'] ?? '-Xmx256m').split(/\s+/).filter(Boolean);
          return { command: java, args: [...heap, '-Djava.awt.headless=true', '-cp', `${lib}/*`, MAIN_CLASS], env };
        },
      },
    ],
    ready: (ms) => icebergRestReady(r.url, ms),
    async prepare() {
      java = (await findJava(SERVICE, 17, { homes: [process.env['JAVA_HOME']] })).java;
      const { url: pgUrl } = await ensurePostgres({ ...r.postgres, onProgress: (m) => r.progress(`postgres: ${m}`) });
      jdbc = jdbcFromPostgresUrl(await ensureDatabase(pgUrl, r.database));
      lib = await resolveClasspath({
        name: SERVICE,
        dir: r.dir,
        artifacts: icebergRestArtifacts(r.version),
        onProgress: r.progress,
        versionHint: `set ICEBERG_REST_VERSION; ${DEFAULT_ICEBERG_REST_VERSION} is the version this stack was tested with`,
      });
      await mkdir(warehouse, { recursive: true });
      r.progress(`catalog tables in ${jdbc.uri}`);
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    hint: `read ${r.logFile}`,
    cleanPaths: [warehouse, r.logFile],
    progress: r.progress,
  };
}

export async function icebergRestStatus(opts: IcebergRestOptions = {}): Promise<IcebergRestStatus> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, url: r.url, pid };
  return s.foreign ? { running: true, url: r.url, foreign: true } : { running: false, url: r.url };
}

/**
 * Starts the server unless it already runs (idempotent; a lock folder serialises concurrent starts): PostgreSQL
 * and the catalog database first, the classpath on first use, then the JVM, ready when /v1/config answers.
 */
export async function startIcebergRest(opts: IcebergRestOptions = {}): Promise<{ url: string; pid?: number; started: boolean; readyMs?: number }> {
  const r = resolve(opts);
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return { url: r.url, ...(pid !== undefined ? { pid } : {}), started: s.started, ...(s.readyMs !== undefined ? { readyMs: s.readyMs } : {}) };
}

/** Starts the server if it is not running and returns its base URL. Safe from several jest globalSetups. */
export async function ensureIcebergRest(opts: IcebergRestOptions = {}): Promise<{ url: string }> {
  const { url } = await startIcebergRest(opts);
  return { url };
}

export async function stopIcebergRest(opts: IcebergRestOptions = {}): Promise<{ stopped: boolean }> {
  const s = await stopService(definition(resolve(opts)));
  return { stopped: s.stopped.length > 0 };
}

/** Stops the server and deletes its warehouse and log (the classpath stays; the catalog rows stay in PostgreSQL). */
export async function cleanIcebergRest(opts: IcebergRestOptions = {}): Promise<void> {
  const r = resolve(opts);
  await cleanService(definition(r));
  r.progress(`the catalog rows stay in database ${r.database}; drop it to forget the tables`);
}

export const icebergRestService = serviceEntry(SERVICE, 'Iceberg REST catalog', {
  up: (onProgress) => startIcebergRest({ onProgress }),
  down: (onProgress) => stopIcebergRest({ onProgress }),
  clean: (onProgress) => cleanIcebergRest({ onProgress }),
  status: async () => {
    const s = await icebergRestStatus();
    return { running: s.running, address: s.url, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
  },
});
