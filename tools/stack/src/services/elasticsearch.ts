/**
 * Elasticsearch 9 from Maven Central's integ-test-zip (a minimal distribution: CRUD, bulk, mappings, query DSL,
 * index templates, aliases; no ILM, data streams, painless, reindex, ingest pipelines), one single node on
 * 127.0.0.1. It refuses to run as root, so as root it runs as a system user made for it (runuser).
 *
 * Layout: the distribution is unpacked once per version under `<stackDir>/elasticsearch-dist/<version>` and shared;
 * an instance folder (default `<stackDir>/elasticsearch`) holds config/ (ES_PATH_CONF), data/, logs/ and the pid
 * file, so a test can run a private instance on other ports next to the stack's.
 *
 * Security (`security` option) is for such a private instance only: the file realm gets one superuser made with
 * bin/elasticsearch-users, and with `tls` the HTTP layer serves a certificate signed by a CA that
 * bin/elasticsearch-certutil made in the instance's config/certs. The stack's own node stays open, as the
 * tests that share it expect.
 */
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { StackError } from '../errors';
import { findJava } from '../java';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { withLock } from '../lock';
import { envPort, run } from '../process';
import { stackDir } from '../paths';
import { serviceEntry } from './entry';

const SERVICE = 'elasticsearch';
/** 9.2.0 is the newest 9.x integ-test-zip Maven Central served when this was written (9.2.1 is not there). */
export const DEFAULT_ES_VERSION = '9.2.0';
const DEFAULT_JAVA_HOME = '/usr/lib/jvm/temurin-25-jdk-amd64';
/** The system user ES runs as when the stack runs as root. */
export const ES_USER = 'stack-es';

export interface ElasticsearchOptions {
  /** Instance folder (config/, data/, logs/, pid). Default `<stackDir>/elasticsearch`. */
  dir?: string;
  /** HTTP port on 127.0.0.1. Default $ES_PORT or 9200. */
  port?: number;
  /** Transport port on 127.0.0.1. Default $ES_TRANSPORT_PORT or 9300. */
  transportPort?: number;
  /** Default $ES_VERSION or DEFAULT_ES_VERSION. */
  version?: string;
  /** Default $ES_HEAP or 512m. */
  heap?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  onProgress?: (msg: string) => void;
  /** Turns on authentication (and optionally TLS on HTTP). Only with an own `dir`, never for the stack's node. */
  security?: ElasticsearchSecurity;
}

export interface ElasticsearchSecurity {
  /** The superuser of the file realm; default `elastic-admin`. */
  username?: string;
  /** Its password (6+ characters, Elasticsearch's minimum). */
  password: string;
  /** Serve HTTPS with a certificate of a CA made by elasticsearch-certutil (its PEM: `caFile` of the start result). */
  tls?: boolean;
  /** File-realm roles (roles.yml): name -> role descriptor as the security API takes it (`cluster`, `indices`). */
  roles?: Record<string, { cluster?: string[]; indices?: { names: string[]; privileges: string[] }[] }>;
  /** More file-realm users, e.g. one per app with only its own role. */
  users?: { username: string; password: string; roles: string[] }[];
}

/** How to reach a node: credentials and the CA of its HTTPS certificate. */
export interface ElasticsearchAccess {
  username?: string;
  password?: string;
  /** PEM of the CA (for https URLs). */
  ca?: string | Buffer;
}

export interface ElasticsearchStatus {
  running: boolean;
  url: string;
  pid?: number;
  foreign?: boolean;
}

interface Resolved {
  dir: string;
  port: number;
  transportPort: number;
  version: string;
  heap: string;
  url: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  pidFile: string;
  security?: Required<Pick<ElasticsearchSecurity, 'username' | 'password'>> & Pick<ElasticsearchSecurity, 'roles' | 'users'> & { tls: boolean };
  caFile?: string;
}


