/**
 * Health under load: eight clients send 7 MiB mutation batches (10,000 inserts each) to the core (real
 * Kafka, the core in its own process) while a prober calls /graph/health/readiness and
 * /graph/health/liveness in turn, every 10 ms. The baseline, in the same round: the same load without
 * the prober, so that the throughput ratio shows what probing costs and the probe latency shows whether
 * the core's event loop stays responsive under its heaviest load.
 *   npx tsx bench/core-health-under-load.ts [--clients 8] [--batches 1] [--items 10000] [--rounds 3] [--json out.json]
 *     [--against <dir>]
 *
 * One core serves the whole run (its data grows from phase to phase; the order of the two phases
 * alternates from round to round, so neither always runs on the smaller store). Round 0 warms both up
 * and is not counted. The prober runs in a worker thread of its own, as a kubelet probes from outside:
 * in the load generator's thread its timings would include that thread's own waits (eight uploads).
 * Reported: probe p50/p99/max (readiness and liveness, per round and pooled), mutations/s with and
 * without the prober and their ratio per round, the core's peak RSS (VmHWM) and the machine's load.
 * BENCH_CORE_NODE_OPTIONS is handed to the core as NODE_OPTIONS (e.g. `--cpu-prof` to profile it).
 *
 * Before/after in one run: `--against <dir>` starts a second core from another checkout of the repository
 * (e.g. the commit before a change, exported with `git archive`, with this checkout's node_modules, libs
 * and tsconfig files linked in), BENCH_AGAINST_NODE_OPTIONS its NODE_OPTIONS (so `--against .` compares
 * V8 flags). Both cores serve the whole run, one at a time; each round runs the four phases (each core
 * with and without the prober), the cores' order alternating from round to round and the order of each
 * core's two phases rotating, and the figures of this checkout's core are also given as ratios to the
 * other core's in the same round.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { ensureKafka } from '@pipeline/stack';
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { api, CoreProcess, freePort, uniqueName, waitFor } from '@pipeline/testing';
import { emitResult, machineLoad, pairedRatios, printLoad, spread, type ResultRow } from './lib/report';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    batches: { type: 'string', default: '1' },
    items: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    json: { type: 'string' },
    against: { type: 'string' },
  },
});
const clients = Number(values.clients);
const batches = Number(values.batches);
const items = Number(values.items);
const rounds = Number(values.rounds);
const path = '/graph/v3/databases/bench/tables/notes/edges';
const PROBE_PERIOD_MS = 10;

async function createTable(url: string): Promise<void> {
  await api(url, 'POST', '/graph/v3/databases', { database: 'bench', comment: 'bench' });
  // Actionbase's documented table body (metadata.mdx), which the core accepts as is.
  const r = await api(url, 'POST', '/graph/v3/databases/bench/tables', {
    table: 'notes',
    schema: {
      type: 'EDGE',
      source: { type: 'string', comment: '' },
      target: { type: 'long', comment: '' },
      properties: [
        { name: 'created_at', type: 'long', nullable: false, comment: '' },
        { name: 'note', type: 'string', nullable: true, comment: '' },
      ],
      direction: 'BOTH',
      indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }], comment: '' }],
      groups: [],
    },
    storage: 'datastore://default/notes',
    mode: 'SYNC',
    comment: 'bench',
  });
  if (r.status !== 200) throw new Error(`cannot create the bench table: ${JSON.stringify(r.body)}`);
}

/** A ~7 MiB batch of `items` inserts; `salt` keeps the keys of each phase, client and batch apart. */
function batch(salt: string): string {
  const note = 'n'.repeat(620);
  const mutations = Array.from({ length: items }, (_, i) => ({
    type: 'INSERT',
    edge: { version: 1_000 + i, source: `${salt}-u${i % 1000}`, target: i, properties: { created_at: 1_000 + i, note } },
  }));
  return JSON.stringify({ mutations });
}

interface Load {
  mutations: number;
  secs: number;
  /** Answers 503 (admission control) that were retried after their Retry-After. */
  retried: number;
}

