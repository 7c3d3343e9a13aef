/**
 * Async delay of the processor: from the core's QUEUED answer to the view being visible through the core's
 * REST API (`edges/counts`), on the real Kafka and a real core, with the processor as its own process.
 * Baseline, measured in the same run: the same write on a SYNC table (visible when answered).
 *
 *   npx tsx bench/async-processor.ts [seconds per scenario, default 6] [catchup] [--json <file>]
 *
 * Every view has its own user, so one `edges/counts?start=...` call tells which pending views became visible;
 * the poller runs continuously (one call in flight), which bounds the measurement's resolution by that
 * call's duration (printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, freePort, repoRoot, tempStorage, uniqueName, waitFor } from '@pipeline/testing';
import { emitResult, positionalArgs, printLoad, spread, type ResultRow } from './lib/report';

const args = positionalArgs();
const SECONDS = Number(args[0] ?? 6);
/** `npx tsx bench/async-processor.ts 6 catchup`: only the catch-up figure. */
const CATCHUP_ONLY = args[1] === 'catchup';
const loadBefore = printLoad('before');
const resultRows: ResultRow[] = [];
const { bootstrap } = await ensureKafka();
const wal = uniqueName('bench.ap.wal');
const core = new CoreProcess({
  PORT: String(await freePort()),
  KAFKA_BROKERS: bootstrap,
  WAL_TOPIC: wal,
  CDC_TOPIC: uniqueName('bench.ap.cdc'),
  WAL_PARTITIONS: '3',
  CDC_PARTITIONS: '3',
  STORAGE_PATH: tempStorage(),
  LOG_LEVEL: 'warn',
});
const children = new Set<ChildProcess>();
// A failed run must not leave a core or a processor behind.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  core.child?.kill('SIGKILL');
});
await core.start();
const url = core.url;
await api(url, 'POST', '/graph/v3/databases', { database: 'shop' });
for (const [table, mode] of [['views_async', 'ASYNC'], ['views_sync', 'SYNC']] as const) {
  await api(url, 'POST', '/graph/v3/databases/shop/tables', {
    table,
    schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'viewed_at', type: 'LONG', nullable: false }] },
    direction: 'BOTH',
    indexes: [{ index: 'recent', fields: [{ field: 'viewed_at', order: 'DESC' }] }],
    mode,
  });
}

let lastPort = 0;
let lastOutput = () => '';
async function startProcessor(env: Record<string, string>): Promise<ChildProcess> {
  const port = (lastPort = await freePort());
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/async-processor/src/main.ts')], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', KAFKA_BROKERS: bootstrap, WAL_TOPIC: wal, CORE_URL: url, HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  lastOutput = () => output;
  await waitFor('processor ready', async () => {
    if (child.exitCode !== null) throw new Error(output);
    return (await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined))?.ok;
  }, 60_000);
  return child;
}

