/**
 * The snapshotter against the real core (CoreProcess) and the real Kafka, checked by independent readers:
 * pyiceberg for the Iceberg tables (current state and time travel), pyarrow for the change log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, createLikes, dataRecords, freePort, tempStorage, uniqueName } from '@pipeline/testing';
import {
  checkFiles,
  coreActiveEdges,
  ensurePython,
  icebergEdges,
  readChangeLog,
  readIceberg,
  SnapshotterProcess,
  sorted,
  tempDir,
  waitFor,
} from './helpers';

const SOURCES = Array.from({ length: 8 }, (_, i) => `u${i}`);
const TARGETS = Array.from({ length: 12 }, (_, i) => i + 1);

/** A deterministic workload: inserts, re-inserts and deletes over SOURCES x TARGETS, versions increasing. */
async function workload(url: string, table: string, seed: number, requests: number, deleteShare = 0.3): Promise<void> {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < requests; i++) {
    const mutations = Array.from({ length: 10 }, (_, j) => {
      const version = seed * 1_000_000 + i * 100 + j;
      const del = rnd() < deleteShare;
      return {
        type: del ? 'DELETE' : 'INSERT',
        edge: { version, source: SOURCES[Math.floor(rnd() * SOURCES.length)]!, target: TARGETS[Math.floor(rnd() * TARGETS.length)]!, properties: del ? {} : { created_at: version } },
      };
    });
    const r = await api(url, 'POST', `/graph/v3/databases/shop/tables/${table}/edges`, { mutations });
    if (r.status !== 200) throw new Error(`workload on ${table}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/** Gifts (a multi-edge table): inserts, amount updates and deletes by id, versions increasing. */
async function giftWorkload(url: string, seed: number, requests: number): Promise<void> {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < requests; i++) {
    const mutations = Array.from({ length: 5 }, (_, j) => {
      const version = seed * 1_000_000 + i * 100 + j;
      const id = 1 + Math.floor(rnd() * GIFT_IDS);
      const type = rnd() < 0.25 ? 'DELETE' : rnd() < 0.5 ? 'UPDATE' : 'INSERT';
      const edge = { version, id, source: SOURCES[id % SOURCES.length]!, target: SOURCES[(id * 3) % SOURCES.length]!, properties: type === 'DELETE' ? {} : { amount: version % 1000 } };
      return { type, edge };
    });
    const r = await api(url, 'POST', '/graph/v3/databases/shop/tables/gifts/multi-edges', { mutations });
    if (r.status !== 200) throw new Error(`gift workload: ${r.status} ${JSON.stringify(r.body)}`);
  }
}
const GIFT_IDS = 30;

async function coreGifts(url: string): Promise<[string, unknown][]> {
  const ids = Array.from({ length: GIFT_IDS }, (_, i) => i + 1).join(',');
  const r = await api(url, 'GET', `/graph/v3/databases/shop/tables/gifts/multi-edges/ids?ids=${ids}`);
  if (r.status !== 200) throw new Error(`multi-edges/ids: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body.edges as { id: unknown; source: string; target: string; version: number; properties: Record<string, unknown> }[])
    .map((e): [string, unknown] => [String(e.id), { source: e.source, target: e.target, version: e.version, amount: e.properties['amount'] }])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function icebergGifts(rows: { edge_id: string | null; source: string; target: string; version: number; properties: string | null }[]): [string, unknown][] {
  return rows
    .map((r): [string, unknown] => [String(r.edge_id), { source: r.source, target: r.target, version: r.version, amount: (JSON.parse(r.properties ?? '{}') as Record<string, unknown>)['amount'] }])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe('snapshotter: CDC -> Iceberg current state + Parquet change log', () => {
  let bootstrap: string;
  let python: string;
  let core: CoreProcess;
  let cdc: string;
  const procs: SnapshotterProcess[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    python = await ensurePython();
  }, 900_000);

  const newCore = async () => {
    cdc = uniqueName('it.snap.cdc');
    core = new CoreProcess({
      PORT: String(await freePort()),
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: uniqueName('it.snap.wal'),
      CDC_TOPIC: cdc,
      WAL_PARTITIONS: '3',
      CDC_PARTITIONS: '3',
      STORAGE_PATH: tempStorage(),
    });
    await core.start();
    await createLikes(core.url, 'likes');
    await createLikes(core.url, 'follows');
  };

  const snapshotter = (warehouse: string, extra: Record<string, string> = {}) => {
    const p = new SnapshotterProcess({
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: cdc,
      CONSUMER_GROUP: uniqueName('it.snap.group'),
      WAREHOUSE_DIR: warehouse,
      STAGING_DIR: tempDir('staging'),
      COMMIT_INTERVAL_MS: '500',
      BATCH_MAX_WAIT_MS: '200',
      // Killed members leave the group after 6 s (the broker's minimum), so a restart does not wait 30 s.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      KAFKA_REBALANCE_TIMEOUT_MS: '10000',
      ...extra,
    });
    procs.push(p);
    return p;
  };

  /** Waits until pyiceberg's current rows of each table equal the core's active edges; returns the reads. */
  const converged = async (warehouse: string, tables: string[], what: string) => {
    const reads: Record<string, Awaited<ReturnType<typeof readIceberg>>> = {};
    for (const t of tables) {
      const expected = sorted(await coreActiveEdges(core.url, t, SOURCES, TARGETS));
      reads[t] = await waitFor(
        `${what}: pyiceberg rows of shop.${t} equal the core's ${expected.length} active edges`,
        async () => {
          const read = await readIceberg(python, path.join(warehouse, 'shop', t));
          return JSON.stringify(sorted(icebergEdges(read.rows))) === JSON.stringify(expected) && read;
        },
        60_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\nsnapshotter output:\n${procs.map((p) => p.output.slice(-3000)).join('\n---\n')}`);
      });
      expect(sorted(icebergEdges(reads[t]!.rows))).toEqual(expected);
      const keys = reads[t]!.rows.map((r) => `${r.source}|${r.target}`);
      expect(new Set(keys).size).toBe(keys.length); // no duplicated edge
      expect(reads[t]!.rows.every((r) => r.active)).toBe(true); // deleted edges left the table
    }
    return reads;
  };

  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await core?.stop('SIGKILL');
  });
  afterAll(async () => undefined);

  it('pyiceberg reads every table equal to the core active edges, earlier snapshots give the earlier state, pyarrow reads the change log', async () => {
    await newCore();
    const warehouse = tempDir('warehouse');
    const snap = snapshotter(warehouse);
    snap.start();

    await workload(core.url, 'likes', 1, 20);
    await workload(core.url, 'follows', 2, 10);
    const gifts = await api(core.url, 'POST', '/graph/v3/databases/shop/tables', {
      table: 'gifts',
      type: 'MULTI_EDGE',
      schema: { source: { type: 'STRING' }, target: { type: 'STRING' }, properties: [{ name: 'amount', type: 'LONG', nullable: false }] },
      direction: 'BOTH',
    });
    expect(gifts.status).toBe(200);
    await giftWorkload(core.url, 4, 20);
    const first = await converged(warehouse, ['likes', 'follows'], 'phase 1');
    // Multi-edges: one row per id, equal to what the core answers by id.
    const expectedGifts = await coreGifts(core.url);
    expect(expectedGifts.length).toBeGreaterThan(0);
    const giftRead = await waitFor('pyiceberg rows of shop.gifts equal the core multi-edges', async () => {
      const read = await readIceberg(python, path.join(warehouse, 'shop', 'gifts'));
      return JSON.stringify(icebergGifts(read.rows)) === JSON.stringify(expectedGifts) && read;
    }, 60_000);
    expect(icebergGifts(giftRead.rows)).toEqual(expectedGifts);
    const likes1 = first['likes']!;
    expect(likes1.formatVersion).toBe(2);
    expect(likes1.schema.map((f) => f[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(['append', 'overwrite']).toContain(likes1.summary?.['operation']);
    expect(Object.keys(JSON.parse(likes1.summary!['snapshotter.offsets']!) as object).length).toBeGreaterThan(0);

    // Phase 2 deletes most of what is there: rows must leave the current table, not the earlier snapshot.
    await workload(core.url, 'likes', 3, 20, 0.8);
    const second = await converged(warehouse, ['likes'], 'phase 2');
    expect(second['likes']!.current).not.toBe(likes1.current);

    const history = await readIceberg(python, path.join(warehouse, 'shop', 'likes'), true);
    const earlier = history.snapshots!.find((s) => s.id === likes1.current);
    expect(earlier).toBeDefined();
    expect(sorted(icebergEdges(earlier!.rows))).toEqual(sorted(icebergEdges(likes1.rows)));
    expect(history.snapshotLog).toContain(likes1.current);
    expect((await checkFiles(python, history.metadata)).problems).toEqual([]);

    // Stop gracefully (flushes the change log), then pyarrow reads one row per CDC record, none twice.
    expect((await snap.stop('SIGTERM')).code).toBe(0);
    const records = await dataRecords(bootstrap, cdc);
    const log = await readChangeLog(python, path.join(warehouse, '_changelog'));
    expect(log.rows).toBe(records.length);
    expect(new Set(log.coordinates.map((c) => c.join(':'))).size).toBe(log.rows);
    const perTable = (t: string) => records.filter((r) => r.value.context.table === t).length;
    expect(log.tables).toEqual({ 'shop.likes': perTable('likes'), 'shop.follows': perTable('follows'), 'shop.gifts': perTable('gifts') });
    expect(log.schema).toEqual(expect.arrayContaining(['processed_at_ms:timestamp[us, tz=UTC]', 'table:string', 'hour:string']));
  });
  it('kill -9 at every step of a commit, then restart: the table stays readable, no committed snapshot names a bad file, and the final state has every edge once', async () => {
    await newCore();
    const warehouse = tempDir('warehouse');
    const fixed = { CONSUMER_GROUP: uniqueName('it.snap.crash'), STAGING_DIR: tempDir('staging') };
    const likes = path.join(warehouse, 'shop', 'likes');
    const steps = ['data-written', 'manifests-written', 'metadata-linked', 'changelog-written'];
    for (const [i, step] of steps.entries()) {
      await workload(core.url, 'likes', 10 + i, 8, 0.4);
      await workload(core.url, 'follows', 20 + i, 3, 0.4);
      const p = snapshotter(warehouse, { ...fixed, FAULT_CRASH_AT: step });
      p.start();
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([p.exited(), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 60_000)))]);
      clearTimeout(timer);
      expect({ step, exit }).toEqual({ step, exit: { code: null, signal: 'SIGKILL' } });
      expect(p.output).toContain(`FAULT_CRASH_AT=${step}`);
      if (existsSync(path.join(likes, 'metadata'))) {
        // A crashed write leaves files behind; add a truncated one as a crash mid-write of a data file would.
        const data = readdirSync(path.join(likes, 'data')).filter((f) => f.endsWith('.parquet'));
        if (data[0]) writeFileSync(path.join(likes, 'data', `truncated-${i}.parquet`), readFileSync(path.join(likes, 'data', data[0])).subarray(0, 100));
        const names = readdirSync(path.join(likes, 'metadata'));
        if (names.some((n) => /^v\d+\.metadata\.json$/.test(n))) {
          const read = await readIceberg(python, likes, true);
          const keys = read.rows.map((r) => `${r.source}|${r.target}`);
          expect(new Set(keys).size).toBe(keys.length);
          expect((await checkFiles(python, read.metadata)).problems).toEqual([]);
        }
      }
    }
    const orphans = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('truncated-'));
    expect(orphans(path.join(likes, 'data')).length).toBeGreaterThan(0);
    const last = snapshotter(warehouse, { ...fixed, ORPHAN_MIN_AGE_MS: '1' });
    last.start();
    await converged(warehouse, ['likes', 'follows'], 'after the crashes');
    expect(orphans(path.join(likes, 'data'))).toEqual([]); // crash leftovers swept at start
    const history = await readIceberg(python, likes, true);
    expect((await checkFiles(python, history.metadata)).problems).toEqual([]);
    for (const s of history.snapshots!) {
      const keys = s.rows.map((r) => `${r.source}|${r.target}`);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect((await last.stop('SIGTERM')).code).toBe(0);
    const records = await dataRecords(bootstrap, cdc);
    const log = await readChangeLog(python, path.join(warehouse, '_changelog'));
    expect(new Set(log.coordinates.map((c) => c.join(':'))).size).toBe(log.rows); // none twice
    expect(log.rows).toBe(records.length); // none missing
  });

  it('two instances in one consumer group commit to the same tables and produce one consistent table; expiry and compaction keep it small', async () => {
    await newCore();
    const warehouse = tempDir('warehouse');
    const group = uniqueName('it.snap.pair');
    // Aggressive expiry and compaction, so both run many times while two writers race.
    const env = { CONSUMER_GROUP: group, COMMIT_INTERVAL_MS: '300', SNAPSHOT_MAX_AGE_MS: '1', SNAPSHOT_MIN_KEEP: '3', METADATA_MAX_FILES: '5', COMPACT_MIN_FILES: '3', COMPACT_SMALL_FILE_ROWS: '1000' };
    const a = snapshotter(warehouse, env);
    const b = snapshotter(warehouse, env);
    a.start();
    b.start();
    await workload(core.url, 'likes', 30, 25, 0.3);
    await workload(core.url, 'follows', 31, 10, 0.3);
    await converged(warehouse, ['likes', 'follows'], 'two writers');
    await workload(core.url, 'likes', 32, 10, 0.6);
    await converged(warehouse, ['likes'], 'two writers, second round');
    const history = await readIceberg(python, path.join(warehouse, 'shop', 'likes'), true);
    expect((await checkFiles(python, history.metadata)).problems).toEqual([]);
    // Expired snapshots left the metadata (and their files the disk: check_files found none missing above).
    expect(history.snapshots!.length).toBeLessThanOrEqual(3);
    expect(history.snapshotLog!.every((id) => history.snapshots!.some((s) => s.id === id))).toBe(true);
    // Compaction bounds the live files: fewer than COMPACT_MIN_FILES small ones, plus the one just written.
    expect(Number(history.summary!['total-data-files'])).toBeLessThanOrEqual(3);
    const metadataFiles = readdirSync(path.join(warehouse, 'shop', 'likes', 'metadata')).filter((n) => n.endsWith('.metadata.json'));
    expect(metadataFiles.length).toBeLessThanOrEqual(5 + 2); // METADATA_MAX_FILES + the current one (+1 in flight)
    await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
  });
});
