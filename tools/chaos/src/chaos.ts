/**
 * The chaos drill: the whole pipeline under steady load while each component in turn is killed with SIGKILL
 * and started again; then `wal-replay reconcile` (core, Elasticsearch, Iceberg at the offsets each committed)
 * and `wal-replay check` must find nothing, and no acknowledged mutation may be lost.
 *
 * It runs on a PRIVATE Kafka it starts itself (own folder, free ports), never the shared broker, and kills
 * Elasticsearch only when it started a private one (`killElasticsearch`); otherwise the shared Elasticsearch
 * is used under a prefix of its own and never touched. Druid is optional: an existing Druid (`druid`) gets a
 * datasource of its own fed from the private Kafka and is never killed; a private Druid (`privateDruid`,
 * five JVMs, minutes to start, so started alongside everything else and awaited only before its own kill) also
 * has its indexer, which runs the ingestion task, killed each round. Apps run as processes from their main.ts
 * (tsx), as in production, each with its readiness probe on a loopback port.
 *
 * "Lost": a key whose newest acknowledged mutation (by version) is not reflected in the final CDC state
 * (state version below it). The core answered 200 only after its WAL record was written and its state
 * committed, so a crash must lose none of them; reconcile and check then prove every sink and the core hold
 * that same CDC state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { link, mkdir, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { readAll } from '@pipeline/kafka/testing';
import { DruidClient } from '@pipeline/druid';
import {
  druidStatus,
  ensureElasticsearch,
  elasticsearchStatus,
  kafkaStatus,
  repoRoot,
  startDruid,
  startElasticsearch,
  stackDir,
  startKafka,
  stopDruid,
  stopElasticsearch,
  stopKafka,
  type DruidOptions,
} from '@pipeline/stack';

export interface ChaosOptions {
  /** Folder for the private broker, the core's storage, the warehouse; created when missing. */
  workDir: string;
  /** Times every component is killed. */
  rounds: number;
  /** Load clients (each one request at a time). */
  clients: number;
  /** Load between two kills. */
  loadBetweenKillsMs: number;
  /** How long a killed component stays down. */
  downMs: number;
  /** Start a private Elasticsearch and kill it too (about 30 s per start on 2 cores). */
  killElasticsearch: boolean;
  /** How long reconcile may take to find every sink caught up. */
  settleTimeoutMs: number;
  /** An existing Druid to feed and compare (never killed), e.g. the shared one. */
  druid?: { overlordUrl: string; brokerUrl: string };
  /** Start a private Druid (instead of `druid`), feed and compare it, and kill its indexer each round. */
  privateDruid?: boolean;
  /** Whether a gift's INSERT may move it to other endpoints (default true). */
  moveMultiEdges?: boolean;
  log: (msg: string, data?: Record<string, unknown>) => void;
}

export interface KillRecord {
  component: string;
  /** SIGKILLs sent (consumers get two in quick succession: killed again while rejoining). */
  signals: number;
  downMs: number;
  /** From the restart to readiness. */
  readyMs: number;
}

export interface ChaosReport {
  kills: KillRecord[];
  acknowledged: number;
  failedRequests: number;
  keys: number;
  lost: number;
  lostKeys: string[];
  divergent: number;
  checkMismatches: number;
  reconcile: unknown;
  cdcRecords: number;
  seconds: number;
  /** The sinks reconcile compared. */
  sinks: string[];
  /** CDC records found on the topic a second time (same seq), and the first of them with where each copy is. */
  duplicateCdcRecords: number;
  duplicates: { seq: number; processedAt: number; first: string; again: string }[];
  /**
   * Every pair a duplicated CDC record counts at in Druid, as reconcile names it (`chaos.likes ["u1","7"]`): its
   * `after` pair, and its `before` pair when it moved a multi-edge.
   */
  duplicatePairs: string[];
  /** reconcile's `DIVERGENT ...` lines of its last run (the first 50). */
  divergentLines: string[];
  /** When each kill happened (epoch ms), to tell which one a duplicate follows. */
  killedAt: Record<string, number>;
  /** A private Druid: from its start to ready, and CDC records its task had read when its indexer was first killed. */
  druid?: { readyMs: number; readBeforeKill: number };
}

