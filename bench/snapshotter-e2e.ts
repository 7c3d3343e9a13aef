/**
 * CDC records to committed Iceberg rows per second, end to end: the core writes N edges (their CDC records on the
 * real Kafka, produced before the clock starts), then the snapshotter starts on that topic and the clock runs
 * until its table's current snapshot holds N rows (folder catalog, the default; polled through the catalog).
 * Baseline in the same run: pyiceberg (the stack's venv) appending the same rows, read back from the snapshotter's
 * table as an Arrow table, to a new table with pyarrow, once in one append and once in appends of the
 * snapshotter's batch size.
 *
 *   npx tsx bench/snapshotter-e2e.ts [--edges 50000] [--batch 5000]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { currentSnapshot, FolderCatalog } from '@pipeline/iceberg';
import { ensureKafka, ensurePyiceberg, venvPython } from '@pipeline/stack';
import { api, CoreProcess, freePort, repoRoot, tempStorage, uniqueName } from '@pipeline/testing';

const { values } = parseArgs({ options: { edges: { type: 'string', default: '50000' }, batch: { type: 'string', default: '5000' } } });
const N = Number(values.edges);
const BATCH = Number(values.batch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { bootstrap } = await ensureKafka();
await ensurePyiceberg();
const cdc = uniqueName('bench.snap-e2e.cdc');
const core = new CoreProcess({ PORT: String(await freePort()), KAFKA_BROKERS: bootstrap, WAL_TOPIC: uniqueName('bench.snap-e2e.wal'), CDC_TOPIC: cdc, STORAGE_PATH: tempStorage() });
await core.start();
await api(core.url, 'POST', '/graph/v3/databases', { database: 'bench' });
await api(core.url, 'POST', '/graph/v3/databases/bench/tables', {
  table: 'likes',
  schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
  direction: 'BOTH',
  indexes: [],
  mode: 'SYNC',
});
console.log(`snapshotter end to end: ${N} edges (one INSERT each), node ${process.version}`);
let t = performance.now();
const PER_REQUEST = 500;
const requests = Array.from({ length: Math.ceil(N / PER_REQUEST) }, (_, r) => ({
  mutations: Array.from({ length: Math.min(PER_REQUEST, N - r * PER_REQUEST) }, (_, i) => {
    const n = r * PER_REQUEST + i;
    return { type: 'INSERT', edge: { version: 1_767_225_600_000 + n, source: `u${n % 1000}`, target: n, properties: { created_at: 1_767_225_600_000 + n } } };
  }),
}));
for (let i = 0; i < requests.length; i += 4) {
  await Promise.all(
    requests.slice(i, i + 4).map(async (body) => {
      const r = await api(core.url, 'POST', '/graph/v3/databases/bench/tables/likes/edges', body);
      if (r.status !== 200) throw new Error(`mutation request: ${r.status} ${JSON.stringify(r.body)}`);
    }),
  );
}
// Every CDC record on Kafka before the clock starts: the core's outbox drained.
for (;;) {
  const d = await api(core.url, 'GET', '/graph/health/details');
  if ((d.body as { cdcBacklog?: number }).cdcBacklog === 0) break;
  await sleep(200);
}
console.log(`core: ${N} edges written, CDC relayed, in ${((performance.now() - t) / 1000).toFixed(1)} s (not measured)\n`);

const warehouse = mkdtempSync(path.join(tmpdir(), 'bench-snap-e2e-'));
const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/snapshotter/src/main.ts')], {
  cwd: repoRoot,
  env: {
    ...process.env,
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    KAFKA_BROKERS: bootstrap,
    CDC_TOPIC: cdc,
    CONSUMER_GROUP: uniqueName('bench.snap-e2e'),
    WAREHOUSE_DIR: path.join(warehouse, 'warehouse'),
    STAGING_DIR: path.join(warehouse, 'staging'),
    BATCH_MAX_RECORDS: String(BATCH),
    COMMIT_INTERVAL_MS: '1000',
    CHANGELOG_ENABLED: 'false',
  },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
child.stdout.on('data', (d: Buffer) => (out += d.toString()));
child.stderr.on('data', (d: Buffer) => (out += d.toString()));
t = performance.now();
let consumingAt: number | undefined;
const catalog = new FolderCatalog(path.join(warehouse, 'warehouse'));
const ident = { namespace: 'bench', name: 'likes' };
const deadline = Date.now() + 15 * 60_000;
let snapshots = 0;
for (;;) {
  if (consumingAt === undefined && out.includes('"msg":"consuming"')) consumingAt = performance.now();
  const table = await catalog.loadTable(ident).catch(() => null);
  const cur = table ? currentSnapshot(table.metadata) : undefined;
  if (cur && Number(cur.summary['total-records']) >= N) {
    snapshots = table!.metadata.snapshots.length;
    break;
  }
  if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the snapshotter did not commit ${N} rows:\n${out.slice(-3000)}`);
  await sleep(100);
}
const done = performance.now();
child.kill('SIGTERM');
await core.stop('SIGTERM');
const totalS = (done - t) / 1000;
const fromConsumingS = (done - (consumingAt ?? t)) / 1000;

// Baseline: pyiceberg appends the same rows (the snapshotter's table read back) to a new table with pyarrow.
const script = path.join(warehouse, 'append.py');
writeFileSync(
  script,
  `import json, sys, time, glob
from pyiceberg.table import StaticTable
from pyiceberg.catalog.sql import SqlCatalog
meta = sorted(glob.glob(sys.argv[1] + "/metadata/v*.metadata.json"), key=lambda p: int(p.rsplit("/v", 1)[1].split(".")[0]))[-1]
rows = StaticTable.from_metadata(meta).scan().to_arrow()
out = {}
for mode, size in (("one append", rows.num_rows), ("appends of batch", int(sys.argv[3]))):
    cat = SqlCatalog("b", uri="sqlite:///" + sys.argv[2] + "/" + mode.replace(" ", "_") + ".db", warehouse="file://" + sys.argv[2])
    cat.create_namespace("b")
    t = cat.create_table("b." + mode.replace(" ", "_"), schema=rows.schema)
    t0 = time.perf_counter()
    for i in range(0, rows.num_rows, size):
        t.append(rows.slice(i, size))
    out[mode] = {"seconds": time.perf_counter() - t0, "rows": t.scan().to_arrow().num_rows}
print(json.dumps(out))
`,
);
const base = path.join(warehouse, 'pyiceberg');
mkdirSync(base, { recursive: true });
const py = JSON.parse((await promisify(execFile)(venvPython(), [script, path.join(warehouse, 'warehouse', 'bench', 'likes'), base, String(BATCH)], { maxBuffer: 1 << 26 })).stdout) as Record<string, { seconds: number; rows: number }>;

const rate = (s: number) => Math.round(N / s);
console.log('| path | rows | seconds | rows/s | vs pyiceberg one append | vs pyiceberg appends of batch |');
console.log('|---|---:|---:|---:|---:|---:|');
const one = py['one append']!;
const batched = py['appends of batch']!;
const line = (name: string, s: number) => console.log(`| ${name} | ${N} | ${s.toFixed(2)} | ${rate(s)} | ${(one.seconds / s).toFixed(2)}x | ${(batched.seconds / s).toFixed(2)}x |`);
line(`snapshotter, process start to ${N} rows committed (${snapshots} snapshots)`, totalS);
line('snapshotter, from "consuming" to committed', fromConsumingS);
line('pyiceberg + pyarrow, one append', one.seconds);
line(`pyiceberg + pyarrow, appends of ${BATCH} rows`, batched.seconds);
if (one.rows !== N || batched.rows !== N) throw new Error(`pyiceberg appended ${one.rows} / ${batched.rows} rows, expected ${N}`);
rmSync(warehouse, { recursive: true, force: true });