function resolve(opts: ElasticsearchOptions = {}): Resolved {
  const sharedDir = path.resolve(stackDir(), 'elasticsearch');
  const dir = path.resolve(opts.dir ?? sharedDir);
  const port = opts.port ?? envPort(SERVICE, 'ES_PORT', 9200);
  const sec = opts.security;
  if (sec) {
    if (dir === sharedDir) {
      throw new StackError(SERVICE, `security is only for a private node, not the stack's ${dir}`, {
        hint: 'pass an own `dir` and free ports (see tools/stack/README.md, "Elasticsearch with security")',
      });
    }
    if (sec.password.length < 6) throw new StackError(SERVICE, 'security.password must have 6 or more characters (Elasticsearch refuses shorter ones)');
  }
  const tls = sec?.tls === true;
  return {
    dir,
    port,
    transportPort: opts.transportPort ?? envPort(SERVICE, 'ES_TRANSPORT_PORT', 9300),
    version: opts.version ?? process.env['ES_VERSION'] ?? DEFAULT_ES_VERSION,
    heap: opts.heap ?? process.env['ES_HEAP'] ?? '512m',
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ...(sec ? { security: { username: sec.username ?? 'elastic-admin', password: sec.password, tls, roles: sec.roles ?? {}, users: sec.users ?? [] } } : {}),
    ...(tls ? { caFile: path.join(dir, 'config', 'certs', 'ca', 'ca.crt') } : {}),
    readyTimeoutMs: opts.readyTimeoutMs ?? 180_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'elasticsearch.pid'),
  };
}

/** elasticsearch.yml of one single node on 127.0.0.1 (only settings of modules the minimal distribution has). */
export function elasticsearchYml(r: { port: number; transportPort: number; dataDir: string; logsDir: string; security?: { tls: boolean } }): string {
  return `# Generated by tools/stack (services/elasticsearch.ts); rewritten on every start.
cluster.name: pipeline-stack
node.name: stack-1
discovery.type: single-node
network.host: 127.0.0.1
http.port: ${r.port}
transport.port: ${r.transportPort}
path.data: ${r.dataDir}
path.logs: ${r.logsDir}
${r.security ? securityYml(r.security.tls) : 'xpack.security.enabled: false\n'}# A development disk may be nearly full: do not turn indices read-only for it.
cluster.routing.allocation.disk.threshold_enabled: false
`;
}

// One node on loopback: transport TLS is not needed (single-node discovery, nothing joins), HTTP TLS is optional.
// Paths are relative to ES_PATH_CONF.
function securityYml(tls: boolean): string {
  const lines = ['xpack.security.enabled: true', 'xpack.security.authc.api_key.enabled: true', 'xpack.security.transport.ssl.enabled: false'];
  if (tls) {
    lines.push(
      'xpack.security.http.ssl.enabled: true',
      'xpack.security.http.ssl.key: certs/http/http.key',
      'xpack.security.http.ssl.certificate: certs/http/http.crt',
      'xpack.security.http.ssl.certificate_authorities: [certs/ca/ca.crt]',
    );
  } else {
    lines.push('xpack.security.http.ssl.enabled: false');
  }
  return `${lines.join('\n')}\n`;
}

/** ES_JAVA_HOME, else a JDK 21+ (Elasticsearch 9's minimum) found on the machine; its launcher needs the folder. */
async function javaHome(): Promise<string> {
  const found = await findJava(SERVICE, 21, { homes: [process.env['ES_JAVA_HOME'], DEFAULT_JAVA_HOME], pathJava: false, hint: `set ES_JAVA_HOME to a JDK 21+ (default ${DEFAULT_JAVA_HOME})` });
  return found.home!;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

async function ensureUser(): Promise<void> {
  if (!isRoot()) return;
  const id = await run('id', ['-u', ES_USER]);
  if (id.code === 0) return;
  const add = await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ES_USER]);
  if (add.code !== 0 && (await run('id', ['-u', ES_USER])).code !== 0) {
    throw new StackError(SERVICE, `could not create the system user ${ES_USER}: ${add.output.trim()}`, {
      hint: 'Elasticsearch refuses to run as root; create the user by hand (useradd --system) or run the stack as a normal user',
    });
  }
}

