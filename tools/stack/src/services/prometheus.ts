/**
 * Prometheus from Debian's package (`prometheus`), one server per folder on 127.0.0.1, scraping the apps with the
 * repository's scrape configuration (docker/prometheus/prometheus.yml) rewritten to where the apps listen here.
 *
 * Layout: `<stackDir>/prometheus` holds prometheus.yml (the rewritten configuration), data/ (the TSDB),
 * prometheus.log and prometheus.pid, so a test can run a private server in its own folder on a free port.
 * By default the targets are the ports `npm start` uses (root README), so `npm run stack -- up prometheus` next
 * to a running `npm start` scrapes the whole pipeline.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { envPort, isAlive, ownedPid, portOpen, removePidFile, run, spawnDetached, tail, terminate, writePidFile } from '../process';
import { repoRoot, stackDir } from '../paths';
import type { Service } from './index';

const SERVICE = 'prometheus';

/** The compose address of each scraped app (docker/prometheus/prometheus.yml) -> where `npm start` runs it. */
export const NPM_START_TARGETS: Record<string, string> = {
  'actionbase:8080': '127.0.0.1:8080',
  'async-processor:8080': '127.0.0.1:8090',
  'es-indexer:8080': '127.0.0.1:8096',
  'snapshotter:8080': '127.0.0.1:8094',
  'console:8080': '127.0.0.1:8097',
};

export interface PrometheusOptions {
  /** Server folder. Default `<stackDir>/prometheus`. */
  dir?: string;
  /** Port on 127.0.0.1. Default $PROMETHEUS_PORT or 9090. */
  port?: number;
  /** The scrape configuration to rewrite. Default docker/prometheus/prometheus.yml. */
  configFile?: string;
  /** compose address (`host:port`) -> local address; a target missing here is kept as it is. Default NPM_START_TARGETS. */
  targets?: Record<string, string>;
  /** Overrides global.scrape_interval (tests scrape every second). */
  scrapeInterval?: string;
  /** The prometheus binary. Default $PROMETHEUS_BIN or the Debian package's /usr/bin/prometheus. */
  binary?: string;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  onProgress?: (msg: string) => void;
}

export interface PrometheusStatus {
  running: boolean;
  url: string;
  pid?: number;
  foreign?: boolean;
}

interface Resolved {
  dir: string;
  port: number;
  url: string;
  configFile: string;
  targets: Record<string, string>;
  scrapeInterval?: string;
  binary?: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  pidFile: string;
  logFile: string;
}

function resolve(opts: PrometheusOptions = {}): Resolved {
  const dir = path.resolve(opts.dir ?? path.join(stackDir(), 'prometheus'));
  const port = opts.port ?? envPort(SERVICE, 'PROMETHEUS_PORT', 9090);
  return {
    dir,
    port,
    url: `http://127.0.0.1:${port}`,
    configFile: opts.configFile ?? path.join(repoRoot(), 'docker', 'prometheus', 'prometheus.yml'),
    targets: opts.targets ?? NPM_START_TARGETS,
    ...(opts.scrapeInterval ? { scrapeInterval: opts.scrapeInterval } : {}),
    ...((opts.binary ?? process.env['PROMETHEUS_BIN']) ? { binary: opts.binary ?? process.env['PROMETHEUS_BIN'] } : {}),
    readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 15_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'prometheus.pid'),
    logFile: path.join(dir, 'prometheus.log'),
  };
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets?: string[]; labels?: Record<string, string> }[];
  [k: string]: unknown;
}

/**
 * The scrape configuration with every static target mapped through `targets` (compose address -> local one);
 * the rest (jobs, paths, labels) stays as written, so what is checked here is the file compose ships.
 */
export function rewriteScrapeConfig(yamlText: string, targets: Record<string, string>, scrapeInterval?: string): string {
  const doc = parse(yamlText) as { global?: Record<string, unknown>; scrape_configs?: ScrapeConfig[] };
  if (!doc || !Array.isArray(doc.scrape_configs)) throw new StackError(SERVICE, 'the scrape configuration has no scrape_configs list');
  for (const job of doc.scrape_configs) {
    for (const sc of job.static_configs ?? []) sc.targets = (sc.targets ?? []).map((t) => targets[t] ?? t);
  }
  if (scrapeInterval) doc.global = { ...(doc.global ?? {}), scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval };
  return stringify(doc);
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The binary, installing Debian's package as root when it is missing (a fresh machine, CI). */
async function findBinary(r: Resolved): Promise<string> {
  if (r.binary) return r.binary;
  const deb = '/usr/bin/prometheus';
  if (existsSync(deb)) return deb;
  if (isRoot() && existsSync('/usr/bin/apt-get')) {
    r.progress('installing the Debian package prometheus (apt-get)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    await run('apt-get', ['update', '-q'], { timeoutMs: 300_000, env });
    const inst = await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'prometheus'], { timeoutMs: 600_000, env });
    if (existsSync(deb)) return deb;
    r.progress(`apt-get install failed: ${inst.output.trim().split('\n').slice(-3).join(' / ')}`);
  }
  throw new StackError(SERVICE, `no prometheus binary at ${deb}`, {
    hint: 'install the Debian package (apt-get update && apt-get install -y --no-install-recommends prometheus), or set PROMETHEUS_BIN',
  });
}

