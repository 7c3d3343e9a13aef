/**
 * The core on PostgreSQL with 1, 2 and 3 instances against one core on SQLite, in the same rounds:
 *   - batches: mutations/s end to end (first request → every mutation acknowledged, i.e. its WAL record on
 *     Kafka, and → the last CDC record on Kafka), batch latency p50/p99, clients spread over the instances;
 *   - reads: single-edge reads (edges/get) of loaded edges, closed loop, p50/p99 and reads/s;
 *   - single-edge traffic mixed 85% reads / 15% writes (one mutation per request), closed loop: requests/s
 *     in all, per instance and per CPU-second of the cores; p50/p99 of reads and of writes;
 *   - where the limit is, sampled while batches and the mix run: CPU of the cores, of this database's
 *     PostgreSQL backends and of PostgreSQL's background processes (/proc/<pid>/stat), the machine's CPU
 *     (/proc/stat), what active backends wait on (pg_stat_activity wait events, sampled every 100 ms), commits
 *     of this database (pg_stat_database) and the server's WAL writes and syncs (pg_stat_wal, pg_stat_bgwriter).
 * Each side starts fresh every round: new cores, new topics, and on PostgreSQL a new database (`bench_pg_*`,
 * dropped after the side). Each side loads the same edges first and runs the same warm-up before anything is
 * timed; the order of the sides rotates from round to round. Ratios are taken inside a round.
 *
 *   npx tsx bench/core-pg-scaling.ts [--instances 1,2,3] [--mutations 20000] [--batch 500] [--concurrency 6]
 *        [--edges 20000] [--seconds 10] [--clients 24] [--pool 16] [--rounds 3] [--json out.json]
 *
 * The PostgreSQL server is the shared one (PG_TEST_URL, default postgres://postgres@127.0.0.1:5432/postgres):
 * its WAL and bgwriter figures are server-wide and include whatever else ran on it. The last line printed
 * is the JSON result (`BENCH_RESULT {...}`, also written to --json / BENCH_JSON).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createKafka } from '@pipeline/kafka';
import { api, CoreProcess, createLikes, createTestDatabase, dropTestDatabases, freePort, tempStorage, uniqueName, waitFor } from '@pipeline/testing';
import { benchKafka, HttpClient, loadLine, makeWorkload, pct, sendAll, SHOP_LIKES_PATH, TopicCounter, type Workload } from './core-common';
import { emitResult, machineLoad, spread, type ResultRow } from './lib/report';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1,2,3' },
    mutations: { type: 'string', default: '20000' },
    batch: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '6' },
    edges: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '24' },
    'read-share': { type: 'string', default: '0.85' },
    pool: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const instanceCounts = values.instances.split(',').map(Number);
const batchSize = Number(values.batch);
const concurrency = Number(values.concurrency);
const edges = Number(values.edges);
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const readShare = Number(values['read-share']);
const rounds = Number(values.rounds);
const adminUrl = process.env['PG_TEST_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

type Side = { store: 'sqlite' | 'postgres'; n: number; name: string };
const sides: Side[] = [{ store: 'sqlite', n: 1, name: 'sqlite-1' }, ...instanceCounts.map((n) => ({ store: 'postgres' as const, n, name: `pg-${n}` }))];

// ---- CPU from /proc -------------------------------------------------------------------------------------

/** CPU ticks (user + system, USER_HZ) a process has used; 0 once it is gone. */
function ticksOf(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The machine's busy and total ticks over all CPUs (/proc/stat; idle and iowait count as not busy). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3]! - cpu[4]!, total };
}

