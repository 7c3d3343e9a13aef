/**
 * Trino with its Iceberg connector on the stack's Iceberg REST catalog (services/iceberg-rest.ts), reading table
 * files from the local file system (`fs.native-local.enabled`; table paths must be `file://` URIs, which the
 * REST catalog's tables are). Opt-in: the server tarball is ~820 MB (Maven Central, `io.trino:trino-server`),
 * Trino needs Java 24+ (the machine's Temurin 25 JDK; TRINO_JAVA_HOME picks another) and takes about 1.5-2 min to
 * start on two cores. Only `lib/` and the Iceberg plugin are unpacked (~520 MB).
 *
 * Layout: `<stackDir>/trino` holds trino-server-<v>/ (lib/, plugin/iceberg), etc/ (written on every start),
 * data/, server.log and the pid file.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { StackError } from '../errors';
import { findJava } from '../java';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { envPort, run } from '../process';
import { stackDir } from '../paths';
import { DEPENDENCY_PLUGIN } from '../maven';
import { serviceEntry } from './entry';
import { ensureIcebergRest } from './iceberg-rest';

const SERVICE = 'trino';
/** The Trino release the stack runs unless TRINO_VERSION says otherwise (476: the first that Java 24 runs). */
export const DEFAULT_TRINO_VERSION = '476';
const MAIN_CLASS = 'io.trino.server.TrinoServer';

export interface TrinoOptions {
  /** Default `<stackDir>/trino`. */
  dir?: string;
  /** HTTP port. Default $TRINO_PORT or 8188 (8181 is the REST catalog's). */
  port?: number;
  version?: string;
  /** The REST catalog the `iceberg` catalog reads. Default: the stack's iceberg-rest (started when not running). */
  restCatalogUrl?: string;
  /**
   * Default 600 s: about a minute on an idle 2-core machine, but 4 min was seen with the machine shared; a JVM
   * that exits ends the wait at once, whatever this says.
   */
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  onProgress?: (msg: string) => void;
}

interface Resolved {
  dir: string;
  port: number;
  url: string;
  version: string;
  restCatalogUrl?: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  pidFile: string;
  logFile: string;
}

function resolve(opts: TrinoOptions = {}): Resolved {
  const dir = path.resolve(opts.dir ?? path.join(stackDir(), SERVICE));
  const port = opts.port ?? envPort(SERVICE, 'TRINO_PORT', 8188);
  return {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    version: opts.version ?? process.env['TRINO_VERSION'] ?? DEFAULT_TRINO_VERSION,
    ...(opts.restCatalogUrl ? { restCatalogUrl: opts.restCatalogUrl } : {}),
    readyTimeoutMs: opts.readyTimeoutMs ?? 600_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'trino.pid'),
    logFile: path.join(dir, 'server.log'),
  };
}

/** Fetches the server tarball with Maven (cached in ~/.m2) and unpacks lib/ and the Iceberg plugin once. */
async function install(r: Resolved): Promise<string> {
  const home = path.join(r.dir, `trino-server-${r.version}`);
  const stamp = path.join(home, '.installed');
  if (existsSync(stamp)) return home;
  const artifact = `io.trino:trino-server:${r.version}:tar.gz`;
  r.progress(`fetching ${artifact} with Maven (~820 MB the first time, cached in ~/.m2)`);
  const got = await run('mvn', ['-B', '-q', `${DEPENDENCY_PLUGIN}:get`, `-Dartifact=${artifact}`, '-Dtransitive=false'], { cwd: r.dir, timeoutMs: 30 * 60_000 });
  const tarball = path.join(process.env['MAVEN_REPO'] ?? path.join(homedir(), '.m2', 'repository'), 'io', 'trino', 'trino-server', r.version, `trino-server-${r.version}.tar.gz`);
  if (got.code !== 0 || !existsSync(tarball)) {
    throw new StackError(SERVICE, `downloading ${artifact} failed: ${got.output.trim().split('\n').slice(-3).join(' / ')}`, {
      hint: 'check that Maven reaches Maven Central; TRINO_VERSION picks another version (476 is the one tested)',
    });
  }
  r.progress('unpacking lib/ and the Iceberg plugin');
  await rm(home, { recursive: true, force: true });
  // The plugins share jars through hard links in the tarball: unpack all plugins, then keep the Iceberg one.
  const tar = await run('tar', ['-xzf', tarball, '-C', r.dir, `trino-server-${r.version}/lib`, `trino-server-${r.version}/plugin`], { timeoutMs: 10 * 60_000 });
  if (tar.code !== 0) throw new StackError(SERVICE, `unpacking ${tarball} failed: ${tar.output.trim()}`, { hint: `free disk space under ${r.dir} and retry` });
  const plugins = path.join(home, 'plugin');
  for (const p of await readdir(plugins)) if (p !== 'iceberg') await rm(path.join(plugins, p), { recursive: true, force: true });
  await writeFile(stamp, artifact);
  return home;
}

