/**
 * What the core benchmarks share: the machine's load, round statistics, end-to-end clocks on Kafka's
 * end offsets, the core's RSS and file sizes, a keep-alive HTTP client, and the JSON result.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { createKafka, type Admin } from '@pipeline/kafka';
import { ensureKafka, producerPerformance, stackDir, startKafka, stopKafka } from '@pipeline/stack';
import { CoreProcess, waitFor } from '@pipeline/testing';

/**
 * The broker the bench runs on: the stack's shared one, or with BENCH_KAFKA=private a broker of its own
 * (folder `${STACK_DIR}/bench-kafka`, ports BENCH_KAFKA_PORT / +1, default 19092/19093), started for
 * the run and stopped after it, so that nothing else on the machine writes to it or restarts it mid-run.
 */
export async function benchKafka(): Promise<{ bootstrap: string; stop(): Promise<void> }> {
  if (process.env['BENCH_KAFKA'] !== 'private') return { bootstrap: (await ensureKafka()).bootstrap, stop: async () => undefined };
  const port = Number(process.env['BENCH_KAFKA_PORT'] ?? 19092);
  const opts = { dir: join(stackDir(), 'bench-kafka'), port, controllerPort: port + 1, readyTimeoutMs: 180_000 };
  const { bootstrap } = await startKafka(opts);
  // A broker just started runs its JVM cold: the first rounds would pay its JIT. Warm it the same way for every side.
  const topic = `bench-warmup.${Date.now().toString(36)}`;
  const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-warmup' }).admin();
  try {
    await admin.ensureTopics([{ name: topic, partitions: 6 }]);
    await producerPerformance({ bootstrap, topic, records: 200_000, recordSize: 600 });
    await admin.deleteTopics([topic]);
  } finally {
    await admin.close();
  }
  return { bootstrap, stop: async () => void (await stopKafka(opts)) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The machine as the run saw it: cores and load averages (1, 5, 15 min). */
export function machine(): { cores: number; load1: number; load5: number; load15: number } {
  const [l1, l5, l15] = loadavg();
  return { cores: cpus().length, load1: +l1!.toFixed(2), load5: +l5!.toFixed(2), load15: +l15!.toFixed(2) };
}

export const loadLine = () => {
  const m = machine();
  return `load ${m.load1} / ${m.load5} / ${m.load15} on ${m.cores} cores`;
};

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export function spread(xs: number[], digits = 0): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const r = (x: number) => +x.toFixed(digits);
  return { min: r(s[0] ?? NaN), median: r(s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2), max: r(s[s.length - 1] ?? NaN) };
}

export const fmtSpread = (s: Spread, unit = '') => `${s.median}${unit} (min ${s.min}, max ${s.max})`;

/** Records on a topic, summed over its partitions (the high watermarks): every acknowledged record counts. */
export class TopicCounter {
  private constructor(private readonly admin: Admin) {}
  static async open(bootstrap: string): Promise<TopicCounter> {
    return new TopicCounter(await createKafka({ brokers: [bootstrap], clientId: 'bench-counter' }).admin());
  }
  async count(topic: string): Promise<number> {
    let n = 0n;
    for (const v of (await this.admin.endOffsets(topic)).values()) n += v;
    return Number(n);
  }
  /**
   * Polls until `topic` holds at least `target` records; returns performance.now() of the first poll
   * that saw them (the clock's resolution is one poll, ~5 ms plus the request).
   */
  async until(topic: string, target: number, timeoutMs = 600_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = await this.count(topic);
      const at = performance.now();
      if (n >= target) return at;
      if (Date.now() > deadline) throw new Error(`${topic} holds ${n} records after ${timeoutMs} ms, ${target} expected`);
      await sleep(5);
    }
  }
  close(): Promise<void> {
    return this.admin.close();
  }
}

/** Resident and peak resident memory of a process, MiB (Linux /proc). */
export function rssOf(pid: number): { rssMiB: number; peakRssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rssMiB: Math.round(kb('VmRSS') / 1024), peakRssMiB: Math.round(kb('VmHWM') / 1024) };
}

/** CPU seconds a process has used so far, all its threads (utime + stime; clock ticks of 1/100 s on Linux). */
export function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** SQLite's database file plus its WAL file, MiB. */
export function storageMiB(path: string): number {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return +((size(path) + size(`${path}-wal`)) / 2 ** 20).toFixed(1);
}