/** Every PostgreSQL process of the server (its postmaster's children): pid → ticks so far. */
function postgresProcesses(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres') out.set(Number(d), ticksOf(Number(d)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// ---- PostgreSQL probes ---------------------------------------------------------------------------------

interface PgCounters {
  commits: number;
  walRecords: number;
  walBytes: number;
  walWrites: number;
  walSyncs: number;
  backendFsyncs: number;
  checkpoints: number;
}

async function pgCounters(client: pg.Client, db: string): Promise<PgCounters> {
  const r = await client.query(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = $1) AS commits,
            w.wal_records, w.wal_bytes, w.wal_write, w.wal_sync,
            b.buffers_backend_fsync, b.checkpoints_timed + b.checkpoints_req AS checkpoints
       FROM pg_stat_wal w, pg_stat_bgwriter b`,
    [db],
  );
  const x = r.rows[0] as Record<string, string>;
  return {
    commits: Number(x['commits']),
    walRecords: Number(x['wal_records']),
    walBytes: Number(x['wal_bytes']),
    walWrites: Number(x['wal_write']),
    walSyncs: Number(x['wal_sync']),
    backendFsyncs: Number(x['buffers_backend_fsync']),
    checkpoints: Number(x['checkpoints']),
  };
}

/** Pids of this database's backends and of the server's background processes (walwriter, checkpointer, …). */
async function pgPids(client: pg.Client, db: string): Promise<{ ours: number[]; background: number[] }> {
  const r = await client.query(`SELECT pid, datname, backend_type FROM pg_stat_activity WHERE pid <> pg_backend_pid()`);
  const ours: number[] = [];
  const background: number[] = [];
  for (const row of r.rows as { pid: number; datname: string | null; backend_type: string }[]) {
    if (row.datname === db) ours.push(row.pid);
    else if (row.datname === null && row.backend_type !== 'client backend') background.push(row.pid);
  }
  return { ours, background };
}

/** What the database's active backends wait on, sampled every `everyMs` until stopped: counts per wait event. */
function waitSampler(client: pg.Client, db: string, everyMs = 100): { stop(): Promise<{ samples: number; active: number; waits: Record<string, number> }> } {
  let running = true;
  let samples = 0;
  let active = 0;
  const waits: Record<string, number> = {};
  const loop = (async () => {
    while (running) {
      const r = await client
        .query(`SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') AS w FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`, [db])
        .catch(() => undefined);
      if (r) {
        samples++;
        for (const row of r.rows as { w: string }[]) {
          active++;
          waits[row.w] = (waits[row.w] ?? 0) + 1;
        }
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, active, waits };
    },
  };
}

interface Usage {
  seconds: number;
  /** CPU in cores (1 = one core busy the whole phase). */
  coresCpu: number;
  pgOursCpu?: number;
  pgBackgroundCpu?: number;
  /** Every postgres process on the machine, including other databases' backends. */
  pgAllCpu?: number;
  benchCpu: number;
  machineBusy: number;
  /** Per second of the phase, for this database (commits) and the whole server (WAL). */
  commitsPerS?: number;
  walSyncsPerS?: number;
  walWritesPerS?: number;
  walMiBPerS?: number;
  walSyncsPerCommit?: number;
  backendFsyncs?: number;
  checkpoints?: number;
  /** Share of sampled active backends per wait event (`on CPU` when not waiting). */
  waits?: Record<string, number>;
  activeBackends?: number;
}

