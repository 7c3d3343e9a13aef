/**
 * The whole way through, on real components: the core (a child process) writes CDC to the real Kafka, the real
 * snapshotter (a child process) turns it into the Iceberg table and the change log, and ml-export (a child
 * process, as a user runs it) makes the dataset. Then pyarrow and DuckDB read the dataset (test/check_dataset.py)
 * and its totals are compared with the core's counts API.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FolderCatalog, readTable } from '@pipeline/iceberg';
import { createDatabase, ensureKafka, ensurePostgres, services, stackDir } from '@pipeline/stack';
import { api, createLikes, repoRoot, startCoreOnFreshTopics, tempDir, uniqueName, waitFor, type CoreProcess } from '@pipeline/testing';

const run = promisify(execFile);
const SOURCES = Array.from({ length: 10 }, (_, i) => `u${i}`);
const TARGETS = Array.from({ length: 15 }, (_, i) => i + 1);
/** `ml-export-it-<prefix>-XXXXXX`, removed after this file (libs/testing). */
const itDir = (prefix: string) => tempDir(`ml-export-it-${prefix}`);

/** Likes and unlikes over SOURCES x TARGETS, versions increasing; deterministic for a seed. */
async function workload(url: string, seed: number, requests: number): Promise<void> {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < requests; i++) {
    const mutations = Array.from({ length: 10 }, (_, j) => {
      const version = seed * 1_000_000 + i * 100 + j;
      const del = rnd() < 0.3;
      return {
        type: del ? 'DELETE' : 'INSERT',
        edge: { version, source: SOURCES[Math.floor(rnd() * SOURCES.length)]!, target: TARGETS[Math.floor(rnd() * TARGETS.length)]!, properties: del ? {} : { created_at: version } },
      };
    });
    const r = await api(url, 'POST', '/graph/v3/databases/shop/tables/likes/edges', { mutations });
    if (r.status !== 200) throw new Error(`workload: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

async function coreCounts(url: string, direction: 'IN' | 'OUT', starts: (string | number)[]): Promise<Record<string, number>> {
  const r = await api(url, 'GET', `/graph/v3/databases/shop/tables/likes/edges/counts?start=${starts.join(',')}&direction=${direction}`);
  if (r.status !== 200) throw new Error(`edges/counts: ${r.status} ${JSON.stringify(r.body)}`);
  const out: Record<string, number> = {};
  for (const c of r.body.counts as { start: string | number; count: number }[]) if (c.count > 0) out[String(c.start)] = c.count;
  return out;
}

async function coreActiveEdges(url: string): Promise<string[]> {
  const out: string[] = [];
  for (const s of SOURCES) {
    const r = await api(url, 'GET', `/graph/v3/databases/shop/tables/likes/edges/get?source=${s}&target=${TARGETS.join(',')}`);
    if (r.status !== 200) throw new Error(`edges/get: ${r.status} ${JSON.stringify(r.body)}`);
    for (const e of r.body.edges as { source: string; target: number }[]) out.push(`${e.source}|${e.target}`);
  }
  return out.sort();
}

const nonZero = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([, n]) => n !== 0));

function mlExport(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/ml-export/src/main.ts'), ...args], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

interface Checked {
  rows: number;
  schema: Record<string, string>;
  splits: Record<string, { rows: number; min_ms: number; max_ms: number }>;
  labels: Record<string, number>;
  final_in: Record<string, number>;
  final_out: Record<string, number>;
  in_from_features: Record<string, number>;
  out_from_features: Record<string, number>;
  feature_mismatches_in: number;
  feature_mismatches_out: number;
  days_match_event_time: boolean;
}

describe('ml-export over the real snapshotter output', () => {
  let core: CoreProcess;
  let snapshotter: ChildProcess | undefined;
  let snapshotterOutput = '';
  let python: string;
  let warehouse: string;
  let snapshotterEnv: Record<string, string>;
  let pgServer: string;
  const drops: (() => Promise<void>)[] = [];

  const startSnapshotter = (extra: Record<string, string> = {}) => {
    snapshotter = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/snapshotter/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', HTTP_PORT: '0', ...snapshotterEnv, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    snapshotter.stdout!.on('data', (d: Buffer) => (snapshotterOutput += d.toString()));
    snapshotter.stderr!.on('data', (d: Buffer) => (snapshotterOutput += d.toString()));
  };
  const stopSnapshotter = async () => {
    const p = snapshotter;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await done;
  };

  beforeAll(async () => {
    const { bootstrap } = await ensureKafka();
    await services['pyiceberg']!.up(() => undefined);
    pgServer = (await ensurePostgres()).url;
    python = path.join(stackDir(), 'venv', 'bin', 'python');
    const started = await startCoreOnFreshTopics(bootstrap, 'it.mlx');
    core = started.core;
    await createLikes(core.url, 'likes');
    warehouse = itDir('warehouse');
    snapshotterEnv = {
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: started.cdc,
      CONSUMER_GROUP: uniqueName('it.mlx.snapshotter'),
      WAREHOUSE_DIR: warehouse,
      STAGING_DIR: itDir('staging'),
      COMMIT_INTERVAL_MS: '500',
      BATCH_MAX_WAIT_MS: '200',
    };
    startSnapshotter();
  }, 600_000);

  afterAll(async () => {
    await stopSnapshotter();
    await core?.stop();
    for (const d of drops) await d().catch(() => undefined);
  }, 120_000);

  it('writes a dataset whose final counts are the core counts, with features that never look ahead', async () => {
    await workload(core.url, 3, 25);
    const splitAt = Date.now();
    await workload(core.url, 4, 25);

    // The snapshotter has everything once its table holds exactly the core's active edges.
    const expected = await coreActiveEdges(core.url);
    await waitFor(
      "the snapshotter's table to hold the core's active edges",
      async () => {
        const read = await readTable(new FolderCatalog(warehouse), { namespace: 'shop', name: 'likes' });
        const rows = (read?.rows ?? []).map((r) => `${r.source}|${r.target}`).sort();
        return JSON.stringify(rows) === JSON.stringify(expected);
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nsnapshotter output:\n${snapshotterOutput.slice(-3000)}`);
    });

    // The change log of a round is flushed right after its table commit: a run in between is refused (exit 1,
    // nothing written) and names the remedy, running again.
    const out = path.join(itDir('out'), 'dataset');
    const args = ['--table', 'shop.likes', '--warehouse', warehouse, '--out', out, '--split-at', String(splitAt), '--negatives', '2', '--seed', '5'];
    const result = await waitFor(
      'ml-export to succeed',
      async () => {
        const r = await mlExport(args);
        if (r.code !== 0 && !/run again after its next commit/.test(r.err)) throw new Error(`ml-export failed: ${r.err}`);
        return r.code === 0 && r;
      },
      60_000,
    );
    const report = JSON.parse(result.out) as { checkedAgainstSnapshot: boolean; finalActiveEdges: number; rows: { train: number; validation: number }; fold: { inconsistencies: number } };
    expect(report.checkedAgainstSnapshot).toBe(true);
    expect(report.finalActiveEdges).toBe(expected.length);
    expect(report.fold.inconsistencies).toBe(0);

    const { stdout } = await run(python, [path.join(import.meta.dirname, 'check_dataset.py'), out], { maxBuffer: 64 * 1024 * 1024 });
    const c = JSON.parse(stdout) as Checked;

    // Readable by pyarrow, with the documented columns and types, split and day from the paths.
    expect(c.schema).toEqual({
      user: 'string',
      item: 'string',
      edge_id: 'string',
      label: 'string',
      event_time: 'timestamp[us, tz=UTC]',
      seq: 'int64',
      edge_version: 'int64',
      item_in_count: 'int64',
      user_out_count: 'int64',
      split: 'string',
      day: 'string',
    });
    expect(c.rows).toBe(report.rows.train + report.rows.validation);
    expect(c.days_match_event_time).toBe(true);
    expect(c.labels['active']).toBeGreaterThan(0);
    expect(c.labels['removed']).toBeGreaterThan(0);
    expect(c.labels['negative']).toBeGreaterThan(0);

    // Split by time: everything before --split-at trains, the rest validates.
    expect(c.splits['train']!.rows).toBeGreaterThan(0);
    expect(c.splits['validation']!.rows).toBeGreaterThan(0);
    expect(c.splits['train']!.max_ms).toBeLessThan(splitAt);
    expect(c.splits['validation']!.min_ms).toBeGreaterThanOrEqual(splitAt);

    // Totals agree with the core: per item (IN) and per user (OUT), from the labels and from the features.
    const coreIn = await coreCounts(core.url, 'IN', TARGETS);
    const coreOut = await coreCounts(core.url, 'OUT', SOURCES);
    expect(Object.keys(coreIn).length).toBeGreaterThan(5);
    expect(nonZero(c.final_in)).toEqual(coreIn);
    expect(nonZero(c.in_from_features)).toEqual(coreIn);
    expect(nonZero(c.final_out)).toEqual(coreOut);
    expect(nonZero(c.out_from_features)).toEqual(coreOut);

    // DuckDB's running sums over the earlier examples reproduce every feature: none saw its own or a later change.
    expect(c.feature_mismatches_in).toBe(0);
    expect(c.feature_mismatches_out).toBe(0);

    // Seeded: the same command again gives the same dataset, file for file.
    const again = path.join(itDir('out'), 'dataset');
    const second = await mlExport(args.map((a) => (a === out ? again : a)));
    expect(second.code).toBe(0);
    const manifest = async (dir: string) => {
      const m = JSON.parse(await readFile(path.join(dir, '_export.json'), 'utf8')) as { files: { path: string }[]; out?: string };
      return Promise.all(m.files.map((f) => readFile(path.join(dir, f.path))));
    };
    expect(await manifest(again)).toEqual(await manifest(out));

    // Through the JDBC catalog: a snapshotter on CATALOG=jdbc registers the folder table with its history at start;
    // the export found through PostgreSQL cuts at the same snapshot and writes the same files.
    await stopSnapshotter();
    const db = await createDatabase(pgServer, 'mlx_catalog');
    drops.push(db.drop);
    startSnapshotter({ CATALOG: 'jdbc', CATALOG_URL: db.url });
    const viaJdbc = path.join(itDir('out'), 'dataset');
    const jdbcArgs = ['--catalog', 'jdbc', '--catalog-url', db.url, ...args.map((a) => (a === out ? viaJdbc : a))];
    await waitFor(
      'ml-export through the JDBC catalog once the snapshotter registered the table',
      async () => {
        const r = await mlExport(jdbcArgs);
        if (r.code !== 0 && !/no Iceberg table shop.likes|does not exist/.test(r.err)) throw new Error(`ml-export failed: ${r.err}`);
        return r.code === 0;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nsnapshotter output:\n${snapshotterOutput.slice(-3000)}`);
    });
    expect(await manifest(viaJdbc)).toEqual(await manifest(out));
  });
});