/** etc/ of a single-node coordinator on 127.0.0.1 with one catalog, `iceberg`, on the REST catalog. */
export function trinoConfig(r: { port: number; dataDir: string; restCatalogUrl: string }): Record<string, string> {
  return {
    'config.properties': [
      'coordinator=true',
      'node-scheduler.include-coordinator=true',
      `http-server.http.port=${r.port}`,
      `discovery.uri=http://127.0.0.1:${r.port}`,
      'query.max-memory=1GB',
      'query.max-memory-per-node=512MB',
    ].join('\n'),
    'catalog/iceberg.properties': [
      'connector.name=iceberg',
      'iceberg.catalog.type=rest',
      `iceberg.rest-catalog.uri=${r.restCatalogUrl}`,
      // Table files are on this host's file system: file:///... paths, resolved from the root.
      'fs.native-local.enabled=true',
      'local.location=/',
    ].join('\n'),
  };
}

export async function trinoReady(url: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.json() as { starting?: boolean }).starting === false;
  } catch {
    return false;
  }
}

/** The node settings, as system properties (what Trino's launcher makes of node.properties; we start the JVM directly). */
function nodeProperties(dataDir: string): string[] {
  return ['-Dnode.environment=stack', '-Dnode.id=stack-trino', `-Dnode.data-dir=${dataDir}`, '-Dnode.internal-address=127.0.0.1'];
}

/**
 * One JVM (`TrinoServer`), ready when /v1/info says it is no longer starting. Before it starts: a Java 24+, the
 * REST catalog (started when not running), the server unpacked on first use, etc/ rewritten.
 */
function definition(r: Resolved): ServiceSpec {
  const etc = path.join(r.dir, 'etc');
  const dataDir = path.join(r.dir, 'data');
  let java = '';
  let home = '';
  return {
    service: SERVICE,
    title: 'Trino',
    dir: r.dir,
    address: r.url,
    processes: [
      {
        name: SERVICE,
        ports: [{ port: r.port, env: 'TRINO_PORT' }],
        pidFile: r.pidFile,
        isOurs: (cmd) => cmd.includes(MAIN_CLASS) && cmd.includes(r.dir),
        outFile: r.logFile,
        command: () => ({
          command: java,
          args: [
            ...(process.env['TRINO_HEAP_OPTS'] ?? '-Xmx2g').split(/\s+/).filter(Boolean),
            '-XX:+UseG1GC',
            '-XX:+ExitOnOutOfMemoryError',
            '-Djdk.attach.allowAttachSelf=true',
            `-Dconfig=${path.join(etc, 'config.properties')}`,
            ...nodeProperties(dataDir),
            `-Dcatalog.config-dir=${path.join(etc, 'catalog')}`,
            `-Dplugin.dir=${path.join(home, 'plugin')}`,
            '-cp',
            `${path.join(home, 'lib')}/*`,
            MAIN_CLASS,
          ],
        }),
      },
    ],
    ready: (ms) => trinoReady(r.url, ms),
    async prepare() {
      java = (
        await findJava(SERVICE, 24, {
          homes: [process.env['TRINO_JAVA_HOME'], process.env['JAVA_HOME']],
          hint: 'install a JDK 24+ under /usr/lib/jvm (found there by itself) or point TRINO_JAVA_HOME at one',
        })
      ).java;
      const restCatalogUrl = r.restCatalogUrl ?? (await ensureIcebergRest({ onProgress: (m) => r.progress(`iceberg-rest: ${m}`) })).url;
      home = await install(r);
      await mkdir(path.join(etc, 'catalog'), { recursive: true });
      await mkdir(dataDir, { recursive: true });
      for (const [name, text] of Object.entries(trinoConfig({ port: r.port, dataDir, restCatalogUrl }))) {
        await writeFile(path.join(etc, name), `# Generated by tools/stack (services/trino.ts); rewritten on every start.\n${text}\n`);
      }
      r.progress(`Trino ${r.version} on the REST catalog ${restCatalogUrl}; it takes 1-2 min to start`);
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    lockTimeoutMs: 45 * 60_000,
    pollMs: 1_000,
    hint: `read ${r.logFile}`,
    cleanPaths: [dataDir, r.logFile],
    progress: r.progress,
  };
}

export async function trinoStatus(opts: TrinoOptions = {}): Promise<{ running: boolean; url: string; pid?: number; foreign?: boolean }> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, url: r.url, pid };
  return s.foreign ? { running: true, url: r.url, foreign: true } : { running: false, url: r.url };
}

