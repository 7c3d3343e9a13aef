/**
 * Health under load: eight clients send 7 MiB mutation batches to the core (real Kafka, child process)
 * while a prober calls /graph/health/readiness and /graph/health/liveness every 10 ms. Measured in the
 * same run: the same load without the prober (baseline), so the throughput ratio shows what probing
 * costs, and the probe latency shows whether the event loop stays responsive under the heaviest load.
 *   npx tsx bench/core-health-under-load.ts [--clients 8] [--rounds 1] [--items 10000] [--json out.json]
 * Prints health p50/p99/max, mutations/s with and without the prober and their ratio, the core's
 * peak RSS (VmHWM) and the machine's load; the last line is the JSON result (also written to --json).
 *
 * Measured on a 2-core machine shared with other workloads (load average ~20, so the core got a small
 * share of one core), three runs as the core changed:
 *   all batches parsed at once, 500-item slices:       p50 264 ms, p99 5,036 ms, ratio 0.83, RSS 1,217 MiB
 *   two big bodies at a time, 250-item slices:          p50  68 ms, p99   673 ms, ratio 0.70, RSS   833 MiB
 *   and the body's array parsed in 250-element slices:  p50  52 ms, p99   451 ms, ratio 0.90, RSS   822 MiB
 * (1,544 mutations/s without the prober, 1,385 with it, in the last run.) The p99 target of 100 ms is
 * not met on that machine; the remaining pauses are single slices and garbage collection stretched by
 * CPU starvation. On the same machine idle: p50 11 ms, p99 188 ms, max 367 ms, 8,564 vs 7,641
 * mutations/s (ratio 0.89), peak RSS 1,235 MiB: still above the 100 ms target.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, freePort, uniqueName } from '@pipeline/testing';
import { emit, machine } from './core-common';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '1' },
    items: { type: 'string', default: '10000' },
    json: { type: 'string' },
  },
});
const clients = Number(values.clients);
const rounds = Number(values.rounds);
const items = Number(values.items);
const path = '/graph/v3/databases/bench/tables/notes/edges';

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

/** A ~7 MiB batch of `items` inserts; `salt` keeps the keys of each phase, client and round apart. */
function batch(salt: string): string {
  const note = 'n'.repeat(620);
  const mutations = Array.from({ length: items }, (_, i) => ({
    type: 'INSERT',
    edge: { version: 1_000 + i, source: `${salt}-u${i % 1000}`, target: i, properties: { created_at: 1_000 + i, note } },
  }));
  return JSON.stringify({ mutations });
}

async function load(url: string, phase: string): Promise<{ mutations: number; secs: number }> {
  const bodies = Array.from({ length: clients }, (_, c) => Array.from({ length: rounds }, (_, r) => batch(`${phase}-${c}-${r}`)));
  const t0 = performance.now();
  await Promise.all(
    bodies.map(async (own) => {
      for (const body of own) {
        for (;;) {
          const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          const text = await res.text();
          if (res.status === 200) break;
          if (res.status === 503) {
            await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
            continue;
          }
          throw new Error(`batch answered ${res.status}: ${text.slice(0, 300)}`);
        }
      }
    }),
  );
  return { mutations: clients * rounds * items, secs: (performance.now() - t0) / 1000 };
}

function prober(url: string): { stop(): Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    let i = 0;
    while (running) {
      const which = i++ % 2 === 0 ? 'readiness' : 'liveness';
      const t = performance.now();
      const res = await fetch(`${url}/graph/health/${which}`);
      await res.text();
      latencies.push(performance.now() - t);
      if (!res.ok) throw new Error(`health ${which} answered ${res.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return latencies;
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

const bootstrap = (await ensureKafka()).bootstrap;
const core = new CoreProcess({
  PORT: String(await freePort()),
  KAFKA_BROKERS: bootstrap,
  WAL_TOPIC: uniqueName('bench-health.wal'),
  CDC_TOPIC: uniqueName('bench-health.cdc'),
  STORAGE_PATH: join(mkdtempSync(join(tmpdir(), 'bench-health-')), 'core.db'),
  LOG_LEVEL: 'warn',
  // On a shared machine eight 7 MiB uploads can take longer to arrive than the 30 s default allows.
  REQUEST_TIMEOUT_MS: '300000',
});
await core.start();
try {
  await createTable(core.url);
  const sample = batch('size');
  console.log(`${clients} clients × ${rounds} rounds × ${items} mutations, ${(Buffer.byteLength(sample) / 2 ** 20).toFixed(2)} MiB per request`);

  await load(core.url, 'warmup');
  const baseline = await load(core.url, 'baseline');
  const p = prober(core.url);
  const probed = await load(core.url, 'probed');
  const latencies = await p.stop();
  const status = readFileSync(`/proc/${core.child!.pid}/status`, 'utf8');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);

  const rate = (x: { mutations: number; secs: number }) => x.mutations / x.secs;
  const result = {
    bench: 'core-health-under-load',
    machine: machine(),
    healthProbes: latencies.length,
    healthP50Ms: +pct(latencies, 50).toFixed(1),
    healthP99Ms: +pct(latencies, 99).toFixed(1),
    healthMaxMs: +Math.max(...latencies).toFixed(1),
    mutationsPerSecWithoutProber: Math.round(rate(baseline)),
    mutationsPerSecWithProber: Math.round(rate(probed)),
    throughputRatio: +(rate(probed) / rate(baseline)).toFixed(3),
    corePeakRssMiB: Math.round(hwmKb / 1024),
  };
  emit(values.json, result);
} finally {
  await core.stop('SIGTERM');
}