/** Downloads (Maven, cached in ~/.m2) and unpacks the distribution once; returns its home folder. */
async function ensureDistribution(r: Resolved): Promise<string> {
  const base = path.join(stackDir(), 'elasticsearch-dist');
  const home = path.join(base, r.version, `elasticsearch-${r.version}`);
  const stamp = path.join(base, r.version, '.unpacked');
  if (existsSync(stamp)) return home;
  await mkdir(base, { recursive: true });
  return withLock(path.join(base, `.lock-${r.version}`), async () => {
    if (existsSync(stamp)) return home;
    const coords = `org.elasticsearch.distribution.integ-test-zip:elasticsearch:${r.version}:zip`;
    const dl = path.join(base, r.version, 'download');
    await rm(path.join(base, r.version), { recursive: true, force: true });
    await mkdir(dl, { recursive: true });
    r.progress(`fetching ${coords} with Maven (cached in ~/.m2)`);
    const res = await run(
      'mvn',
      ['-B', '-q', 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy', `-Dartifact=${coords}`, `-DoutputDirectory=${dl}`],
      { cwd: dl, timeoutMs: 15 * 60_000 },
    );
    if (res.error || res.code !== 0) {
      throw new StackError(SERVICE, `downloading ${coords} failed: ${res.error?.message ?? res.output.trim().split('\n').slice(-3).join('\n  ')}`, {
        hint: `pick a served version with ES_VERSION (probe: mvn dependency:get -Dartifact=${coords}); ${DEFAULT_ES_VERSION} is the tested one`,
      });
    }
    const zip = (await readdir(dl)).find((f) => f.endsWith('.zip'));
    if (!zip) throw new StackError(SERVICE, `Maven finished but ${dl} holds no zip`);
    const unzip = await run('unzip', ['-q', '-o', path.join(dl, zip), '-d', path.join(base, r.version)], { timeoutMs: 5 * 60_000 });
    if (unzip.error || unzip.code !== 0) {
      throw new StackError(SERVICE, `unzip failed: ${unzip.error?.message ?? unzip.output.trim()}`, {
        hint: 'install unzip (bash tools/scripts/install-system-deps.sh)',
      });
    }
    await rm(dl, { recursive: true, force: true });
    await writeFile(stamp, `${coords}\n`);
    r.progress(`unpacked into ${home}`);
    return home;
  });
}

/** GET on the node with optional basic auth and CA; status, the product header and the body, or undefined when unreachable. */
function esGet(url: string, access: ElasticsearchAccess, timeoutMs: number): Promise<{ status: number; product?: string; body: string } | undefined> {
  return new Promise((done) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (access.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${access.username}:${access.password ?? ''}`).toString('base64')}`;
    const req = (u.protocol === 'https:' ? https : http).request(
      u,
      { method: 'GET', headers, timeout: timeoutMs, ...(u.protocol === 'https:' && access.ca !== undefined ? { ca: access.ca } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const product = res.headers['x-elastic-product'];
          done({ status: res.statusCode ?? 0, body, ...(typeof product === 'string' ? { product } : {}) });
        });
        res.on('error', () => done(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(undefined));
    req.end();
  });
}

/**
 * Ready when the cluster health answers at least yellow, from a server that says it is Elasticsearch. A secured
 * node needs `access` (its user, and the CA of an https URL).
 */
export async function elasticsearchReady(url: string, timeoutMs = 3_000, access: ElasticsearchAccess = {}): Promise<boolean> {
  const res = await esGet(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, access, timeoutMs);
  if (!res || res.status !== 200 || res.product !== 'Elasticsearch') return false;
  try {
    const body = JSON.parse(res.body) as { status?: string };
    return body.status === 'green' || body.status === 'yellow';
  } catch {
    return false;
  }
}

async function accessOf(r: Resolved): Promise<ElasticsearchAccess> {
  if (!r.security) return {};
  return {
    username: r.security.username,
    password: r.security.password,
    ...(r.caFile && existsSync(r.caFile) ? { ca: await readFile(r.caFile) } : {}),
  };
}

export interface ElasticsearchStartResult {
  url: string;
  pid?: number;
  started: boolean;
  readyMs?: number;
  /** With `security`: the superuser's name and password. */
  username?: string;
  password?: string;
  /** With `security.tls`: the PEM file of the CA that signed the HTTP certificate. */
  caFile?: string;
}

const credentials = (r: Resolved) =>
  r.security ? { username: r.security.username, password: r.security.password, ...(r.caFile ? { caFile: r.caFile } : {}) } : {};

/** Runs one of the distribution's CLI tools (they need the JDK and the instance's config folder). */
async function esTool(home: string, javaDir: string, configDir: string, tool: string, args: string[]): Promise<string> {
  const res = await run(path.join(home, 'bin', tool), args, {
    cwd: configDir,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ES_JAVA_HOME: javaDir, ES_PATH_CONF: configDir },
    timeoutMs: 120_000,
  });
  if (res.error || res.code !== 0) {
    throw new StackError(SERVICE, `bin/${tool} ${args[0] ?? ''} failed: ${res.error?.message ?? res.output.trim().split('\n').slice(-5).join('\n  ')}`, {
      hint: `run it by hand with ES_PATH_CONF=${configDir} ES_JAVA_HOME=${javaDir} to see why`,
    });
  }
  return res.output;
}

/**
 * The file realm's superuser (made again on every start, so a changed password applies) and, with TLS, a CA and an
 * HTTP certificate for 127.0.0.1/localhost, made once per instance folder. Files land in config/ and are handed
 * to the ES user by the chown that follows.
 */
async function configureSecurity(r: Resolved, home: string, javaDir: string, configDir: string): Promise<void> {
  const sec = r.security!;
  // elasticsearch-users edits these files and refuses to run without them; empty ones drop any earlier user.
  for (const f of ['users', 'users_roles']) await writeFile(path.join(configDir, f), '');
  // JSON is YAML: one role per line, its descriptor in flow style.
  await writeFile(path.join(configDir, 'roles.yml'), Object.entries(sec.roles ?? {}).map(([name, role]) => `${JSON.stringify(name)}: ${JSON.stringify(role)}\n`).join(''));
  for (const u of [{ username: sec.username, password: sec.password, roles: ['superuser'] }, ...(sec.users ?? [])]) {
    if (u.password.length < 6) throw new StackError(SERVICE, `the password of ${u.username} must have 6 or more characters`);
    await esTool(home, javaDir, configDir, 'elasticsearch-users', ['useradd', u.username, '-p', u.password, '-r', u.roles.join(',')]);
  }
  if (!sec.tls) return;
  const certs = path.join(configDir, 'certs');
  if (existsSync(path.join(certs, 'http', 'http.crt')) && existsSync(path.join(certs, 'ca', 'ca.crt'))) return;
  await rm(certs, { recursive: true, force: true });
  await mkdir(certs, { recursive: true });
  r.progress('making a CA and an HTTP certificate with elasticsearch-certutil');
  await esTool(home, javaDir, configDir, 'elasticsearch-certutil', ['ca', '--silent', '--pem', '--days', '30', '--out', path.join(certs, 'ca.zip')]);
  await unzipInto(path.join(certs, 'ca.zip'), certs); // ca/ca.crt, ca/ca.key
  await esTool(home, javaDir, configDir, 'elasticsearch-certutil', [
    'cert', '--silent', '--pem', '--days', '30', '--name', 'http',
    '--ca-cert', path.join(certs, 'ca', 'ca.crt'), '--ca-key', path.join(certs, 'ca', 'ca.key'),
    '--ip', '127.0.0.1', '--dns', 'localhost', '--out', path.join(certs, 'http.zip'),
  ]);
  await unzipInto(path.join(certs, 'http.zip'), certs); // http/http.crt, http/http.key
  // The CA's key signs nothing more: keep only its certificate, which clients trust.
  await rm(path.join(certs, 'ca', 'ca.key'), { force: true });
}

async function unzipInto(zip: string, dir: string): Promise<void> {
  const res = await run('unzip', ['-q', '-o', zip, '-d', dir], { timeoutMs: 60_000 });
  if (res.error || res.code !== 0) throw new StackError(SERVICE, `unzip ${zip} failed: ${res.error?.message ?? res.output.trim()}`);
  await rm(zip, { force: true });
}

/**
 * One node: the distribution's launcher (through runuser as root), ready when the cluster health answers. The
 * first start unpacks the distribution; every start rewrites elasticsearch.yml (and the security files).
 */
function definition(r: Resolved): ServiceSpec {
  const configDir = path.join(r.dir, 'config');
  const dataDir = path.join(r.dir, 'data');
  const logsDir = path.join(r.dir, 'logs');
  // The node's own temporary files (ES_TMPDIR; its launcher otherwise makes elasticsearch-* folders in the OS temp
  // dir and leaves them): inside the instance's folder, removed with it.
  const tmpDir = path.join(r.dir, 'tmp');
  let home = '';
  let javaDir = '';
  return {
    service: SERVICE,
    title: 'Elasticsearch',
    dir: r.dir,
    address: r.url,
    processes: [
      {
        name: SERVICE,
        ports: [
          { port: r.port, env: 'ES_PORT' },
          { port: r.transportPort, env: 'ES_TRANSPORT_PORT' },
        ],
        pidFile: r.pidFile,
        // As root the runuser command line names ES_PATH_CONF (inside r.dir); otherwise it is the launcher script.
        isOurs: (cmd) => cmd.includes(r.dir) || cmd.includes('elasticsearch'),
        outFile: path.join(r.dir, 'elasticsearch.out'),
        command: () => {
          const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ES_JAVA_HOME: javaDir, ES_PATH_CONF: configDir, ES_TMPDIR: tmpDir, ES_JAVA_OPTS: `-Xms${r.heap} -Xmx${r.heap}` };
          const es = path.join(home, 'bin', 'elasticsearch');
          return isRoot()
            ? { command: 'runuser', args: ['-u', ES_USER, '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), es] }
            : { command: es, args: [], env: { ...process.env, ...env } };
        },
      },
    ],
    ready: async (ms) => elasticsearchReady(r.url, ms, await accessOf(r)),
    async prepare() {
      javaDir = await javaHome();
      await ensureUser();
      home = await ensureDistribution(r);
      await Promise.all([configDir, dataDir, logsDir, tmpDir].map((d) => mkdir(d, { recursive: true })));
      // ES_PATH_CONF must hold the distribution's jvm.options and log4j2.properties too.
      for (const f of ['jvm.options', 'log4j2.properties']) {
        if (!existsSync(path.join(configDir, f))) await copyFile(path.join(home, 'config', f), path.join(configDir, f));
      }
      await mkdir(path.join(configDir, 'jvm.options.d'), { recursive: true });
      await writeFile(
        path.join(configDir, 'elasticsearch.yml'),
        elasticsearchYml({ port: r.port, transportPort: r.transportPort, dataDir, logsDir, ...(r.security ? { security: { tls: r.security.tls } } : {}) }),
      );
      if (r.security) await configureSecurity(r, home, javaDir, configDir);
      if (isRoot()) {
        const own = await run('chown', ['-R', `${ES_USER}:`, r.dir]);
        if (own.code !== 0) throw new StackError(SERVICE, `chown of ${r.dir} failed: ${own.output.trim()}`);
        await openParents(r.dir);
      }
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    hint: `read ${logsDir}`,
    cleanPaths: [dataDir, logsDir, configDir],
    progress: r.progress,
  };
}

/**
 * The server's user must reach its folder through the parents (the repository is usually root's): adds the
 * search bit for others where it is missing, nothing else of a parent's mode.
 */
export async function openParents(dir: string): Promise<void> {
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    const mode = (await stat(d)).mode & 0o7777;
    if ((mode & 0o001) === 0) await chmod(d, mode | 0o001);
  }
}

export async function elasticsearchStatus(opts: ElasticsearchOptions = {}): Promise<ElasticsearchStatus> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, url: r.url, pid };
  return s.foreign ? { running: true, url: r.url, foreign: true } : { running: false, url: r.url };
}

/** Starts the node unless it runs already (idempotent; a lock folder serialises concurrent callers). */
export async function startElasticsearch(opts: ElasticsearchOptions = {}): Promise<ElasticsearchStartResult> {
  const r = resolve(opts);
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return {
    url: r.url,
    ...(pid !== undefined ? { pid } : {}),
    started: s.started,
    ...(s.readyMs !== undefined ? { readyMs: s.readyMs } : {}),
    ...(s.foreign ? {} : credentials(r)),
  };
}

/** Starts Elasticsearch if it is not running and returns its URL. Safe from several jest globalSetups. */
export async function ensureElasticsearch(opts: ElasticsearchOptions = {}): Promise<{ url: string; username?: string; password?: string; caFile?: string }> {
  const { url, username, password, caFile } = await startElasticsearch(opts);
  return { url, ...(username !== undefined ? { username, password } : {}), ...(caFile !== undefined ? { caFile } : {}) };
}

/** SIGTERM to the process group (runuser, the CLI launcher and the server JVM), SIGKILL after the timeout. */
export async function stopElasticsearch(opts: ElasticsearchOptions = {}): Promise<{ stopped: boolean; how?: 'terminated' | 'killed' }> {
  const s = await stopService(definition(resolve(opts)));
  return s.stopped.length ? { stopped: true, ...(s.how ? { how: s.how } : {}) } : { stopped: false };
}

/** Stops the node and deletes its data, logs and configuration (the unpacked distribution stays). */
export async function cleanElasticsearch(opts: ElasticsearchOptions = {}): Promise<void> {
  await cleanService(definition(resolve(opts)));
}

export const elasticsearchService = serviceEntry(SERVICE, 'Elasticsearch', {
  up: (onProgress) => startElasticsearch({ onProgress }),
  down: (onProgress) => stopElasticsearch({ onProgress }),
  clean: (onProgress) => cleanElasticsearch({ onProgress }),
  status: async () => {
    const s = await elasticsearchStatus();
    return { running: s.running, address: s.url, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
  },
});