export async function startTrino(opts: TrinoOptions = {}): Promise<{ url: string; pid?: number; started: boolean; readyMs?: number }> {
  const r = resolve(opts);
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return { url: r.url, ...(pid !== undefined ? { pid } : {}), started: s.started, ...(s.readyMs !== undefined ? { readyMs: s.readyMs } : {}) };
}

export async function ensureTrino(opts: TrinoOptions = {}): Promise<{ url: string }> {
  const { url } = await startTrino(opts);
  return { url };
}

export async function stopTrino(opts: TrinoOptions = {}): Promise<{ stopped: boolean }> {
  const s = await stopService(definition(resolve(opts)));
  return { stopped: s.stopped.length > 0 };
}

/**
 * Runs one statement through Trino's client protocol (POST /v1/statement, then follow nextUri) and returns the
 * rows. The protocol is three HTTP calls; the stack's checks need no more than this, so no client library.
 */
export async function trinoQuery(url: string, sql: string, opts: { catalog?: string; timeoutMs?: number } = {}): Promise<unknown[][]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  const headers = { 'X-Trino-User': 'stack', 'X-Trino-Catalog': opts.catalog ?? 'iceberg' };
  let res = await fetch(`${url}/v1/statement`, { method: 'POST', body: sql, headers, signal: AbortSignal.timeout(30_000) });
  const rows: unknown[][] = [];
  for (;;) {
    if (!res.ok) throw new Error(`Trino ${res.status}: ${(await res.text()).slice(0, 500)}`);
    const body = (await res.json()) as { data?: unknown[][]; nextUri?: string; error?: { message: string; errorName?: string } };
    if (body.error) throw new Error(`Trino: ${body.error.errorName ?? 'error'}: ${body.error.message} (query: ${sql})`);
    rows.push(...(body.data ?? []));
    if (!body.nextUri) return rows;
    if (Date.now() > deadline) throw new Error(`Trino: no answer within ${opts.timeoutMs ?? 120_000} ms (query: ${sql})`);
    res = await fetch(body.nextUri, { headers, signal: AbortSignal.timeout(30_000) });
  }
}

/** Stops Trino and deletes its data and log (the unpacked server stays). */
export async function cleanTrino(opts: TrinoOptions = {}): Promise<void> {
  await cleanService(definition(resolve(opts)));
}

/** The CLI's entry. Opt-in: `cli.ts up` without names does not fetch its 820 MB; `up trino` (and `npm test`) does. */
export const trinoService = serviceEntry(
  SERVICE,
  'Trino',
  {
    up: (onProgress) => startTrino({ onProgress }),
    down: (onProgress) => stopTrino({ onProgress }),
    clean: (onProgress) => cleanTrino({ onProgress }),
    status: async () => {
      const s = await trinoStatus();
      return { running: s.running, address: s.url, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
    },
  },
  { optIn: true },
);