export async function prometheusReady(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

const ownPid = (r: Resolved) => ownedPid(r.pidFile, (cmd) => cmd.includes('prometheus'));

export async function prometheusStatus(opts: PrometheusOptions = {}): Promise<PrometheusStatus> {
  const r = resolve(opts);
  const pid = await ownPid(r);
  if (pid !== undefined) return { running: await prometheusReady(r.url), url: r.url, pid };
  if (await portOpen(r.port)) {
    const running = await prometheusReady(r.url);
    return running ? { running, url: r.url, foreign: true } : { running, url: r.url };
  }
  return { running: false, url: r.url };
}

export interface PrometheusStartResult {
  url: string;
  pid?: number;
  started: boolean;
}

/** Writes the rewritten configuration and starts the server unless it runs already (then it reloads it). */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusStartResult> {
  const r = resolve(opts);
  await mkdir(path.join(r.dir, 'data'), { recursive: true });
  return withLock(path.join(r.dir, '.lock'), async () => {
    const config = path.join(r.dir, 'prometheus.yml');
    await writeFile(config, rewriteScrapeConfig(await readFile(r.configFile, 'utf8'), r.targets, r.scrapeInterval));
    const existing = await ownPid(r);
    if (existing !== undefined) {
      // SIGHUP: Prometheus reads its configuration again.
      process.kill(existing, 'SIGHUP');
      r.progress(`already running (pid ${existing}) at ${r.url}; configuration reloaded`);
      return { url: r.url, pid: existing, started: false };
    }
    if (await portOpen(r.port)) {
      throw new StackError(SERVICE, `port ${r.port} on 127.0.0.1 is taken by a process this folder did not start`, { hint: 'free the port or pick another with PROMETHEUS_PORT' });
    }
    const bin = await findBinary(r);
    const check = await run(bin.replace(/prometheus$/, 'promtool'), ['check', 'config', config], { timeoutMs: 60_000 });
    if (check.code !== null && check.code !== 0) throw new StackError(SERVICE, `promtool refused ${config}:\n${check.output.trim()}`, { hint: `fix ${r.configFile}` });
    await writeFile(r.logFile, '');
    const pid = spawnDetached(
      bin,
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(r.dir, 'data')}`, `--web.listen-address=127.0.0.1:${r.port}`, '--storage.tsdb.retention.time=2d'],
      { cwd: r.dir, logFile: r.logFile },
    );
    await writePidFile(r.pidFile, pid);
    const deadline = Date.now() + r.readyTimeoutMs;
    while (!(await prometheusReady(r.url))) {
      if (!isAlive(pid) || Date.now() > deadline) {
        if (isAlive(pid)) await terminate(pid, 5_000);
        await removePidFile(r.pidFile);
        throw new StackError(SERVICE, `Prometheus ${isAlive(pid) ? 'did not become ready' : 'exited during start'}; last log lines:\n${await tail(r.logFile)}`, { hint: `read ${r.logFile}` });
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    r.progress(`ready at ${r.url} (pid ${pid}), scraping the targets of ${r.configFile}`);
    return { url: r.url, pid, started: true };
  });
}

export async function stopPrometheus(opts: PrometheusOptions = {}): Promise<{ stopped: boolean }> {
  const r = resolve(opts);
  return withLock(path.join(r.dir, '.lock'), async () => {
    const pid = await ownPid(r);
    if (pid === undefined) {
      r.progress('not running');
      return { stopped: false };
    }
    const how = await terminate(pid, r.stopTimeoutMs);
    await removePidFile(r.pidFile);
    r.progress(how === 'killed' ? 'did not stop in time: killed' : 'stopped');
    return { stopped: how !== 'not-running' };
  });
}

/** Stops the server and deletes its data, configuration and log. */
export async function cleanPrometheus(opts: PrometheusOptions = {}): Promise<void> {
  const r = resolve(opts);
  await stopPrometheus(opts);
  for (const sub of ['data', 'prometheus.yml', 'prometheus.log']) await rm(path.join(r.dir, sub), { recursive: true, force: true });
  r.progress(`removed data and log under ${r.dir}`);
}

/** The Prometheus HTTP API's query answer (instant vector). */
export async function prometheusQuery(url: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data?: { result?: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
  if (body.status !== 'success') throw new StackError(SERVICE, `query ${query} failed: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

/** The CLI's entry (`npm run stack -- up|down|status|clean prometheus`). */
export const prometheusService: Service = {
  name: SERVICE,
  async up(onProgress) {
    await startPrometheus({ onProgress });
  },
  async down(onProgress) {
    await stopPrometheus({ onProgress });
  },
  async status() {
    const s = await prometheusStatus();
    return {
      running: s.running,
      address: s.url,
      ...(s.pid !== undefined ? { pid: s.pid } : {}),
      ...(s.foreign ? { note: 'answered by a Prometheus this stack folder did not start' } : {}),
    };
  },
  async clean(onProgress) {
    await cleanPrometheus({ onProgress });
  },
};