/** Every client sends its batches one after the other; the clock runs from the first send to the last answer. */
async function load(url: string, phase: string): Promise<Load> {
  const bodies = Array.from({ length: clients }, (_, c) => Array.from({ length: batches }, (_, b) => batch(`${phase}-${c}-${b}`)));
  let retried = 0;
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (own) => {
      for (const body of own) {
        for (;;) {
          const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await res.text();
          if (res.status === 200) break;
          if (res.status === 503) {
            retried++;
            await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
            continue;
          }
          throw new Error(`batch answered ${res.status}: ${text.slice(0, 300)}`);
        }
      }
    }),
  );
  return { mutations: clients * batches * items, secs: (performance.now() - t0) / 1000, retried };
}

interface Probes {
  readiness: number[];
  liveness: number[];
  /** CPU time of the prober's thread (its own cost on the shared machine). */
  cpuMs?: number;
}

/** The prober's code, run in a worker thread (plain JS, so it needs no loader). */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, periodMs } = workerData;
// node:http on one kept-alive connection: fetch cost the prober's thread ~1.2 ms of CPU per probe, taken
// from the machine the core runs on.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (path) =>
  new Promise((resolve, reject) => {
    const req = http.get(url + path, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
const out = { readiness: [], liveness: [] };
let running = true;
let failure = null;
parentPort.on('message', () => (running = false));
(async () => {
  for (let i = 0; running; i++) {
    const which = i % 2 === 0 ? 'readiness' : 'liveness';
    const t = performance.now();
    try {
      const status = await get('/graph/health/' + which);
      out[which].push(performance.now() - t);
      if (status !== 200) failure = 'health ' + which + ' answered ' + status;
    } catch (err) {
      failure = 'health ' + which + ': ' + err.message;
    }
    await new Promise((r) => setTimeout(r, periodMs));
  }
  agent.destroy();
  const cpu = process.threadCpuUsage();
  parentPort.postMessage({ ...out, failure, cpuMs: (cpu.user + cpu.system) / 1000 });
})();
`;

function prober(url: string): { stop(): Promise<Probes> } {
  const worker = new Worker(PROBER, { eval: true, workerData: { url, periodMs: PROBE_PERIOD_MS } });
  const result = new Promise<Probes>((resolve, reject) => {
    worker.once('message', (m: Probes & { failure: string | null }) => (m.failure ? reject(new Error(m.failure)) : resolve(m)));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      try {
        return await result;
      } finally {
        await worker.terminate();
      }
    },
  };
}

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** CPU seconds the core's process has used so far (all its threads: utime + stime). */
function coreCpuSecs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, 100 per second on Linux
}

/** The core's resident memory now and at its peak so far (VmRSS, VmHWM), in MiB. */
function coreMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** A core started from another checkout (`--against`): its own main.ts, run from that directory. */
class OtherCore {
  child: ChildProcess | null = null;
  output = '';
  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}
  get url(): string {
    return `http://127.0.0.1:${this.env['PORT']}`;
  }
  async start(): Promise<void> {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(this.dir, 'apps/actionbase/src/main.ts')], {
      cwd: this.dir,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    this.child.stderr!.on('data', (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000)));
    await waitFor(`the core from ${this.dir} on ${this.url}`, async () => {
      if (this.child?.exitCode !== null) throw new Error(`core from ${this.dir} exited: ${this.output}`);
      return (await fetch(`${this.url}/graph/health/readiness`).catch(() => undefined))?.ok;
    });
  }
  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await done;
  }
}

interface Side {
  name: string;
  url: string;
  pid: number;
  withRates: number[];
  withoutRates: number[];
  /** Mutations per CPU-second of the core's process, with and without the prober. */
  withPerCpu: number[];
  withoutPerCpu: number[];
  p99s: { readiness: number[]; liveness: number[]; both: number[] };
  pooled: Probes;
}

/** The cores' storage folders, removed at the end (each grows to about 1 GB over a run). */
const storageDirs: string[] = [];

