/**
 * The console and the scrape configuration against the real pipeline: the core, es-indexer, snapshotter and
 * async-processor as their own processes on fresh topics (real Kafka and Elasticsearch), the console in-process,
 * the page in headless Chromium, and a real Prometheus (Debian's package) running docker/prometheus/prometheus.yml
 * with its targets rewritten to the processes' ports.
 *
 * Screenshots go to test-artifacts/ (console-under-load.png, console-after-load.png, console-consumer-down.png).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureElasticsearch, ensureKafka, prometheusQuery, startPrometheus, stopPrometheus } from '@pipeline/stack';
import { api, createLikes, freePort, repoRoot, startCoreOnFreshTopics, tempDir, uniqueName, waitFor, type CoreProcess } from '@pipeline/testing';
import { Authenticator, parseTokenList } from '@pipeline/web-auth';
import { buildConsoleApi } from '../src/console.api';
import { loadConfig } from '../src/config';
import { Sampler, type Component, type PipelineState } from '../src/sampler';

const TOKEN = 'operator-Zr81kQm4Wx2p-token';
const artifacts = join(repoRoot, 'test-artifacts');

class AppProcess {
  child: ChildProcess | null = null;
  output = '';
  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, `apps/${this.name}/src/main.ts`)], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', HTTP_PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    this.child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    let last = '';
    await waitFor(
      `${this.name} ready on ${this.url}`,
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`${this.name} exited: ${this.output}`);
        const res = await fetch(`${this.url}/health/readiness`).catch((err: unknown) => String(err));
        last = typeof res === 'string' ? res : `${res.status} ${await res.text()}`;
        return typeof res !== 'string' && res.ok;
      },
      120_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last answer: ${last}; output: ${this.output}`);
    });
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await done;
  }
}

const like = (source: string, target: number) => ({ type: 'INSERT', edge: { version: Date.now(), source, target, properties: { created_at: Date.now() } } });

/** Mutations in batches of 20 until stopped: the load the figures must follow. */
function startLoad(core: CoreProcess): { stop: () => Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const batch = Array.from({ length: 20 }, (_, k) => like(`u${(i * 20 + k) % 500}`, (i + k) % 97));
      const r = await api(core.url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations: batch });
      if (r.status !== 200) throw new Error(`load: ${r.status} ${JSON.stringify(r.body)}`);
      sent += batch.length;
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return sent;
    },
  };
}