const DB = 'chaos';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`chaos: gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function httpOk(url: string): Promise<boolean> {
  return (await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.ok === true;
}

interface Component {
  name: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  ready(): Promise<boolean>;
  /** Consumers are killed twice in quick succession (again while rejoining their group). */
  double: boolean;
}

/** An app of the repository as its own process (tsx on its main.ts). */
class AppProcess implements Component {
  private child: ChildProcess | undefined;
  private output = '';
  constructor(
    readonly name: string,
    private readonly main: string,
    private readonly env: Record<string, string>,
    private readonly readinessUrl: string,
    readonly double: boolean,
  ) {}

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot(), this.main)], {
      cwd: repoRoot(),
      env: { ...process.env, LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-10_000)));
    child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-10_000)));
    this.child = child;
  }

  get exited(): boolean {
    return !this.child || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  async ready(): Promise<boolean> {
    if (this.exited) throw new Error(`${this.name} exited by itself (${this.child?.exitCode}): ${this.output.slice(-2_000)}`);
    return httpOk(this.readinessUrl);
  }

  async kill(): Promise<void> {
    const c = this.child;
    if (!c || this.exited) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || this.exited) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 30_000);
    await gone;
    clearTimeout(timer);
  }
}

class KafkaComponent implements Component {
  readonly name = 'kafka';
  readonly double = false;
  constructor(readonly opts: { dir: string; port: number; controllerPort: number }) {}
  get bootstrap(): string {
    return `127.0.0.1:${this.opts.port}`;
  }
  async start(): Promise<void> {
    await startKafka({ ...this.opts, readyTimeoutMs: 180_000 });
  }
  async ready(): Promise<boolean> {
    return (await kafkaStatus(this.opts)).running;
  }
  async kill(): Promise<void> {
    const { pid } = await kafkaStatus(this.opts);
    // The whole process group tools/stack started (detached): the JVM and anything it spawned.
    if (pid) process.kill(-pid, 'SIGKILL');
    await until('the private broker gone', async () => !(await kafkaStatus(this.opts)).running, 30_000);
  }
}

class ElasticsearchComponent implements Component {
  readonly name = 'elasticsearch';
  readonly double = false;
  constructor(readonly opts: { dir: string; port: number; transportPort: number }) {}
  async start(): Promise<void> {
    await startElasticsearch({ ...this.opts, readyTimeoutMs: 240_000 });
  }
  async ready(): Promise<boolean> {
    return (await elasticsearchStatus(this.opts)).running;
  }
  async kill(): Promise<void> {
    const { pid } = await elasticsearchStatus(this.opts);
    // The pid is the launcher (runuser as the node's system user); the JVM is in its process group.
    if (pid) process.kill(-pid, 'SIGKILL');
    await until('the private Elasticsearch gone', async () => !(await elasticsearchStatus(this.opts)).running, 60_000);
  }
}

/**
 * The indexer of a private Druid: it runs the Kafka ingestion tasks in its own JVM, so a SIGKILL loses what
 * they held in memory and had not published; the supervisor starts new tasks from the published offsets.
 */
class DruidIndexerComponent implements Component {
  readonly name = 'druid-indexer';
  readonly double = false;
  constructor(readonly opts: DruidOptions) {}
  async start(): Promise<void> {
    // Starts the roles that are not running: here, the indexer.
    await startDruid(this.opts);
  }
  async ready(): Promise<boolean> {
    return (await druidStatus(this.opts)).running;
  }
  async kill(): Promise<void> {
    const { pids } = await druidStatus(this.opts);
    if (pids.indexer) process.kill(-pids.indexer, 'SIGKILL');
    await until('the private Druid indexer gone', async () => (await druidStatus(this.opts)).pids.indexer === undefined, 60_000);
  }
}

/** druid-ingest's CLI, as an operator runs it. */
function druidIngest(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot(), 'apps/druid-ingest/src/cli.ts'), ...args], {
      cwd: repoRoot(),
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
    child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
    child.on('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * Waits until the supervisor's reading task has read CDC records (its current offsets past where it started)
 * and returns how many, summed over partitions.
 */
async function readByDruid(druid: DruidClient, dataSource: string, timeoutMs: number): Promise<number> {
  let read = 0;
  await until(
    `the Druid task of ${dataSource} reading CDC records`,
    async () => {
      const s = await druid.supervisorStatus(dataSource);
      read = 0;
      for (const t of s.tasks) {
        if (t.type !== 'ACTIVE') continue;
        for (const [p, cur] of Object.entries(t.currentOffsets)) read += Number(cur) - Number(t.startingOffsets[p] ?? cur);
      }
      return read > 0;
    },
    timeoutMs,
    1_000,
  );
  return read;
}

/**
 * Seeds a private Druid's classpath folder with hard links to the jars tools/stack already resolved for the
 * stack's own Druid (same version: its stamp file comes along and tools/stack compares it), instead of minutes
 * of Maven copying 209 jars on a loaded machine. Nothing there is written to: a stamp that does not match makes
 * tools/stack remove the private folder (the links only) and resolve it anew. Any failure leaves that to it too.
 */
async function seedDruidClasspath(dir: string): Promise<boolean> {
  const from = join(stackDir(), 'druid', 'lib');
  const to = join(dir, 'lib');
  if (existsSync(to) || !existsSync(join(from, '.classpath-stamp'))) return false;
  try {
    await mkdir(to, { recursive: true });
    for (const f of await readdir(from)) await link(join(from, f), join(to, f));
    return true;
  } catch {
    await rm(to, { recursive: true, force: true });
    return false;
  }
}

/** Throws a drill's datasource away on a Druid that outlives the drill. */
async function dropDatasource(druid: DruidClient, dataSource: string): Promise<void> {
  await druid.supervisorAction(dataSource, 'terminate').catch(() => undefined);
  // Stopped at once: a graceful stop would wait for a handoff the dropped datasource never gets.
  for (const id of await druid.unfinishedTasks(dataSource).catch(() => [] as string[])) await druid.shutdownTask(id).catch(() => undefined);
  await until('the drill tasks stopped', async () => (await druid.unfinishedTasks(dataSource)).length === 0, 60_000).catch(() => undefined);
  await druid.dropDatasource(dataSource).catch(() => undefined);
}

async function api(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function createSchema(url: string): Promise<void> {
  const ok = (r: { status: number; body: unknown }) => {
    if (r.status !== 200 && r.status !== 409) throw new Error(`chaos: schema: ${JSON.stringify(r.body)}`);
  };
  ok(await api(url, 'POST', '/graph/v3/databases', { database: DB }));
  ok(
    await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'likes',
      schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }, { name: 'score', type: 'LONG', nullable: true }] },
      direction: 'BOTH',
      indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
      mode: 'SYNC',
    }),
  );
  ok(
    await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, {
      table: 'gifts',
      type: 'MULTI_EDGE',
      schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'amount', type: 'LONG', nullable: false }] },
      direction: 'BOTH',
      indexes: [{ index: 'by_amount', fields: [{ field: 'amount', order: 'DESC' }] }],
      mode: 'SYNC',
    }),
  );
}

const SOURCES = Array.from({ length: 40 }, (_, i) => `u${i}`);
const TARGETS = Array.from({ length: 25 }, (_, i) => i + 1);
const GIFTS = Array.from({ length: 200 }, (_, i) => `g${i}`);

/** Steady load; remembers per key the highest version the core acknowledged. */
class Load {
  acknowledged = 0;
  failedRequests = 0;
  readonly acked = new Map<string, number>();
  private running = true;
  private loops: Promise<void>[] = [];
  private version = Date.now() * 1000;

  /** Endpoints of each gift, when a gift keeps the endpoints it was first created with. */
  private readonly giftEnds = new Map<string, { source: string; target: string }>();

  constructor(
    private readonly url: string,
    clients: number,
    /** Gifts keep their first endpoints (`moveMultiEdges: false`). */
    private readonly stableGiftEnds = false,
  ) {
    this.loops = Array.from({ length: clients }, () => this.loop());
  }

  private async loop(): Promise<void> {
    const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    while (this.running) {
      const multi = Math.random() < 0.3;
      const keys = new Map<string, { type: string; edge: Record<string, unknown> }>();
      const size = 1 + Math.floor(Math.random() * 10);
      // Distinct keys per request: a key's outcome is one result line.
      for (let i = 0; i < size; i++) {
        const type = pick(['INSERT', 'INSERT', 'UPDATE', 'DELETE']);
        const v = ++this.version;
        if (multi) {
          const id = pick(GIFTS);
          const edge: Record<string, unknown> = { version: v, id, properties: type === 'DELETE' ? {} : { amount: Math.floor(Math.random() * 100) } };
          if (type === 'INSERT') {
            let ends = { source: pick(SOURCES), target: pick(SOURCES) };
            if (this.stableGiftEnds) {
              ends = this.giftEnds.get(id) ?? ends;
              this.giftEnds.set(id, ends);
            }
            Object.assign(edge, ends);
          }
          keys.set(`gifts ${JSON.stringify(id)}`, { type, edge });
        } else {
          const s = pick(SOURCES);
          const t = pick(TARGETS);
          const properties = type === 'DELETE' ? {} : type === 'INSERT' ? { created_at: v, score: Math.floor(Math.random() * 10) } : { score: Math.floor(Math.random() * 10) };
          keys.set(`likes ${JSON.stringify([s, String(t)])}`, { type, edge: { version: v, source: s, target: t, properties } });
        }
      }
      const path = `/graph/v3/databases/${DB}/tables/${multi ? 'gifts/multi-edges' : 'likes/edges'}`;
      const r = await api(this.url, 'POST', path, { mutations: [...keys.values()] }).catch(() => ({ status: 0, body: null }));
      if (r.status === 200) {
        this.acknowledged += keys.size;
        for (const [k, m] of keys) this.acked.set(k, Math.max(this.acked.get(k) ?? 0, m.edge.version as number));
      } else {
        this.failedRequests++;
        await pause(100);
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

interface ReconcileSummary {
  divergent?: number;
  notCaughtUp?: string[];
  results?: { sink: string; behind: number }[];
}

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; result: ReconcileSummary | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot(), 'apps/wal-replay/src/main.ts'), ...args], {
      cwd: repoRoot(),
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
    child.on('exit', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let result: ReconcileSummary | null = null;
      try {
        result = JSON.parse(last) as ReconcileSummary;
      } catch {
        result = null;
      }
      resolve({ code: code ?? 1, stdout, stderr, result });
    });
  });
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  mkdirSync(o.workDir, { recursive: true });
  const kafka = new KafkaComponent({ dir: join(o.workDir, 'stack', 'kafka'), port: await freePort(), controllerPort: await freePort() });
  o.log('starting a private Kafka', { bootstrap: kafka.bootstrap });
  await kafka.start();
  let esUrl: string;
  let es: ElasticsearchComponent | undefined;
  if (o.killElasticsearch) {
    es = new ElasticsearchComponent({ dir: join(o.workDir, 'stack', 'elasticsearch'), port: await freePort(), transportPort: await freePort() });
    o.log('starting a private Elasticsearch');
    await es.start();
    esUrl = `http://127.0.0.1:${es.opts.port}`;
  } else {
    ({ url: esUrl } = await ensureElasticsearch());
  }
  const tag = `chaos-${randomUUID().slice(0, 8)}`;
  const topics = { wal: `${tag}.wal`, cdc: `${tag}.cdc` };
  let druidIndexer: DruidIndexerComponent | undefined;
  let druidApi = o.druid;
  /**
   * A private Druid takes minutes to start: it starts now, alongside the rest, and the drill waits for it only
   * where it needs it (the supervisor, then its kill). Its URLs are known before it answers.
   */
  let druidStarted: Promise<number> | undefined;
  if (o.privateDruid) {
    const ports = { zookeeper: await freePort(), coordinator: await freePort(), broker: await freePort(), historical: await freePort(), indexer: await freePort() };
    druidIndexer = new DruidIndexerComponent({ dir: join(o.workDir, 'stack', 'druid'), ports, derbyPort: await freePort(), readyTimeoutMs: 600_000 });
    druidApi = { overlordUrl: `http://127.0.0.1:${ports.coordinator}`, brokerUrl: `http://127.0.0.1:${ports.broker}` };
    o.log('starting a private Druid (five JVMs: minutes) alongside the rest');
    const t0 = Date.now();
    const opts = druidIndexer.opts;
    druidStarted = seedDruidClasspath(opts.dir!)
      .then((seeded) => o.log('private Druid classpath', { linkedFromStack: seeded }))
      .then(() => startDruid({ ...opts, onProgress: (m) => o.log(`druid: ${m}`) }))
      .then(() => Date.now() - t0);
    // Awaited later; a failure meanwhile must not surface as an unhandled rejection.
    druidStarted.catch(() => undefined);
  }
  const dataSource = `${tag}_cdc`;
  const druid = druidApi ? new DruidClient(druidApi) : undefined;
  const corePort = await freePort();
  const coreUrl = `http://127.0.0.1:${corePort}`;
  const core = new AppProcess(
    'core',
    'apps/actionbase/src/main.ts',
    { PORT: String(corePort), HOST: '127.0.0.1', KAFKA_BROKERS: kafka.bootstrap, WAL_TOPIC: topics.wal, CDC_TOPIC: topics.cdc, WAL_PARTITIONS: '3', CDC_PARTITIONS: '3', STORAGE_PATH: join(o.workDir, 'core', 'core.db'), HEARTBEAT_INTERVAL_MS: '5000' },
    `${coreUrl}/graph/health/readiness`,
    false,
  );
  const esHttp = await freePort();
  const indexer = new AppProcess(
    'es-indexer',
    'apps/es-indexer/src/main.ts',
    {
      KAFKA_BROKERS: kafka.bootstrap,
      ES_URL: esUrl,
      WAL_TOPIC: topics.wal,
      CDC_TOPIC: topics.cdc,
      CONSUMER_GROUP: `${tag}-idx`,
      INDEX_PREFIX: tag,
      ROLE: 'indexer',
      API_PORT: String(await freePort()),
      API_HOST: '127.0.0.1',
      HTTP_PORT: String(esHttp),
      REFRESH_INTERVAL: '500ms',
      AUDIT_LOG_PATH: join(o.workDir, 'audit.jsonl'),
    },
    `http://127.0.0.1:${esHttp}/health/readiness`,
    true,
  );
  const snapHttp = await freePort();
  const warehouse = join(o.workDir, 'warehouse');
  const snapshotter = new AppProcess(
    'snapshotter',
    'apps/snapshotter/src/main.ts',
    {
      KAFKA_BROKERS: kafka.bootstrap,
      CDC_TOPIC: topics.cdc,
      CONSUMER_GROUP: `${tag}-snap`,
      HTTP_PORT: String(snapHttp),
      WAREHOUSE_DIR: warehouse,
      STAGING_DIR: join(o.workDir, 'staging'),
      COMMIT_INTERVAL_MS: '1000',
      CHANGELOG_ENABLED: 'false',
      // A member killed without leaving is dropped sooner, so the double kill is survived within the drill.
      KAFKA_SESSION_TIMEOUT_MS: '10000',
    },
    `http://127.0.0.1:${snapHttp}/health/readiness`,
    true,
  );
  const apps = [core, indexer, snapshotter];
  const sinks = ['core', 'elasticsearch', 'iceberg', ...(druid ? ['druid'] : [])];
  const report: ChaosReport = { kills: [], acknowledged: 0, failedRequests: 0, keys: 0, lost: 0, lostKeys: [], divergent: -1, checkMismatches: -1, reconcile: null, cdcRecords: 0, seconds: 0, sinks, duplicateCdcRecords: 0, duplicates: [], duplicatePairs: [], divergentLines: [], killedAt: {} };
  try {
    await core.start();
    await until('the core ready', () => core.ready(), 120_000);
    await createSchema(coreUrl);
    await indexer.start();
    await snapshotter.start();
    await until('the consumers ready', async () => (await indexer.ready()) && (await snapshotter.ready()), 180_000);
    const applyDruid = async (api: { overlordUrl: string; brokerUrl: string }) => {
      // Druid runs on this host, so it reaches the private broker at the same address.
      const applied = await druidIngest(['apply'], {
        KAFKA_BROKERS: kafka.bootstrap,
        CDC_TOPIC: topics.cdc,
        DATASOURCE: dataSource,
        DRUID_URL: api.overlordUrl,
        DRUID_BROKER_URL: api.brokerUrl,
      });
      if (applied.code !== 0) throw new Error(`chaos: druid-ingest apply: ${applied.output}`);
      o.log('Druid supervisor applied', { dataSource, private: o.privateDruid === true });
    };
    // The private Druid's supervisor is applied as soon as it is ready (the CDC topic exists now: the core made
    // it); it reads from the earliest offset, so what the load wrote before is ingested all the same.
    const druidApplied = druidStarted && druidApi ? druidStarted.then(async (readyMs) => (await applyDruid(druidApi), readyMs)) : undefined;
    druidApplied?.catch(() => undefined);
    if (druidApi && !druidApplied) await applyDruid(druidApi);
    o.log('pipeline up; load starts', { clients: o.clients });
    const load = new Load(coreUrl, o.clients, o.moveMultiEdges === false);
    const victims: Component[] = [core, indexer, snapshotter, kafka, ...(es ? [es] : []), ...(druidIndexer ? [druidIndexer] : [])];
    for (let round = 1; round <= o.rounds; round++) {
      for (const v of victims) {
        if (v === druidIndexer && druidApplied && druid && !report.druid) {
          const readyMs = await druidApplied;
          // Killed while its task holds records it read and has not published: what the kill is about.
          const read = await readByDruid(druid, dataSource, 300_000);
          report.druid = { readyMs, readBeforeKill: read };
          o.log('private Druid ready and ingesting', report.druid);
        }
        await pause(o.loadBetweenKillsMs);
        await v.kill();
        let signals = 1;
        if (v.double) {
          // Killed again while rejoining its group: the case that once left a consumer down for good.
          await v.start();
          await pause(1_500);
          await v.kill();
          signals++;
        }
        const killedAt = Date.now();
        report.killedAt[`${round}:${v.name}`] = killedAt;
        await pause(o.downMs);
        const restartAt = Date.now();
        await v.start();
        await until(`${v.name} ready again`, () => v.ready(), 240_000);
        const rec = { component: v.name, signals, downMs: restartAt - killedAt, readyMs: Date.now() - restartAt };
        report.kills.push(rec);
        o.log(`round ${round}: ${v.name} killed and back`, { ...rec, acknowledged: load.acknowledged });
        // A consumer that gave up would be found here, not only at the end.
        for (const a of apps) if (a.exited) throw new Error(`${a.name} is down after killing ${v.name}`);
      }
    }
    await pause(o.loadBetweenKillsMs);
    await load.stop();
    report.acknowledged = load.acknowledged;
    report.failedRequests = load.failedRequests;
    report.keys = load.acked.size;
    o.log('load stopped; reconciling', { acknowledged: load.acknowledged, failedRequests: load.failedRequests });

    const env = {
      KAFKA_BROKERS: kafka.bootstrap,
      CDC_TOPIC: topics.cdc,
      TARGET_URL: coreUrl,
      ES_URL: esUrl,
      ES_INDEX_PREFIX: tag,
      ES_CDC_GROUP: `${tag}-idx.cdc`,
      ICEBERG_WAREHOUSE: warehouse,
      RECONCILE_SINKS: sinks.join(','),
      SETTLE_ROUNDS: '3',
      SETTLE_MS: '1500',
      ...(druidApi ? { DRUID_URL: druidApi.overlordUrl, DRUID_BROKER_URL: druidApi.brokerUrl, DRUID_DATASOURCE: dataSource, DRUID_CATCHUP_MS: '120000' } : {}),
    };
    let last: Awaited<ReturnType<typeof runCli>> | undefined;
    const deadline = Date.now() + o.settleTimeoutMs;
    const divergentLines = (out: string) => out.split('\n').filter((l) => l.startsWith('DIVERGENT '));
    let previous: string | undefined;
    for (;;) {
      last = await runCli(['reconcile'], env);
      const results = last.result?.results ?? [];
      // Every sink of both tables, each past every record of the run.
      const caughtUp = results.length === sinks.length * 2 && results.every((r) => r.behind === 0) && (last.result?.notCaughtUp ?? []).length === 0;
      if ((last.code === 0 && caughtUp) || Date.now() > deadline) break;
      // Every sink past every record and the same divergence twice in a row: waiting longer changes nothing.
      const lines = divergentLines(last.stdout).join('\n');
      if (caughtUp && lines !== '' && lines === previous) break;
      previous = caughtUp ? lines : undefined;
      await pause(2_000);
    }
    report.reconcile = last.result;
    report.divergent = last.result?.divergent ?? -1;
    report.divergentLines = divergentLines(last.stdout).slice(0, 50);
    if (last.code !== 0) o.log('reconcile still finds divergent keys', { stdout: last.stdout.slice(-4_000), stderr: last.stderr.slice(-2_000) });
    const check = await runCli(['check'], { KAFKA_BROKERS: kafka.bootstrap, CDC_TOPIC: topics.cdc, TARGET_URL: coreUrl });
    report.checkMismatches = check.stdout.split('\n').filter((l) => l.startsWith('MISMATCH')).length;
    if (check.code !== 0 && report.checkMismatches === 0) report.checkMismatches = -1;

    // Lost: the final CDC state of each key against the newest version the core acknowledged for it.
    const latest = new Map<string, { seq: number; version: number }>();
    // A record on the topic twice (same seq): harmless to the sinks that version on seq, counted twice by Druid.
    const firstAt = new Map<number, { partition: number; offset: bigint; processedAt: number }>();
    for (const m of await readAll(kafka.bootstrap, topics.cdc, { timeoutMs: 120_000 })) {
      const r = JSON.parse(String(m.value)) as {
        seq?: number;
        processedAt?: number;
        context?: { database: string; table: string };
        before?: { source: unknown; target: unknown } | null;
        after?: { source: unknown; target: unknown; edgeId?: unknown; version: number } | null;
      };
      if (r.context?.database !== DB || !r.after || r.seq === undefined) continue;
      report.cdcRecords++;
      const first = firstAt.get(r.seq);
      if (first) {
        report.duplicateCdcRecords++;
        const pairOf = (e: { source: unknown; target: unknown }) => `${DB}.${r.context!.table} ${JSON.stringify([String(e.source), String(e.target)])}`;
        for (const e of [r.after, r.before]) if (e && !report.duplicatePairs.includes(pairOf(e))) report.duplicatePairs.push(pairOf(e));
        if (report.duplicates.length < 20) report.duplicates.push({ seq: r.seq, processedAt: r.processedAt ?? 0, first: `${first.partition}:${first.offset}`, again: `${m.partition}:${m.offset}` });
      } else firstAt.set(r.seq, { partition: m.partition, offset: m.offset, processedAt: r.processedAt ?? 0 });
      const k = r.context.table === 'gifts' ? `gifts ${JSON.stringify(r.after.edgeId)}` : `likes ${JSON.stringify([String(r.after.source), String(r.after.target)])}`;
      const prev = latest.get(k);
      if (!prev || r.seq > prev.seq) latest.set(k, { seq: r.seq, version: r.after.version });
    }
    for (const [k, v] of load.acked) {
      if ((latest.get(k)?.version ?? -1) < v) {
        report.lost++;
        if (report.lostKeys.length < 50) report.lostKeys.push(k);
      }
    }
  } finally {
    for (const a of apps) await a.stop().catch(() => undefined);
    // Druid before Kafka: its tasks stop while their broker still answers.
    if (druidIndexer) {
      // A start still under way holds the folder's lock: stopping waits for it, or its JVMs would outlive the drill.
      await druidStarted?.catch(() => undefined);
      await stopDruid({ ...druidIndexer.opts, stopTimeoutMs: 15_000 }).catch(() => undefined);
    }
    else if (druid) await dropDatasource(druid, dataSource);
    await stopKafka({ ...kafka.opts, stopTimeoutMs: 15_000 }).catch(() => undefined);
    if (es) await stopElasticsearch({ ...es.opts, stopTimeoutMs: 15_000 }).catch(() => undefined);
    else await dropIndices(esUrl!, tag).catch(() => undefined);
  }
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

/** The shared Elasticsearch keeps nothing of a drill: its indices and templates, resolved by name. */
async function dropIndices(esUrl: string, prefix: string): Promise<void> {
  const rows = (await (await fetch(`${esUrl}/_cat/indices/${prefix}-*?format=json&h=index`)).json()) as { index: string }[];
  if (rows.length) await fetch(`${esUrl}/${rows.map((r) => r.index).join(',')}`, { method: 'DELETE' });
  for (const t of [`${prefix}-edges`, `${prefix}-mutations`]) await fetch(`${esUrl}/_index_template/${t}`, { method: 'DELETE' });
}