async function coreEnv(prefix: string, nodeOptions: string | undefined): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  storageDirs.push(dir);
  return {
    PORT: String(await freePort()),
    KAFKA_BROKERS: bootstrap,
    WAL_TOPIC: uniqueName(`${prefix}.wal`),
    CDC_TOPIC: uniqueName(`${prefix}.cdc`),
    STORAGE_PATH: join(dir, 'core.db'),
    LOG_LEVEL: 'warn',
    // On a shared machine eight 7 MiB uploads can take longer to arrive than the 30 s default allows.
    REQUEST_TIMEOUT_MS: '300000',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  };
}

const loadBefore = printLoad('before');
const bootstrap = (await ensureKafka()).bootstrap;
const core = new CoreProcess(await coreEnv('bench-health', process.env['BENCH_CORE_NODE_OPTIONS']));
const other = values.against ? new OtherCore(resolve(values.against), await coreEnv('bench-health-against', process.env['BENCH_AGAINST_NODE_OPTIONS'])) : undefined;
await core.start();
try {
  await other?.start();
  const sides: Side[] = [];
  const sideOf = (name: string, url: string, pid: number): Side => ({
    name,
    url,
    pid,
    withRates: [],
    withoutRates: [],
    withPerCpu: [],
    withoutPerCpu: [],
    p99s: { readiness: [], liveness: [], both: [] },
    pooled: { readiness: [], liveness: [] },
  });
  sides.push(sideOf('core', core.url, core.child!.pid!));
  if (other) sides.push(sideOf('against', other.url, other.child!.pid!));
  for (const s of sides) await createTable(s.url);
  const mib = Buffer.byteLength(batch('size')) / 2 ** 20;
  console.log(`${clients} clients × ${batches} batches × ${items} mutations (${mib.toFixed(2)} MiB per request) per phase; ${rounds} rounds after a warm-up round`);
  if (other) console.log(`against: the core from ${other.dir}${process.env['BENCH_AGAINST_NODE_OPTIONS'] ? ` with NODE_OPTIONS=${process.env['BENCH_AGAINST_NODE_OPTIONS']}` : ''}`);
  let retried = 0;

  for (let round = 0; round <= rounds; round++) {
    const cores = round % 2 === 0 ? sides : [...sides].reverse();
    const phases = cores.flatMap((s, i) => (((round >> 1) + i) % 2 === 0 ? ['without', 'with'] : ['with', 'without']).map((side) => ({ s, side: side as 'with' | 'without' })));
    for (const { s, side } of phases) {
      const p = side === 'with' ? prober(s.url) : undefined;
      const cpu0 = coreCpuSecs(s.pid);
      const r = await load(s.url, `r${round}-${side}`);
      const cpu = coreCpuSecs(s.pid) - cpu0;
      const probes = await p?.stop();
      retried += r.retried;
      const rate = r.mutations / r.secs;
      const perCpu = r.mutations / cpu;
      let line = `round ${round}${round === 0 ? ' (warm-up)' : ''}, ${sides.length > 1 ? `${s.name}, ` : ''}${side} the prober: ${Math.round(rate)} mutations/s, ${Math.round(perCpu)} per CPU-second of the core`;
      if (probes) {
        const both = [...probes.readiness, ...probes.liveness];
        line += `; prober thread ${((probes.cpuMs ?? NaN) / both.length).toFixed(2)} ms CPU per probe; health p50 ${pct(both, 50).toFixed(1)} ms, p99 readiness ${pct(probes.readiness, 99).toFixed(1)} ms, liveness ${pct(probes.liveness, 99).toFixed(1)} ms, max ${Math.max(...both).toFixed(1)} ms (${both.length} probes)`;
        if (round > 0) {
          s.p99s.readiness.push(pct(probes.readiness, 99));
          s.p99s.liveness.push(pct(probes.liveness, 99));
          s.p99s.both.push(pct(both, 99));
          s.pooled.readiness.push(...probes.readiness);
          s.pooled.liveness.push(...probes.liveness);
        }
      }
      console.log(`${line}; load ${machineLoad().load1}`);
      if (round > 0) {
        (side === 'with' ? s.withRates : s.withoutRates).push(rate);
        (side === 'with' ? s.withPerCpu : s.withoutPerCpu).push(perCpu);
      }
    }
  }
  const rows: ResultRow[] = [];
  const params: Record<string, unknown> = { clients, batches, items, requestMiB: +mib.toFixed(2), probePeriodMs: PROBE_PERIOD_MS, retried503: retried };
  const notes: string[] = [];
  for (const s of sides) {
    const memory = coreMemory(s.pid);
    const both = [...s.pooled.readiness, ...s.pooled.liveness];
    const of = sides.length > 1 ? ` (${s.name})` : '';
    rows.push(
      { name: `health p99, readiness and liveness (per round)${of}`, unit: 'ms', value: spread(s.p99s.both), target: 100 },
      { name: `health p99, readiness (per round)${of}`, unit: 'ms', value: spread(s.p99s.readiness) },
      { name: `health p99, liveness (per round)${of}`, unit: 'ms', value: spread(s.p99s.liveness) },
      { name: `mutations/s without the prober${of}`, unit: '/s', value: spread(s.withoutRates) },
      {
        name: `mutations/s with the prober${of}`,
        unit: '/s',
        value: spread(s.withRates),
        ratio: spread(pairedRatios(s.withRates, s.withoutRates)),
        baseline: 'the same load without the prober',
        target: 0.9,
      },
      {
        name: `mutations per CPU-second of the core, with the prober${of}`,
        unit: '/s',
        value: spread(s.withPerCpu),
        ratio: spread(pairedRatios(s.withPerCpu, s.withoutPerCpu)),
        baseline: 'the same without the prober',
      },
      { name: `core peak RSS (VmHWM, whole run)${of}`, unit: 'MiB', value: spread([memory.hwm]) },
    );
    const key = sides.length > 1 ? `${s.name}.` : '';
    Object.assign(params, {
      [`${key}probes`]: both.length,
      [`${key}pooledP50Ms`]: +pct(both, 50).toFixed(1),
      [`${key}pooledP99Ms`]: +pct(both, 99).toFixed(1),
      [`${key}pooledP99ReadinessMs`]: +pct(s.pooled.readiness, 99).toFixed(1),
      [`${key}pooledP99LivenessMs`]: +pct(s.pooled.liveness, 99).toFixed(1),
      [`${key}pooledMaxMs`]: +Math.max(...both).toFixed(1),
      [`${key}corePeakRssMiB`]: Math.round(memory.hwm),
    });
    notes.push(`${s.name}: pooled over the counted rounds: health p50 ${pct(both, 50).toFixed(1)} ms, p99 ${pct(both, 99).toFixed(1)} ms, max ${Math.max(...both).toFixed(1)} ms over ${both.length} probes`);
  }
  if (sides.length > 1) {
    const [a, b] = sides as [Side, Side];
    rows.push(
      { name: 'health p99, this core against the other (per round)', unit: 'ms', value: spread(a.p99s.both), ratio: spread(pairedRatios(a.p99s.both, b.p99s.both)), baseline: 'the --against core' },
      { name: 'mutations/s with the prober, this core against the other', unit: '/s', value: spread(a.withRates), ratio: spread(pairedRatios(a.withRates, b.withRates)), baseline: 'the --against core' },
      { name: 'mutations/s without the prober, this core against the other', unit: '/s', value: spread(a.withoutRates), ratio: spread(pairedRatios(a.withoutRates, b.withoutRates)), baseline: 'the --against core' },
    );
  }
  notes.push(`${retried} batches answered 503 and were retried`);
  emitResult({ bench: 'core-health-under-load', rounds, params, load: { before: loadBefore, after: machineLoad() }, rows, notes });
} catch (err) {
  // What the cores said (their logs are at warn): a 500 says only "see the server log".
  console.error(`the core's output:\n${core.output.slice(-3000)}`);
  if (other) console.error(`the --against core's output:\n${other.output}`);
  throw err;
} finally {
  await other?.stop();
  await core.stop('SIGTERM');
  for (const dir of storageDirs) rmSync(dir, { recursive: true, force: true });
}