const stop = (c: ChildProcess) =>
  new Promise<void>((r) => {
    if (c.exitCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
  });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

let run = 0;
let failedRequests = 0;
/** Sends `rps` requests/s of `perRequest` views each for SECONDS; returns the per-view delay (ms). */
async function measure(table: string, rps: number, perRequest: number): Promise<{ delays: number[]; pollMs: number }> {
  run++;
  const pending = new Map<string, number>(); // user -> QUEUED answered at
  const delays: number[] = [];
  const sync = table === 'views_sync';
  let sending = true;
  let polls = 0;
  let pollTime = 0;
  const poller = (async () => {
    let deadline = Infinity;
    while (sending || pending.size > 0) {
      if (!sending && deadline === Infinity) deadline = performance.now() + 60_000;
      if (performance.now() > deadline) {
        console.log(`  ${pending.size} views not visible 60 s after the last request: left out`);
        break;
      }
      const users = [...pending.keys()].slice(0, 500);
      if (users.length === 0) {
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      const t = performance.now();
      const r = await api(url, 'GET', `/graph/v3/databases/shop/tables/${table}/edges/counts?start=${users.join(',')}&direction=OUT`);
      const now = performance.now();
      polls++;
      pollTime += now - t;
      for (const c of r.body.counts as { start: string; count: number }[]) {
        const at = pending.get(String(c.start));
        if (c.count > 0 && at !== undefined) {
          delays.push(now - at);
          pending.delete(String(c.start));
        }
      }
    }
  })();
  const t0 = performance.now();
  const inflight: Promise<void>[] = [];
  let n = 0;
  for (let i = 0; performance.now() - t0 < SECONDS * 1000; i++) {
    const due = t0 + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const mutations = Array.from({ length: perRequest }, () => {
      const v = Date.now();
      return { type: 'INSERT', edge: { version: v, source: `r${run}u${n++}`, target: 1, properties: { viewed_at: v } } };
    });
    const sent = performance.now();
    inflight.push(
      api(url, 'POST', `/graph/v3/databases/shop/tables/${table}/edges`, { mutations }).then((r) => {
        const answered = performance.now();
        if (r.status !== 200) {
          failedRequests++; // e.g. 503 when the shared broker is slow: not a view, not a delay
          return;
        }
        for (const res of r.body.results as { source: string; status: string }[]) {
          if (sync) delays.push(answered - sent); // visible when answered: the baseline
          else if (res.status === 'QUEUED') pending.set(res.source, answered);
          else throw new Error(`unexpected ${res.status}`);
        }
      }),
    );
  }
  await Promise.all(inflight);
  sending = false;
  await poller;
  return { delays, pollMs: polls ? pollTime / polls : 0 };
}

const rows: { name: string; per: number; p50: number; p99: number }[] = [];
const record = (name: string, per: number, r: { delays: number[]; pollMs: number }) => {
  rows.push({ name, per, p50: pct(r.delays, 50), p99: pct(r.delays, 99) });
  if (failedRequests) console.log(`  (${failedRequests} requests failed and were left out)`);
  failedRequests = 0;
  console.log(`${name.padEnd(58)} n=${String(r.delays.length).padStart(5)}  p50 ${pct(r.delays, 50).toFixed(1).padStart(7)} ms  p99 ${pct(r.delays, 99).toFixed(1).padStart(7)} ms  (poll ${r.pollMs.toFixed(1)} ms)`);
};

console.log(`async delay, ${SECONDS} s per scenario, core and processor on this machine (2 cores)\n`);
const group = uniqueName('bench.ap');
if (!CATCHUP_ONLY) {
  record('baseline: SYNC table, 50 req/s x 1 view (answer = visible)', 1, await measure('views_sync', 50, 1));
  record('baseline: SYNC table, 50 req/s x 10 views', 10, await measure('views_sync', 50, 10));
  // One group for every async scenario: each processor resumes where the last one committed (all applied),
  // so no scenario pays for another's backlog.
  for (const [fetchWait, waitMs, rps, per] of [
    [500, 20, 50, 1],
    [100, 20, 50, 1],
    [100, 0, 50, 1],
    [100, 20, 50, 10],
  ] as const) {
    const p = await startProcessor({ GROUP_ID: group, KAFKA_FETCH_MAX_WAIT_MS: String(fetchWait), BATCH_MAX_WAIT_MS: String(waitMs), RATE_LIMIT_PER_SEC: '0' });
    record(`async: FETCH_WAIT=${fetchWait} BATCH_WAIT=${waitMs}, ${rps} req/s x ${per} view${per > 1 ? 's' : ''}`, per, await measure('views_async', rps, per));
    await stop(p);
  }
  {
    // Rate limit below the offered load: the delay grows with the queue (back pressure on the core by design).
    const p = await startProcessor({ GROUP_ID: group, RATE_LIMIT_PER_SEC: '400', RATE_LIMIT_BURST: '50' });
    record('async: RATE_LIMIT_PER_SEC=400, 50 req/s x 10 views (500/s)', 10, await measure('views_async', 50, 10));
    await stop(p);
  }
}

// Catch-up throughput: a backlog queued while no processor runs, then applied at full speed (no rate limit),
// against the same views written through the SYNC table by one sequential client (requests of 50).
{
  const BACKLOG = 5_000;
  const views = (prefix: string) =>
    Array.from({ length: BACKLOG / 50 }, (_, r) =>
      Array.from({ length: 50 }, (_, i) => ({ type: 'INSERT', edge: { version: Date.now(), source: `${prefix}${r * 50 + i}`, target: 1, properties: { viewed_at: Date.now() } } })),
    );
  let t = performance.now();
  for (const mutations of views('sync-backlog-')) await api(url, 'POST', '/graph/v3/databases/shop/tables/views_sync/edges', { mutations });
  const syncRate = BACKLOG / ((performance.now() - t) / 1000);
  for (const mutations of views('async-backlog-')) await api(url, 'POST', '/graph/v3/databases/shop/tables/views_async/edges', { mutations });
  const p = await startProcessor({ GROUP_ID: group, RATE_LIMIT_PER_SEC: '0' });
  t = performance.now(); // from readiness (group joined): the start itself is not throughput
  const applied = async () =>
    (await (await fetch(`http://127.0.0.1:${lastPort}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('async_processor_mutations_total{'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  await waitFor('the backlog applied', async () => (await applied()) >= BACKLOG, 180_000).catch(async (err: unknown) => {
    console.log(`applied ${await applied()} of ${BACKLOG}; processor log tail:\n${lastOutput().slice(-3000)}`);
    throw err;
  });
  const asyncRate = BACKLOG / ((performance.now() - t) / 1000);
  await stop(p);
  resultRows.push({ name: `SYNC writes, one client, requests of 50`, unit: 'views/s', value: spread([syncRate]) });
  resultRows.push({ name: `catch-up of ${BACKLOG} queued views`, unit: 'views/s', value: spread([asyncRate]), ratio: spread([asyncRate / syncRate]), baseline: 'SYNC writes, one client, requests of 50' });
  console.log(`\ncatch-up of ${BACKLOG} queued views (from readiness): ${asyncRate.toFixed(0)} views/s; SYNC writes by one client in requests of 50: ${syncRate.toFixed(0)} views/s (x${(asyncRate / syncRate).toFixed(2)})`);
}

console.log('\nratios against the SYNC baseline of the same request size (p50 / p50, p99 / p99):');
for (const r of rows.slice(2)) {
  const b = rows[r.per === 1 ? 0 : 1]!;
  console.log(`  ${r.name.padEnd(58)} p50 x${(r.p50 / b.p50).toFixed(1)}  p99 x${(r.p99 / b.p99).toFixed(1)}`);
}
for (const r of rows) {
  const b = rows[r.per === 1 ? 0 : 1]!;
  const base = r === b ? undefined : b.name;
  resultRows.push({ name: `${r.name}, p50`, unit: 'ms', value: spread([r.p50]), ...(base && { ratio: spread([r.p50 / b.p50]), baseline: `${base}, p50` }) });
  resultRows.push({ name: `${r.name}, p99`, unit: 'ms', value: spread([r.p99]), ...(base && { ratio: spread([r.p99 / b.p99]), baseline: `${base}, p99` }) });
}
emitResult({
  bench: 'async-processor',
  rounds: 1,
  params: { secondsPerScenario: SECONDS },
  load: { before: loadBefore, after: printLoad('after') },
  rows: resultRows,
  notes: ['one run per scenario (latency percentiles over every view of it); the catch-up runs after the SYNC writes, not alternated'],
});
await core.stop();
process.exit(0);