describe('the console on a running pipeline', () => {
  let core: CoreProcess;
  let apps: AppProcess[] = [];
  let esIndexer: AppProcess, snapshotter: AppProcess, asyncProcessor: AppProcess;
  let reconcile: ChildProcess;
  let reconcileUrl: string;
  let reconcileOutput = '';
  let sampler: Sampler;
  let server: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let promDir: string;
  let promUrl: string;
  const groups = { esi: uniqueName('console-esi'), snap: uniqueName('console-snap'), async: uniqueName('console-async') };

  const state = async (): Promise<PipelineState> => (await (await fetch(`${base}/api/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as PipelineState;
  const component = (s: PipelineState, id: string): Component | undefined => s.components.find((c) => c.id === id);
  const figure = (s: PipelineState, id: string, label: string) => component(s, id)?.figures.find((f) => f.label === label)?.value;
  const num = (v: string | null | undefined) => (v === undefined || v === null || v === '–' ? NaN : Number(v.replace(/[^0-9.]/g, '')));
  const pageFigure = (id: string, label: string) => page.locator(`.box[data-id="${id}"] dd[data-label="${label}"]`).textContent();

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    const { bootstrap } = await ensureKafka();
    const es = await ensureElasticsearch();
    let wal: string, cdc: string;
    ({ core, wal, cdc } = await startCoreOnFreshTopics(bootstrap, 'console', { HEARTBEAT_INTERVAL_MS: '3600000' }));
    await createLikes(core.url, 'likes');
    const work = tempDir('console-it');
    const prefix = `console-${Date.now().toString(36)}`;
    const common = { KAFKA_BROKERS: bootstrap, WAL_TOPIC: wal, CDC_TOPIC: cdc };
    esIndexer = new AppProcess('es-indexer', await freePort(), {
      ...common,
      CONSUMER_GROUP: groups.esi,
      ES_URL: es.url,
      INDEX_PREFIX: prefix,
      ROLE: 'indexer',
      AUDIT_LOG_PATH: join(work, 'audit.jsonl'),
    });
    snapshotter = new AppProcess('snapshotter', await freePort(), {
      ...common,
      CONSUMER_GROUP: groups.snap,
      WAREHOUSE_DIR: join(work, 'warehouse'),
      STAGING_DIR: join(work, 'staging'),
      COMMIT_INTERVAL_MS: '2000',
    });
    asyncProcessor = new AppProcess('async-processor', await freePort(), { ...common, GROUP_ID: groups.async, CORE_URL: core.url });
    apps = [esIndexer, snapshotter, asyncProcessor];
    await Promise.all(apps.map((a) => a.start()));
    // wal-replay reconcile in its scheduled mode, comparing the core with both sinks every few seconds.
    const reconcilePort = await freePort();
    reconcileUrl = `http://127.0.0.1:${reconcilePort}`;
    reconcile = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/wal-replay/src/main.ts'), 'reconcile'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...common,
        LOG_LEVEL: 'warn',
        TARGET_URL: core.url,
        ES_URL: es.url,
        ES_INDEX_PREFIX: prefix,
        ES_CDC_GROUP: `${groups.esi}.cdc`,
        ICEBERG_WAREHOUSE: join(work, 'warehouse'),
        RECONCILE_SINKS: 'core,elasticsearch,iceberg',
        EVERY_MS: '3000',
        SETTLE_MS: '500',
        METRICS_PORT: String(reconcilePort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    reconcile.stdout!.on('data', (d: Buffer) => (reconcileOutput = (reconcileOutput + d.toString()).slice(-4000)));
    reconcile.stderr!.on('data', (d: Buffer) => (reconcileOutput = (reconcileOutput + d.toString()).slice(-4000)));

    const cfg = loadConfig({
      PORT: '0',
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: wal,
      CDC_TOPIC: cdc,
      CORE_URL: core.url,
      CONSUMERS: apps.map((a) => `${a.name}=${a.url}`).join(','),
      ES_URL: es.url,
      ES_INDEX_PREFIX: prefix,
      WAREHOUSE_DIR: join(work, 'warehouse'),
      SAMPLE_INTERVAL_MS: '1000',
      LAG_GROWING_MS: '10000',
      LAG_ALERT_RECORDS: '20',
      RECONCILE_URL: reconcileUrl,
    });
    const logger = pino({ level: 'warn' });
    sampler = new Sampler(cfg, logger);
    server = await buildConsoleApi({ sampler, auth: new Authenticator(parseTokenList(`operator:${TOKEN}`)), logger });
    sampler.start();
    base = (await server.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');

    promDir = tempDir('console-prom');
    const promPort = await freePort();
    ({ url: promUrl } = await startPrometheus({
      dir: promDir,
      port: promPort,
      scrapeInterval: '1s',
      targets: {
        'actionbase:8080': core.url.replace('http://', ''),
        'async-processor:8080': `127.0.0.1:${asyncProcessor.port}`,
        'es-indexer:8080': `127.0.0.1:${esIndexer.port}`,
        'snapshotter:8080': `127.0.0.1:${snapshotter.port}`,
        'console:8080': base.replace('http://', ''),
      },
    }));

    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await sampler?.stop();
    await server?.close();
    if (promDir) await stopPrometheus({ dir: promDir });
    await Promise.all(apps.map((a) => a.kill('SIGTERM')));
    if (reconcile && reconcile.exitCode === null && reconcile.signalCode === null) reconcile.kill('SIGKILL');
    await core?.stop();
  }, 60_000);

  it('draws the pipeline signed in from a #token= link, and figures move under load and stop when it stops', async () => {
    await page.goto(`${base}/#token=${TOKEN}`);
    await waitFor('signed in', async () => (await page.textContent('#status'))?.startsWith('Signed in as operator.'));
    expect(await page.evaluate('location.hash')).toBe('');
    // The drawing: the core, both topics, every consumer group as the apps report them, and their sinks.
    await waitFor('the groups the apps report', async () => {
      const ids = (await state()).components.map((c) => c.id);
      return [`group:${groups.esi}.wal`, `group:${groups.esi}.cdc`, `group:${groups.snap}`, `group:${groups.async}`].every((g) => ids.includes(g));
    }, 60_000);
    const idle = await state();
    expect(num(figure(idle, 'core', 'mutations/s')) || 0).toBe(0);
    for (const id of ['core', 'topic:wal', 'topic:cdc', 'sink:elasticsearch', 'sink:iceberg']) expect(component(idle, id)).toBeDefined();

    const load = startLoad(core);
    let sent: number;
    try {
      await waitFor('core mutations/s and every group moving on the page', async () => {
        const s = await state();
        const moving = [
          num(figure(s, 'core', 'mutations/s')),
          num(figure(s, 'topic:wal', 'records/s')),
          num(figure(s, `group:${groups.esi}.cdc`, 'records/s')),
          num(figure(s, `group:${groups.snap}`, 'records/s')),
          num(figure(s, `group:${groups.async}`, 'records/s')),
        ];
        return moving.every((v) => v > 0) && num(await pageFigure('core', 'mutations/s')) > 0 && num(await pageFigure('core', 'p99 mutation latency')) > 0;
      }, 90_000);
      await waitFor('Iceberg and Elasticsearch freshness known', async () => {
        const s = await state();
        return !Number.isNaN(num(figure(s, 'sink:iceberg', 'newest snapshot'))) && !Number.isNaN(num(figure(s, 'sink:elasticsearch', 'newest record indexed')));
      }, 60_000);
      await page.screenshot({ path: join(artifacts, 'console-under-load.png'), fullPage: true });
    } finally {
      sent = await load.stop();
    }
    expect(sent).toBeGreaterThan(0);
    const underLoad = await state();
    expect(component(underLoad, 'core')!.status).toBe('ok');
    expect(underLoad.series['core.mutations']!.points.some(([, v]) => v !== null && v > 0)).toBe(true);

    // Stopped: throughput back to 0, every group caught up, and the topic totals no longer move.
    await waitFor('figures at rest', async () => {
      const s = await state();
      const lags = [`group:${groups.esi}.wal`, `group:${groups.esi}.cdc`, `group:${groups.snap}`, `group:${groups.async}`].map((g) => figure(s, g, 'lag'));
      return num(figure(s, 'core', 'mutations/s')) === 0 && num(figure(s, 'topic:wal', 'records/s')) === 0 && lags.every((l) => l === '0 records') && (await pageFigure('core', 'mutations/s')) === '0.0';
    }, 90_000);
    const a = await state();
    await waitFor('two more samples', async () => (await state()).at >= a.at + 2_000, 20_000);
    const b = await state();
    expect(figure(b, 'topic:wal', 'records')).toBe(figure(a, 'topic:wal', 'records'));
    expect(figure(b, 'topic:cdc', 'records')).toBe(figure(a, 'topic:cdc', 'records'));
    expect(num(figure(a, 'topic:wal', 'records'))).toBeGreaterThanOrEqual(sent);
    // The reconcile box has its own test: its runs come every few seconds and may still be behind the load here.
    for (const c of b.components.filter((x) => x.id !== 'check:reconcile')) expect({ id: c.id, status: c.status, reasons: c.reasons }).toEqual({ id: c.id, status: 'ok', reasons: [] });
    await page.screenshot({ path: join(artifacts, 'console-after-load.png'), fullPage: true });
  }, 300_000);

  it('shows the scheduled reconcile: zero divergent keys over the load, and red with the reason when it stops answering', async () => {
    /** The sum of a gauge's samples whose line starts with `prefix` (its name, and the first labels if given). */
    const gauge = async (prefix: string): Promise<number> => {
      const text = await (await fetch(`${reconcileUrl}/metrics`)).text();
      const values = text.split('\n').filter((l) => l.startsWith(`${prefix} `) || l.startsWith(`${prefix}{`) || (prefix.endsWith(',') && l.startsWith(prefix)));
      return values.length ? values.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0) : NaN;
    };
    const loadDone = Date.now() / 1000;
    // A run that started after the load and compared its keys in both sinks.
    await waitFor(
      'a reconcile run over the load',
      async () =>
        (await gauge('reconcile_last_run_timestamp_seconds').catch(() => NaN)) > loadDone + 3 &&
        (await gauge('reconcile_compared_keys{sink="elasticsearch",')) > 0 &&
        (await gauge('reconcile_compared_keys{sink="iceberg",')) > 0,
      120_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; reconcile output: ${reconcileOutput}`);
    });
    await waitFor('the reconcile box at zero divergent keys', async () => {
      const c = component(await state(), 'check:reconcile');
      return c?.status === 'ok' && figure(await state(), 'check:reconcile', 'divergent keys') === '0';
    }, 30_000);
    expect(await page.locator('.box.status-ok[data-id="check:reconcile"]').count()).toBe(1);

    reconcile.kill('SIGKILL');
    await waitFor(
      'the reconcile box failing, connection refused',
      async () => component(await state(), 'check:reconcile')?.reasons.some((r) => r.includes(`connection refused at ${new URL(reconcileUrl).host}`)) ?? false,
      30_000,
    );
    expect(component(await state(), 'check:reconcile')!.status).toBe('down');
  }, 180_000);

  it('the repository scrape configuration, on a real Prometheus, finds every target up and the apps\' metrics', async () => {
    const jobs = ['actionbase', 'async-processor', 'es-indexer', 'snapshotter', 'console'];
    await waitFor('every target up', async () => {
      const up = await prometheusQuery(promUrl, 'up');
      const byJob = Object.fromEntries(up.map((r) => [r.metric['job'], r.value[1]]));
      return jobs.every((j) => byJob[j] === '1') && up.length === jobs.length;
    }, 60_000);
    const mutations = await prometheusQuery(promUrl, 'sum(actionbase_mutations_total{outcome="ok"})');
    expect(Number(mutations[0]?.value[1])).toBeGreaterThan(0);
    const read = await prometheusQuery(promUrl, 'sum by (group) (stream_records_in_total)');
    const groupsSeen = read.filter((r) => Number(r.value[1]) > 0).map((r) => r.metric['group']);
    expect(groupsSeen).toEqual(expect.arrayContaining([`${groups.esi}.wal`, `${groups.esi}.cdc`, groups.snap, groups.async]));
    const latency = await prometheusQuery(promUrl, 'count(actionbase_request_duration_seconds_bucket{kind="mutation"})');
    expect(Number(latency[0]?.value[1])).toBeGreaterThan(0);
    // Every query of the provisioned Grafana dashboard is valid PromQL on this Prometheus (an invalid one throws),
    // and every panel finds data but the dead letters' (a labelled counter appears at its first dead letter).
    const dashboard = JSON.parse(readFileSync(join(repoRoot, 'docker/grafana/dashboards/pipeline.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      let rows = 0;
      for (const t of panel.targets) rows += (await prometheusQuery(promUrl, t.expr)).length;
      if (rows === 0) empty.push(panel.title);
    }
    expect(empty.filter((title) => title !== 'Dead letters (last hour)')).toEqual([]);
  }, 120_000);

  it('turns a consumer red with the reason when its app stops, and its lag growing under load', async () => {
    await snapshotter.kill('SIGKILL');
    const id = `group:${groups.snap}`;
    // A read in flight at the kill says "connection reset"; the next ones "connection refused".
    await waitFor(
      'the snapshotter group failing on the page, connection refused',
      async () =>
        (await page.locator(`.box.status-down[data-id="${id}"]`).count()) === 1 &&
        (await page.locator(`.box[data-id="${id}"] ul.reasons`).textContent())?.includes(`connection refused at 127.0.0.1:${snapshotter.port}`),
      30_000,
    );
    // The other consumers keep working.
    expect(component(await state(), `group:${groups.esi}.cdc`)!.status).toBe('ok');

    const load = startLoad(core);
    try {
      await waitFor('lag growing said', async () => component(await state(), id)!.reasons.some((r) => r.startsWith('lag growing:')), 60_000);
    } finally {
      await load.stop();
    }
    await page.screenshot({ path: join(artifacts, 'console-consumer-down.png'), fullPage: true });
    const up = await prometheusQuery(promUrl, 'up{job="snapshotter"}');
    await waitFor('Prometheus sees the snapshotter down', async () => (await prometheusQuery(promUrl, 'up{job="snapshotter"}'))[0]?.value[1] === '0', 30_000);
    expect(up).toHaveLength(1);
  }, 180_000);
});