/** Measures what a phase costs whom: starts the probes, runs `phase`, returns its usage. */
async function measured<T>(cores: CoreProcess[], pgc: { client: pg.Client; sampler: pg.Client; db: string } | undefined, phase: () => Promise<T>): Promise<{ value: T; usage: Usage }> {
  const corePids = cores.map((c) => c.child!.pid!);
  const core0 = corePids.map(ticksOf);
  const bench0 = process.cpuUsage();
  const m0 = machineTicks();
  const pgAll0 = pgc ? postgresProcesses() : undefined;
  const pids = pgc ? await pgPids(pgc.client, pgc.db) : undefined;
  const ours0 = pids?.ours.map(ticksOf);
  const bg0 = pids?.background.map(ticksOf);
  const counters0 = pgc ? await pgCounters(pgc.client, pgc.db) : undefined;
  const sampler = pgc ? waitSampler(pgc.sampler, pgc.db) : undefined;
  const t0 = performance.now();
  const value = await phase();
  const wall = (performance.now() - t0) / 1000;
  const waits = await sampler?.stop();
  const counters1 = pgc ? await pgCounters(pgc.client, pgc.db) : undefined;
  const m1 = machineTicks();
  const hz = 100; // USER_HZ
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const usage: Usage = {
    seconds: +wall.toFixed(2),
    coresCpu: +(sum(corePids.map((p, i) => ticksOf(p) - core0[i]!)) / hz / wall).toFixed(2),
    benchCpu: +((process.cpuUsage(bench0).user + process.cpuUsage(bench0).system) / 1e6 / wall).toFixed(2),
    machineBusy: +(((m1.busy - m0.busy) / Math.max(1, m1.total - m0.total)) * machineLoad().cores).toFixed(2),
  };
  if (pgc && pids && counters0 && counters1 && pgAll0 && waits) {
    // Backends the pools opened during the phase started at 0 ticks.
    const after = await pgPids(pgc.client, pgc.db);
    const oursTicks = sum(after.ours.map((p) => ticksOf(p) - (ours0![pids.ours.indexOf(p)] ?? 0)));
    const pgAll1 = postgresProcesses();
    let allTicks = 0;
    for (const [pid, t] of pgAll1) allTicks += t - (pgAll0.get(pid) ?? 0);
    usage.pgOursCpu = +(oursTicks / hz / wall).toFixed(2);
    usage.pgBackgroundCpu = +(sum(pids.background.map((p, i) => ticksOf(p) - bg0![i]!)) / hz / wall).toFixed(2);
    usage.pgAllCpu = +(allTicks / hz / wall).toFixed(2);
    const commits = counters1.commits - counters0.commits;
    usage.commitsPerS = Math.round(commits / wall);
    usage.walSyncsPerS = Math.round((counters1.walSyncs - counters0.walSyncs) / wall);
    usage.walWritesPerS = Math.round((counters1.walWrites - counters0.walWrites) / wall);
    usage.walMiBPerS = +((counters1.walBytes - counters0.walBytes) / 2 ** 20 / wall).toFixed(2);
    usage.walSyncsPerCommit = +((counters1.walSyncs - counters0.walSyncs) / Math.max(1, commits)).toFixed(2);
    usage.backendFsyncs = counters1.backendFsyncs - counters0.backendFsyncs;
    usage.checkpoints = counters1.checkpoints - counters0.checkpoints;
    usage.activeBackends = +(waits.active / Math.max(1, waits.samples)).toFixed(2);
    usage.waits = Object.fromEntries(
      Object.entries(waits.waits)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, +(v / Math.max(1, waits.active)).toFixed(3)]),
    );
  }
  return { value, usage };
}

// ---- the load ------------------------------------------------------------------------------------------

const users = Math.max(1, Math.floor(edges / 20));
const edgeAt = (i: number) => ({ source: `u${i % users}`, target: Math.floor(i / users) });

/** The edges reads look up, in batches of 500 (the untimed load every side starts with). */
function loadBodies(): Workload {
  const w: Workload = { bodies: [], mutations: 0, cdcRecords: 0 };
  for (let b = 0; b < edges; b += 500) {
    const mutations = [];
    for (let i = b; i < Math.min(edges, b + 500); i++) mutations.push({ type: 'INSERT', edge: { version: i + 1, ...edgeAt(i), properties: { created_at: i + 1 } } });
    w.bodies.push(JSON.stringify({ mutations }));
    w.mutations += mutations.length;
    w.cdcRecords += mutations.length;
  }
  return w;
}

interface MixResult {
  rps: number;
  read: number[];
  write: number[];
  writesOk: number;
  errors: number;
}

let version = 1_000_000_000;

/** Closed loop for `secs`: `clients` clients (client i on instance i mod n), each sending its next request when answered. */
async function closedLoop(http: HttpClient[], secs: number, share: number, seed: number): Promise<MixResult> {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  const out: MixResult = { rps: 0, read: [], write: [], writesOk: 0, errors: 0 };
  const end = performance.now() + secs * 1000;
  const t0 = performance.now();
  let n = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = http[c % http.length]!;
      while (performance.now() < end) {
        const e = edgeAt(rnd() % edges);
        const isRead = (rnd() % 10_000) / 10_000 < share;
        const s = performance.now();
        let status: number;
        if (isRead) status = (await client.send('GET', `${SHOP_LIKES_PATH}/get?source=${e.source}&target=${e.target}`)).status;
        else {
          const v = ++version;
          const body = JSON.stringify({ mutations: [{ type: 'INSERT', edge: { version: v, source: e.source, target: e.target, properties: { created_at: v } } }] });
          status = (await client.send('POST', SHOP_LIKES_PATH, body)).status;
        }
        n++;
        if (status !== 200) out.errors++;
        else if (isRead) out.read.push(performance.now() - s);
        else {
          out.write.push(performance.now() - s);
          out.writesOk++;
        }
      }
    }),
  );
  out.rps = n / ((performance.now() - t0) / 1000);
  return out;
}

