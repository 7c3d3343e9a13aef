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
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { StackError } from '../errors';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { envPort, run } from '../process';
import { repoRoot, stackDir } from '../paths';
import { serviceEntry } from './entry';

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
  /** compose address (`host:port`) -> local address; a target missing here is left out (not running here). Default NPM_START_TARGETS. */
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
 * the rest (jobs, paths, labels) stays as written, so what is checked here is the file compose ships. A target
 * with no mapping is an app that does not run here (abuse-detector and shadow under `npm start`, an app just
 * generated): it is left out, and so is a job left without targets, instead of showing as down.
 */
export function rewriteScrapeConfig(yamlText: string, targets: Record<string, string>, scrapeInterval?: string): string {
  const doc = parse(yamlText) as { global?: Record<string, unknown>; scrape_configs?: ScrapeConfig[] };
  if (!doc || !Array.isArray(doc.scrape_configs)) throw new StackError(SERVICE, 'the scrape configuration has no scrape_configs list');
  for (const job of doc.scrape_configs) {
    for (const sc of job.static_configs ?? []) sc.targets = (sc.targets ?? []).flatMap((t) => (targets[t] === undefined ? [] : [targets[t]]));
    job.static_configs = (job.static_configs ?? []).filter((sc) => (sc.targets ?? []).length > 0);
  }
  doc.scrape_configs = doc.scrape_configs.filter((job) => (job.static_configs ?? []).length > 0);
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

/**
 * One process, ready when /-/ready answers. Every `up` rewrites the configuration (checked with promtool before a
 * start); when the server already runs, a SIGHUP makes it read the new one.
 */
function definition(r: Resolved): ServiceSpec {
  const config = path.join(r.dir, 'prometheus.yml');
  const writeConfig = async () => writeFile(config, rewriteScrapeConfig(await readFile(r.configFile, 'utf8'), r.targets, r.scrapeInterval));
  let bin = '';
  return {
    service: SERVICE,
    title: 'Prometheus',
    dir: r.dir,
    address: r.url,
    processes: [
      {
        name: SERVICE,
        ports: [{ port: r.port, env: 'PROMETHEUS_PORT' }],
        pidFile: r.pidFile,
        isOurs: (cmd) => cmd.includes('prometheus'),
        outFile: r.logFile,
        command: () => ({
          command: bin,
          args: [`--config.file=${config}`, `--storage.tsdb.path=${path.join(r.dir, 'data')}`, `--web.listen-address=127.0.0.1:${r.port}`, '--storage.tsdb.retention.time=2d'],
        }),
      },
    ],
    ready: (ms) => prometheusReady(r.url, ms),
    // Its targets are this folder's: a Prometheus another folder started scrapes others.
    acceptForeign: false,
    async prepare() {
      await mkdir(path.join(r.dir, 'data'), { recursive: true });
      await writeConfig();
      bin = await findBinary(r);
      const check = await run(bin.replace(/prometheus$/, 'promtool'), ['check', 'config', config], { timeoutMs: 60_000 });
      if (check.code !== null && check.code !== 0) throw new StackError(SERVICE, `promtool refused ${config}:\n${check.output.trim()}`, { hint: `fix ${r.configFile}` });
    },
    async onRunning(pids) {
      await writeConfig();
      // SIGHUP: Prometheus reads its configuration again.
      const pid = pids[SERVICE];
      if (pid !== undefined) process.kill(pid, 'SIGHUP');
      r.progress('configuration reloaded');
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    pollMs: 200,
    hint: `read ${r.logFile}`,
    cleanPaths: [path.join(r.dir, 'data'), config, r.logFile],
    progress: r.progress,
  };
}

export async function prometheusStatus(opts: PrometheusOptions = {}): Promise<PrometheusStatus> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, url: r.url, pid };
  return s.foreign ? { running: true, url: r.url, foreign: true } : { running: false, url: r.url };
}

export interface PrometheusStartResult {
  url: string;
  pid?: number;
  started: boolean;
}

/** Writes the rewritten configuration and starts the server unless it runs already (then it reloads it). */
export async function startPrometheus(opts: PrometheusOptions = {}): Promise<PrometheusStartResult> {
  const r = resolve(opts);
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return { url: r.url, ...(pid !== undefined ? { pid } : {}), started: s.started };
}

export async function stopPrometheus(opts: PrometheusOptions = {}): Promise<{ stopped: boolean }> {
  const s = await stopService(definition(resolve(opts)));
  return { stopped: s.stopped.length > 0 };
}

/** Stops the server and deletes its data, configuration and log. */
export async function cleanPrometheus(opts: PrometheusOptions = {}): Promise<void> {
  await cleanService(definition(resolve(opts)));
}

/** The Prometheus HTTP API's query answer (instant vector). */
export async function prometheusQuery(url: string, query: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data?: { result?: { metric: Record<string, string>; value: [number, string] }[] }; error?: string };
  if (body.status !== 'success') throw new StackError(SERVICE, `query ${query} failed: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

/** The CLI's entry (`npm run stack -- up|down|status|clean prometheus`). */
export const prometheusService = serviceEntry(SERVICE, 'Prometheus', {
  up: (onProgress) => startPrometheus({ onProgress }),
  down: (onProgress) => stopPrometheus({ onProgress }),
  clean: (onProgress) => cleanPrometheus({ onProgress }),
  status: async () => {
    const s = await prometheusStatus();
    return { running: s.running, address: s.url, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
  },
});
