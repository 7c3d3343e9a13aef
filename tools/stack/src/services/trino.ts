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
import { pathToFileURL } from 'node:url';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { envPort, isAlive, ownedPid, portOpen, removePidFile, run, spawnDetached, tail, terminate, writePidFile } from '../process';
import { stackDir } from '../paths';
import { DEPENDENCY_PLUGIN } from '../maven';
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
    readyTimeoutMs: opts.readyTimeoutMs ?? 300_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'trino.pid'),
    logFile: path.join(dir, 'server.log'),
  };
}

/** A Java 24+: TRINO_JAVA_HOME, JAVA_HOME when new enough, else a Temurin/OpenJDK 24+ under /usr/lib/jvm. */
async function findJava(): Promise<string> {
  const candidates = [process.env['TRINO_JAVA_HOME'], process.env['JAVA_HOME']].filter((h): h is string => !!h);
  const jvm = '/usr/lib/jvm';
  if (existsSync(jvm)) {
    for (const d of (await readdir(jvm)).sort().reverse()) if (/(\d+)/.test(d) && Number(/(\d+)/.exec(d)![1]) >= 24) candidates.push(path.join(jvm, d));
  }
  for (const home of candidates) {
    const java = path.join(home, 'bin', 'java');
    const v = await run(java, ['-version'], { timeoutMs: 30_000 });
    const major = Number(/version "(\d+)/.exec(v.output)?.[1] ?? 0);
    if (v.code === 0 && major >= 24) return java;
  }
  throw new StackError(SERVICE, `Trino ${DEFAULT_TRINO_VERSION}+ needs Java 24 or newer, and none was found (TRINO_JAVA_HOME, JAVA_HOME, /usr/lib/jvm)`, {
    hint: 'install a JDK 24+ and point TRINO_JAVA_HOME at it',
  });
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

const ownPid = (r: Resolved) => ownedPid(r.pidFile, (cmd) => cmd.includes(MAIN_CLASS) && cmd.includes(r.dir));

export async function trinoStatus(opts: TrinoOptions = {}): Promise<{ running: boolean; url: string; pid?: number; foreign?: boolean }> {
  const r = resolve(opts);
  const pid = await ownPid(r);
  if (pid !== undefined) return { running: await trinoReady(r.url), url: r.url, pid };
  if (await portOpen(r.port)) {
    const running = await trinoReady(r.url);
    return running ? { running, url: r.url, foreign: true } : { running, url: r.url };
  }
  return { running: false, url: r.url };
}

export async function startTrino(opts: TrinoOptions = {}): Promise<{ url: string; pid?: number; started: boolean; readyMs?: number }> {
  const r = resolve(opts);
  await mkdir(r.dir, { recursive: true });
  return withLock(
    path.join(r.dir, '.lock'),
    async () => {
      const existing = await ownPid(r);
      if (existing !== undefined) {
        if (!(await waitReady(r, existing))) throw new StackError(SERVICE, `Trino (pid ${existing}) runs but does not answer at ${r.url}`, { hint: `read ${r.logFile}` });
        r.progress(`already running (pid ${existing}) at ${r.url}`);
        return { url: r.url, pid: existing, started: false };
      }
      if (await portOpen(r.port)) {
        if (await trinoReady(r.url)) {
          r.progress(`a Trino not started from ${r.dir} already answers at ${r.url}; using it`);
          return { url: r.url, started: false };
        }
        throw new StackError(SERVICE, `port ${r.port} is taken by something that is not Trino`, { hint: 'free the port or pick another with TRINO_PORT' });
      }
      const java = await findJava();
      const restCatalogUrl = r.restCatalogUrl ?? (await ensureIcebergRest({ onProgress: (m) => r.progress(`iceberg-rest: ${m}`) })).url;
      const home = await install(r);
      const etc = path.join(r.dir, 'etc');
      const dataDir = path.join(r.dir, 'data');
      await mkdir(path.join(etc, 'catalog'), { recursive: true });
      await mkdir(dataDir, { recursive: true });
      for (const [name, text] of Object.entries(trinoConfig({ port: r.port, dataDir, restCatalogUrl }))) await writeFile(path.join(etc, name), `# Generated by tools/stack (services/trino.ts); rewritten on every start.\n${text}\n`);
      await writeFile(r.logFile, '');
      const heap = (process.env['TRINO_HEAP_OPTS'] ?? '-Xmx2g').split(/\s+/).filter(Boolean);
      const started = Date.now();
      const pid = spawnDetached(
        java,
        [
          ...heap,
          '-XX:+UseG1GC',
          '-XX:+ExitOnOutOfMemoryError',
          '-Djdk.attach.allowAttachSelf=true',
          `-Dconfig=${path.join(etc, 'config.properties')}`,
          ...readNodeProperties(dataDir),
          `-Dcatalog.config-dir=${path.join(etc, 'catalog')}`,
          `-Dplugin.dir=${path.join(home, 'plugin')}`,
          '-cp',
          `${path.join(home, 'lib')}/*`,
          MAIN_CLASS,
        ],
        { cwd: r.dir, logFile: r.logFile },
      );
      await writePidFile(r.pidFile, pid);
      r.progress(`started Trino ${r.version} (pid ${pid}) on the REST catalog ${restCatalogUrl}; waiting for ${r.url}/v1/info (1-2 min)`);
      if (!(await waitReady(r, pid))) {
        const alive = isAlive(pid);
        if (alive) await terminate(pid, 10_000);
        await removePidFile(r.pidFile);
        throw new StackError(SERVICE, `${alive ? `Trino did not start within ${r.readyTimeoutMs} ms` : 'Trino exited during start-up'}; last log lines:\n${await tail(r.logFile)}`, { hint: `read ${r.logFile}` });
      }
      const readyMs = Date.now() - started;
      r.progress(`ready at ${r.url} in ${(readyMs / 1000).toFixed(1)} s`);
      return { url: r.url, pid, started: true, readyMs };
    },
    45 * 60_000,
  );
}

/** The node settings, as system properties (what Trino's launcher makes of node.properties; we start the JVM directly). */
function readNodeProperties(dataDir: string): string[] {
  return ['-Dnode.environment=stack', '-Dnode.id=stack-trino', `-Dnode.data-dir=${dataDir}`, '-Dnode.internal-address=127.0.0.1'];
}

async function waitReady(r: Resolved, pid: number): Promise<boolean> {
  const deadline = Date.now() + r.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    if (await trinoReady(r.url, 2_000)) return true;
    await new Promise((res) => setTimeout(res, 1_000));
  }
  return false;
}

export async function ensureTrino(opts: TrinoOptions = {}): Promise<{ url: string }> {
  const { url } = await startTrino(opts);
  return { url };
}

export async function stopTrino(opts: TrinoOptions = {}): Promise<{ stopped: boolean }> {
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

export async function cleanTrino(opts: TrinoOptions = {}): Promise<void> {
  const r = resolve(opts);
  await stopTrino(opts);
  await rm(path.join(r.dir, 'data'), { recursive: true, force: true });
  await rm(r.logFile, { force: true });
  r.progress(`removed data and log under ${r.dir} (the unpacked server stays)`);
}

/**
 * Opt-in, so not among the CLI's services (`cli.ts up` without names must not fetch 820 MB):
 * `npx tsx tools/stack/src/services/trino.ts up|down|status|clean`.
 */
async function main(command: string | undefined): Promise<number> {
  const onProgress = (m: string) => console.log(`${SERVICE}: ${m}`);
  try {
    if (command === 'up') await startTrino({ onProgress });
    else if (command === 'down') await stopTrino({ onProgress });
    else if (command === 'clean') await cleanTrino({ onProgress });
    else if (command === 'status') {
      const s = await trinoStatus();
      console.log(`${SERVICE}: ${s.running ? 'running' : 'not running'} at ${s.url}${s.pid !== undefined ? ` (pid ${s.pid})` : ''}`);
      return s.running ? 0 : 3;
    } else {
      console.error('usage: npx tsx tools/stack/src/services/trino.ts <up|down|status|clean>');
      return 2;
    }
    return 0;
  } catch (err) {
    console.error(err instanceof StackError ? err.message : String(err));
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv[2]).then((code) => process.exit(code), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