interface SideResult {
  side: string;
  batch: { ackRate: number; e2eRate: number; drainMs: number; p50Ms: number; p99Ms: number; usage: Usage };
  reads: { rps: number; p50Ms: number; p99Ms: number; errors: number; usage: Usage };
  mix: { rps: number; perInstance: number; perCoreCpuSecond: number; readP50Ms: number; readP99Ms: number; writeP50Ms: number; writeP99Ms: number; errors: number; usage: Usage };
}

async function runSide(side: Side, bootstrap: string, counter: TopicCounter, timed: Workload, round: number): Promise<SideResult> {
  const wal = uniqueName(`bench-pgscale.wal`);
  const cdc = uniqueName(`bench-pgscale.cdc`);
  const dbUrl = side.store === 'postgres' ? await createTestDatabase('bench_pg') : undefined;
  const db = dbUrl ? new URL(dbUrl).pathname.slice(1) : '';
  const cores: CoreProcess[] = [];
  const http: HttpClient[] = [];
  let pgc: { client: pg.Client; sampler: pg.Client; db: string } | undefined;
  try {
    for (let i = 0; i < side.n; i++) {
      cores.push(
        new CoreProcess({
          PORT: String(await freePort()),
          ...(dbUrl ? { STORAGE: 'postgres', DATABASE_URL: dbUrl, PG_POOL_SIZE: values.pool } : {}),
          STORAGE_PATH: tempStorage(),
          KAFKA_BROKERS: bootstrap,
          WAL_TOPIC: wal,
          CDC_TOPIC: cdc,
          HEARTBEAT_INTERVAL_MS: String(3_600_000),
          LOG_LEVEL: 'warn',
        }),
      );
    }
    // One after the other: instances migrating at once wait on the first anyway, and a loaded machine needs the time.
    for (const c of cores) await c.start();
    await createLikes(cores[0]!.url, 'likes');
    for (const c of cores) await waitFor(`the table on ${c.url}`, async () => (await api(c.url, 'GET', `${SHOP_LIKES_PATH}/count?start=u1&direction=OUT`)).status === 200, 60_000);
    for (const c of cores) http.push(new HttpClient(c.url, 256));
    if (dbUrl) {
      const client = new pg.Client({ connectionString: adminUrl });
      const sampler = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await sampler.connect();
      pgc = { client, sampler, db };
    }

    // The same untimed start on every side: the edges, then a short run of the mix and of the reads.
    const load = loadBodies();
    await sendAll(http, load.bodies, concurrency);
    const warm = await closedLoop(http, Math.min(3, seconds), readShare, 7 + round);
    let cdcBase = side.n + load.cdcRecords + warm.writesOk; // one heartbeat per instance at start
    await counter.until(cdc, cdcBase, 120_000);

    const batch = await measured(cores, pgc, async () => {
      const t0 = performance.now();
      const latencies = await sendAll(http, timed.bodies, concurrency);
      const tAck = performance.now();
      const tCdc = await counter.until(cdc, cdcBase + timed.cdcRecords, 300_000);
      return { latencies, ackS: (tAck - t0) / 1000, e2eS: (Math.max(tAck, tCdc) - t0) / 1000, drainMs: Math.max(0, tCdc - tAck) };
    });
    cdcBase += timed.cdcRecords;

    const reads = await measured(cores, pgc, () => closedLoop(http, seconds, 1, 11 + round));
    const mix = await measured(cores, pgc, () => closedLoop(http, seconds, readShare, 13 + round));
    cdcBase += mix.value.writesOk;
    await counter.until(cdc, cdcBase, 120_000);
    const cdcN = await counter.count(cdc);
    if (cdcN !== cdcBase) console.warn(`${side.name}: the CDC topic holds ${cdcN} records, ${cdcBase} expected (a heartbeat more or less is the start's)`);
    const cpuSeconds = mix.usage.coresCpu * mix.usage.seconds;
    return {
      side: side.name,
      batch: {
        ackRate: timed.mutations / batch.value.ackS,
        e2eRate: timed.mutations / batch.value.e2eS,
        drainMs: batch.value.drainMs,
        p50Ms: pct(batch.value.latencies, 50),
        p99Ms: pct(batch.value.latencies, 99),
        usage: batch.usage,
      },
      reads: { rps: reads.value.rps, p50Ms: pct(reads.value.read, 50), p99Ms: pct(reads.value.read, 99), errors: reads.value.errors, usage: reads.usage },
      mix: {
        rps: mix.value.rps,
        perInstance: mix.value.rps / side.n,
        perCoreCpuSecond: (mix.value.rps * mix.usage.seconds) / Math.max(0.01, cpuSeconds),
        readP50Ms: pct(mix.value.read, 50),
        readP99Ms: pct(mix.value.read, 99),
        writeP50Ms: pct(mix.value.write, 50),
        writeP99Ms: pct(mix.value.write, 99),
        errors: mix.value.errors,
        usage: mix.usage,
      },
    };
  } catch (err) {
    for (const c of cores) console.error(`core ${c.url} output (tail):\n${c.output.slice(-2000)}`);
    throw err;
  } finally {
    for (const h of http) h.close();
    await pgc?.client.end().catch(() => undefined);
    await pgc?.sampler.end().catch(() => undefined);
    for (const c of cores) await c.stop();
    await dropTestDatabases();
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-cleanup' }).admin();
    await admin.deleteTopics([wal, cdc]).catch(() => undefined);
    await admin.close();
  }
}