/** Average size in bytes of the first `n` records' values on a topic (read with kcat, outside the project). */
export async function averageRecordBytes(bootstrap: string, topic: string, n = 500): Promise<number> {
  const { stdout } = await promisify(execFile)('kcat', ['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-c', String(n), '-e', '-q', '-f', '%S\n'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const sizes = stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((x) => x > 200); // leave out the heartbeat
  return Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, sizes.length));
}

/** A keep-alive HTTP client: fetch costs the load generator more CPU than the requests it times. */
export class HttpClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;
  constructor(url: string, maxSockets = 64) {
    const u = new URL(url);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }
  send(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method, path, agent: this.agent, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
  close(): void {
    this.agent.destroy();
  }
}

/** `--json <file>` writes the result there; every core bench also prints it as its last line. */
export function emit(jsonFile: string | undefined, result: Record<string, unknown>): void {
  const line = JSON.stringify(result);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(result, null, 2) + '\n');
  console.log(line);
}

export const SHOP_LIKES_PATH = '/graph/v3/databases/shop/tables/likes/edges';

export interface Workload {
  /** Request bodies, already JSON (the same text on every side). */
  bodies: string[];
  mutations: number;
  /** CDC records the bodies make: one per distinct edge key per request. */
  cdcRecords: number;
}

/** Deterministic workload: 20% deletes, users and products drawn over a wide key space. */
export function makeWorkload(seed: number, count: number, batch: number): Workload {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  const w: Workload = { bodies: [], mutations: 0, cdcRecords: 0 };
  for (let b = 0; b < count / batch; b++) {
    const mutations = [];
    const keys = new Set<string>();
    for (let i = 0; i < batch; i++) {
      const v = seed * 1e9 + b * batch + i + 1;
      const del = rnd() % 5 === 0;
      const source = `u${rnd() % 50_000}`;
      const target = rnd() % 20_000;
      keys.add(`${source}:${target}`);
      mutations.push({ type: del ? 'DELETE' : 'INSERT', edge: { version: v, source, target, properties: del ? {} : { created_at: v } } });
    }
    const body = { mutations };
    w.bodies.push(JSON.stringify(body));
    w.mutations += batch;
    w.cdcRecords += keys.size;
  }
  return w;
}

/** Sends `bodies` with `concurrency` clients; returns the latency of each request. */
/**
 * Sends `bodies` with `clients` concurrent senders; latency of each request. Given several cores' clients,
 * sender i always talks to core i mod n.
 */
export async function sendAll(client: HttpClient | readonly HttpClient[], bodies: string[], clients: number): Promise<number[]> {
  const cores: readonly HttpClient[] = client instanceof HttpClient ? [client] : client;
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const client = cores[c % cores.length]!;
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const s = performance.now();
        const r = await client.send('POST', SHOP_LIKES_PATH, body);
        if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 500)}`);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return latencies;
}


/**
 * Samples the core's CDC backlog (`/graph/health/details`, O(1) in the core) every `everyMs` until
 * stopped: a relay that keeps pace holds it flat under load, one that falls behind lets it grow.
 */
export function backlogSampler(url: string, everyMs = 250): { stop(): Promise<{ peak: number; samples: number[] }> } {
  const client = new HttpClient(url, 1);
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await client.send('GET', '/graph/health/details').catch(() => undefined);
      const n = r && r.status === 200 ? (JSON.parse(r.text) as { cdcBacklog?: number }).cdcBacklog : undefined;
      if (typeof n === 'number') samples.push(n);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      client.close();
      return { peak: Math.max(0, ...samples), samples };
    },
  };
}

/**
 * The core of another checkout (`--before` / `--against <dir>`: `<dir>/apps/actionbase/src/main.ts`, e.g. a
 * `git worktree` of the commit before a change, with node_modules linked in), started as CoreProcess starts
 * this one, so that before and after run side by side in one run.
 */
export class CoreAt extends CoreProcess {
  constructor(
    private readonly root: string,
    env: Record<string, string>,
  ) {
    super(env);
  }
  override async start(): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, ['--import', 'tsx', join(this.root, 'apps/actionbase/src/main.ts')], {
      cwd: this.root,
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(`the core of ${this.root} on ${this.url}`, async () => {
      if (this.child?.exitCode !== null) throw new Error(`core exited: ${this.output.slice(-2000)}`);
      return (await fetch(`${this.url}/graph/health/readiness`).catch(() => undefined))?.ok;
    });
  }
}