const fmtUsage = (u: Usage) =>
  `CPU: cores ${u.coresCpu}` +
  (u.pgOursCpu !== undefined ? `, pg backends ${u.pgOursCpu}, pg background ${u.pgBackgroundCpu}, all postgres ${u.pgAllCpu}` : '') +
  `, this bench ${u.benchCpu}, machine ${u.machineBusy} of 2` +
  (u.commitsPerS !== undefined
    ? `; ${u.commitsPerS} commits/s, WAL ${u.walSyncsPerS} syncs/s ${u.walWritesPerS} writes/s ${u.walMiBPerS} MiB/s (${u.walSyncsPerCommit} syncs per commit), ` +
      `${u.activeBackends} backends active: ${Object.entries(u.waits ?? {})
        .slice(0, 5)
        .map(([k, v]) => `${k} ${Math.round(v * 100)}%`)
        .join(', ')}`
    : '');

{
  const broker = await benchKafka();
  const { bootstrap } = broker;
  const counter = await TopicCounter.open(bootstrap);
  const timed = makeWorkload(42, Number(values.mutations), batchSize);
  const loadBefore = machineLoad();
  console.log(
    `sides ${sides.map((s) => s.name).join(', ')}; batches: ${timed.mutations} mutations (${timed.cdcRecords} CDC records) of ${batchSize} with ${concurrency} clients; ` +
      `reads and the ${Math.round(readShare * 100)}/${Math.round((1 - readShare) * 100)} mix: ${clients} clients for ${seconds} s each over ${edges} edges; ` +
      `pool ${values.pool} per instance; ${rounds} rounds; ${loadLine()}`,
  );
  const perRound: { round: number; order: string[]; load1: number; results: Record<string, SideResult> }[] = [];
  for (let r = 0; r < rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    const row = { round: r + 1, order: order.map((s) => s.name), load1: machineLoad().load1, results: {} as Record<string, SideResult> };
    for (const side of order) {
      const res = await runSide(side, bootstrap, counter, timed, r);
      row.results[side.name] = res;
      console.log(
        `round ${r + 1} ${side.name} (load ${machineLoad().load1}): batches ${Math.round(res.batch.ackRate)}/s acked, ${Math.round(res.batch.e2eRate)}/s end to end ` +
          `(drain ${Math.round(res.batch.drainMs)} ms, p50 ${res.batch.p50Ms.toFixed(0)} ms p99 ${res.batch.p99Ms.toFixed(0)} ms)\n    ${fmtUsage(res.batch.usage)}\n` +
          `  reads ${Math.round(res.reads.rps)}/s p50 ${res.reads.p50Ms.toFixed(2)} ms p99 ${res.reads.p99Ms.toFixed(2)} ms\n    ${fmtUsage(res.reads.usage)}\n` +
          `  mix ${Math.round(res.mix.rps)} req/s (${Math.round(res.mix.perInstance)} per instance, ${Math.round(res.mix.perCoreCpuSecond)} per CPU-second of the cores): ` +
          `read p50 ${res.mix.readP50Ms.toFixed(2)} p99 ${res.mix.readP99Ms.toFixed(2)} ms, write p50 ${res.mix.writeP50Ms.toFixed(2)} p99 ${res.mix.writeP99Ms.toFixed(2)} ms, errors ${res.mix.errors}\n    ${fmtUsage(res.mix.usage)}`,
      );
    }
    perRound.push(row);
  }
  await counter.close();
  await broker.stop();

  const base = 'sqlite-1';
  const rows: ResultRow[] = [];
  const series = (side: string, f: (s: SideResult) => number) => perRound.map((r) => f(r.results[side]!));
  const ratios = (side: string, f: (s: SideResult) => number, against = base) => perRound.map((r) => f(r.results[side]!) / f(r.results[against]!));
  const metrics: [string, string, (s: SideResult) => number, boolean][] = [
    ['batch mutations/s, end to end (CDC on Kafka)', 'mutations/s', (s) => s.batch.e2eRate, true],
    ['batch mutations/s, acknowledged', 'mutations/s', (s) => s.batch.ackRate, true],
    ['batch p99', 'ms', (s) => s.batch.p99Ms, false],
    ['reads/s', 'reads/s', (s) => s.reads.rps, true],
    ['read p50', 'ms', (s) => s.reads.p50Ms, false],
    ['read p99', 'ms', (s) => s.reads.p99Ms, false],
    ['85/15 requests/s', 'req/s', (s) => s.mix.rps, true],
    ['85/15 requests per CPU-second of the cores', 'req/CPU-s', (s) => s.mix.perCoreCpuSecond, true],
    ['85/15 read p99', 'ms', (s) => s.mix.readP99Ms, false],
    ['85/15 write p50', 'ms', (s) => s.mix.writeP50Ms, false],
    ['85/15 write p99', 'ms', (s) => s.mix.writeP99Ms, false],
  ];
  for (const [label, unit, f, scaled] of metrics)
    for (const s of sides) {
      const ratio = s.name !== base ? spread(ratios(s.name, f)) : undefined;
      rows.push({ name: `${s.name}: ${label}`, unit, value: spread(series(s.name, f)), ...(ratio && { ratio, baseline: base }) });
      if (scaled && s.store === 'postgres' && s.n > 1 && sides.some((x) => x.name === 'pg-1'))
        rows.push({ name: `${s.name}: ${label}, over pg-1`, unit: '×', value: spread(ratios(s.name, f, 'pg-1')) });
    }
  const usageOf = (s: string, phase: 'batch' | 'mix') => perRound.map((r) => r.results[s]![phase].usage);
  const loadAfter = machineLoad();
  emitResult({
    bench: 'core-pg-scaling',
    rounds,
    params: { instances: instanceCounts, mutations: timed.mutations, batch: batchSize, concurrency, edges, seconds, clients, readShare, pool: Number(values.pool) },
    load: { before: loadBefore, after: loadAfter },
    rows,
    notes: sides.flatMap((s) =>
      (['batch', 'mix'] as const).map((phase) => `${s.name} ${phase}, per round: ${usageOf(s.name, phase).map(fmtUsage).join(' | ')}`),
    ),
    ...{ perRound },
  } as Parameters<typeof emitResult>[0]);
}
