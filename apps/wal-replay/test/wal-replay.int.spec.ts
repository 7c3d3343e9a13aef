import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createKafka } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { ensureKafka } from '@pipeline/stack';
import { spawn } from 'node:child_process';
import { api, CoreProcess, freePort, repoRoot, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import { readIcebergTable } from '@pipeline/iceberg';
import { captureState, createTables, deleteStorage, processQueued, rng, runCli, runWorkload, startCore } from './helpers';
import { CoreClient } from '@pipeline/core-api';

describe('wal-replay against real Kafka and real cores', () => {
  let bootstrap: string;
  const cores: CoreProcess[] = [];
  const tmp = () => tempDir('wal-replay-it');

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
  });
  afterEach(async () => {
    await Promise.all(cores.splice(0).map((c) => c.stop('SIGKILL')));
  });

  const started = async (...args: Parameters<typeof startCore>) => {
    const c = await startCore(...args);
    cores.push(c.core);
    return c;
  };

  /** Appends copies of random WAL records, shuffled, to the WAL topic (same keys, so same partitions): duplicates arriving out of order. */
  async function duplicateAndReorder(topic: string, seed: number, share: number): Promise<number> {
    const r = rng(seed * 7919);
    const records = (await readAll(bootstrap, topic, { timeoutMs: 20_000 })).filter((m) => !String(m.value).includes('"sys"'));
    const picked = records.filter(() => r() < share);
    for (let i = picked.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [picked[i], picked[j]] = [picked[j]!, picked[i]!];
    }
    const producer = await createKafka({ brokers: [bootstrap], clientId: 'wal-replay-it' }).producer();
    await producer.send(topic, picked.map((m) => ({ key: m.key?.toString() ?? null, value: m.value! })));
    await producer.close();
    return picked.length;
  }

  const dataRecords = async (topic: string) => (await readAll(bootstrap, topic, { timeoutMs: 10_000 })).filter((m) => !String(m.value).includes('"sys"'));
  const dataCount = async (topic: string) => (await dataRecords(topic)).length;
  const lastWalTime = async (topic: string) => Math.max(...(await dataRecords(topic)).map((m) => m.timestamp));

  async function waitForCdc(topic: string, n: number): Promise<void> {
    await waitFor(`${n} CDC records on ${topic}`, async () => (await readAll(bootstrap, topic, { timeoutMs: 5_000 })).filter((m) => !String(m.value).includes('"sys"')).length >= n, 60_000);
  }

  it.each([11, 42, 2026])(
    'seed %i: deleting the core storage and running rebuild reproduces the same edges, counts and index order, despite duplicated and reordered WAL records',
    async (seed) => {
      const { core: source, storage, topics } = await started(bootstrap);
      await createTables(source.url);
      const w = await runWorkload(source.url, seed, 400, 1_000);
      const processed = await processQueued(bootstrap, topics.wal, source.url);
      expect(processed).toBeGreaterThan(0);
      await waitForCdc(topics.cdc, w.keys + processed);
      const copies = await duplicateAndReorder(topics.wal, seed, 0.3);
      expect(copies).toBeGreaterThan(50);
      const before = await captureState(source.url, storage);
      const schemaFile = join(tmp(), 'schema.json');
      writeFileSync(schemaFile, JSON.stringify(await schemaOf(source.url)));

      // Disaster: the core and its storage are gone. A fresh one starts on the same path (own WAL/CDC topics).
      await source.stop('SIGKILL');
      deleteStorage(storage);
      const { core: fresh } = await started(bootstrap, storage);
      expect((await api(fresh.url, 'GET', '/graph/v3/databases')).body).toEqual([]);

      const run = await runCli(['rebuild', '--wal-topic', topics.wal, '--target-url', fresh.url, '--schema-file', schemaFile, '--state-file', join(tmp(), 'state.json')], {
        KAFKA_BROKERS: bootstrap,
      });
      expect(run.stderr).toContain('replaying WAL');
      expect(run.code).toBe(0);
      // Every WAL record is applied, the queued ones too (and the processor's forced copies of them).
      expect(run.result).toMatchObject({ command: 'rebuild', applied: w.items + 2 * w.queued + copies, rejected: 0, undecodable: 0 });
      expect(run.result.system).toBeGreaterThanOrEqual(0);

      const after = await captureState(fresh.url, storage);
      expect(after.rows.length).toBe(before.rows.length);
      expect(after.rows).toEqual(before.rows);
      expect(after.views).toEqual(before.views);
      expect(after.counts).toEqual(before.counts);
      expect(after.scans).toEqual(before.scans);
      expect(Object.values(before.counts).some((n) => n > 0)).toBe(true);
      // rows are keyed by tablespace number: three tables (likes, gifts, recent_views), each with rows
      const tablespaces = [...new Set(before.rows.map((x) => x.tbl))];
      expect(tablespaces).toHaveLength(3);
      for (const tbl of tablespaces) expect(before.rows.filter((x) => x.tbl === tbl).length).toBeGreaterThan(5);
    },
    180_000,
  );

  it('rebuild resumes from its checkpoint (a rerun reads only what was left) and starts from a time as offsets-for-times does', async () => {
    const { core: source, topics } = await started(bootstrap);
    await createTables(source.url);
    const w = await runWorkload(source.url, 5, 120, 1_000);
    await processQueued(bootstrap, topics.wal, source.url);
    const { core: target } = await started(bootstrap);
    const stateFile = join(tmp(), 'state.json');
    const args = ['rebuild', '--wal-topic', topics.wal, '--target-url', target.url, '--source-url', source.url, '--state-file', stateFile, '--from-offset', '0'];
    const first = await runCli(args, { KAFKA_BROKERS: bootstrap });
    expect(first.code).toBe(0);
    expect(first.result.applied).toBe(w.items + 2 * w.queued);
    // Interrupted run: the checkpoint says half of partition 0 was applied; the rerun starts there.
    const cp = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(cp.done).toBe(true);
    cp.done = false;
    const p0End = BigInt(cp.ends.wal['0']);
    cp.positions.wal = { ...cp.positions.wal, '0': (p0End / 2n).toString() };
    cp.counters = {};
    writeFileSync(stateFile, JSON.stringify(cp));
    const second = await runCli(args, { KAFKA_BROKERS: bootstrap });
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('resuming from the checkpoint');
    expect(second.result.read).toBe(Number(p0End - p0End / 2n));

    // From a time: per partition, from the first record at or after it (Kafka's offsets-for-times rule).
    const all = await readAll(bootstrap, topics.wal, { timeoutMs: 10_000 });
    const times = all.map((m) => m.timestamp).sort((a, b) => a - b);
    const from = times[Math.floor(times.length / 2)]!;
    const third = await runCli(['rebuild', '--wal-topic', topics.wal, '--target-url', target.url, '--source-url', source.url, '--state-file', join(tmp(), 't.json'), '--from-time', new Date(from).toISOString()], {
      KAFKA_BROKERS: bootstrap,
    });
    expect(third.code).toBe(0);
    expect(third.result.read).toBe(all.filter((m) => m.timestamp >= from).length);
  }, 120_000);

  it('migrate loads the CDC snapshot, replays the WAL from before its cut (overlapping), and ends equal to the source', async () => {
    const { core: source, storage, topics } = await started(bootstrap);
    await createTables(source.url);
    // Phase 1 in two parts, 1.5 s apart, so that the replay window (from 50 ms before part b) leaves part a to the snapshot alone.
    const phase1a = await runWorkload(source.url, 77, 250, 1_000);
    await waitFor('1.5 s to pass', async () => Date.now() > (await lastWalTime(topics.wal)) + 1_500);
    const t1b = Date.now();
    const phase1b = await runWorkload(source.url, 76, 60, 500_000);
    const processed1 = await processQueued(bootstrap, topics.wal, source.url);
    await waitForCdc(topics.cdc, phase1a.keys + phase1b.keys + processed1);
    const cut = Date.now();
    await waitFor('the clock to pass the cut', async () => Date.now() > cut + 1);
    // After the cut the same keys keep changing: the snapshot misses these, the WAL replay brings them.
    const phase2 = await runWorkload(source.url, 78, 200, 1_000_000);
    // The processor applies phase 1's queued items again (duplicates: IDLE) and phase 2's.
    const processed2 = await processQueued(bootstrap, topics.wal, source.url);
    await waitForCdc(topics.cdc, phase1a.keys + phase1b.keys + processed1 + phase2.keys + processed2);
    const before = await captureState(source.url, storage);
    const walRecords = await dataCount(topics.wal);

    const { core: target, storage: targetStorage } = await started(bootstrap);
    const run = await runCli(
      ['migrate', '--wal-topic', topics.wal, '--cdc-topic', topics.cdc, '--target-url', target.url, '--source-url', source.url, '--snapshot-until', String(cut), '--overlap-ms', String(cut - t1b + 50), '--state-file', join(tmp(), 'm.json')],
      { KAFKA_BROKERS: bootstrap },
    );
    expect({ code: run.code, stderr: run.code ? run.stderr.slice(-2000) : '' }).toEqual({ code: 0, stderr: '' });
    expect(run.result.approximated).toBe(0);
    expect(run.result.loadedKeys).toBeGreaterThan(50);
    // The replay window overlaps the snapshot (phase 1b again) but leaves phase 1a to it.
    expect(run.result.wal.applied).toBeGreaterThanOrEqual(phase1b.items + phase2.items);
    expect(run.result.wal.applied).toBeLessThanOrEqual(walRecords - phase1a.items);
    expect(run.result.wal.rejected).toBe(0);

    const after = await captureState(target.url, targetStorage);
    expect(after.rows).toEqual(before.rows);
    expect(after.views).toEqual(before.views);
    expect(after.counts).toEqual(before.counts);
    expect(after.scans).toEqual(before.scans);
  }, 180_000);

  it('migrate from the snapshotter Iceberg tables ends with the same edges, counts and index order as the source', async () => {
    const { core: source, topics } = await started(bootstrap);
    await createTables(source.url);
    const phase1a = await runWorkload(source.url, 31, 250, 1_000, true);
    await waitFor('1.5 s to pass', async () => Date.now() > (await lastWalTime(topics.wal)) + 1_500);
    const t1b = Date.now();
    const phase1b = await runWorkload(source.url, 30, 80, 500_000, true);
    // Active changes on six keys per table last, so that every CDC partition ends phase 1 with a record of
    // every table: the cut is bounded per table and partition (README, migrate from Iceberg).
    const base = '/graph/v3/databases/shop/tables';
    const six = [0, 1, 2, 3, 4, 5];
    const touch = [
      await api(source.url, 'POST', `${base}/likes/edges`, { mutations: six.map((i) => ({ type: 'INSERT', edge: { version: 900_000 + i, source: `u${i}`, target: i + 1, properties: { created_at: 900_000 } } })) }),
      await api(source.url, 'POST', `${base}/gifts/multi-edges`, { mutations: six.map((i) => ({ type: 'INSERT', edge: { version: 900_000 + i, id: `g${i}`, source: `u${i % 4}`, target: `u${4 + ((i + 1) % 4)}`, properties: { amount: 9 } } })) }),
      await api(source.url, 'POST', `${base}/recent_views/edges`, { mutations: six.map((i) => ({ type: 'INSERT', edge: { version: 900_000 + i, source: `u${i}`, target: i + 1, properties: { viewed_at: 900_000 } } })) }),
    ];
    expect(touch.map((r) => r.status)).toEqual([200, 200, 200]);
    const processed1 = await processQueued(bootstrap, topics.wal, source.url);
    const phase1 = { keys: phase1a.keys + phase1b.keys + 12 };
    await waitForCdc(topics.cdc, phase1.keys + processed1);
    const newest = Math.max(...(await readAll(bootstrap, topics.cdc, { timeoutMs: 10_000 })).map((m) => JSON.parse(String(m.value)).processedAt as number));

    // The real snapshotter (its own process) writes the Iceberg tables of phase 1.
    const warehouse = tmp();
    const snapshotter = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/snapshotter/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: bootstrap, CDC_TOPIC: topics.cdc, CONSUMER_GROUP: uniqueName('wr-snap'), HTTP_PORT: String(await freePort()), WAREHOUSE_DIR: warehouse, STAGING_DIR: tmp(), COMMIT_INTERVAL_MS: '500', CHANGELOG_ENABLED: 'false', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      await waitFor(
        'the Iceberg tables to hold phase 1',
        async () => {
          const reads = await Promise.all((['likes', 'gifts', 'recent_views'] as const).map((t) => readIcebergTable(warehouse, 'shop', t, t === 'gifts', [])));
          return reads.some((r) => r && r.newestChange >= newest) && reads.every((r) => r !== undefined && r.newestChange > t1b);
        },
        90_000,
      );
    } finally {
      snapshotter.kill('SIGTERM');
      await new Promise((r) => snapshotter.once('exit', r));
    }

    const phase2 = await runWorkload(source.url, 32, 200, 1_000_000, true);
    const processed2 = await processQueued(bootstrap, topics.wal, source.url);
    await waitForCdc(topics.cdc, phase1.keys + processed1 + phase2.keys + processed2);
    const before = await captureState(source.url, source.env.STORAGE_PATH!);
    const wal = await dataRecords(topics.wal);

    const { core: target, storage: targetStorage } = await started(bootstrap);
    const run = await runCli(
      ['migrate', '--snapshot-source', 'iceberg', '--iceberg-warehouse', warehouse, '--wal-topic', topics.wal, '--cdc-topic', topics.cdc, '--target-url', target.url, '--source-url', source.url, '--overlap-ms', '200', '--state-file', join(tmp(), 'i.json')],
      { KAFKA_BROKERS: bootstrap },
    );
    expect({ code: run.code, stderr: run.code ? run.stderr.slice(-2000) : '' }).toEqual({ code: 0, stderr: '' });
    expect(run.stderr).toContain('CDC offsets in the snapshot summaries');
    expect(run.result.loadedKeys).toBeGreaterThan(20);
    // The replay applies the WAL from 200 ms before the cut; what lies before it, only the snapshot brings.
    const replayed = wal.filter((m) => m.timestamp >= run.result.walFrom).length;
    expect(run.result.wal.applied).toBe(replayed);
    expect(replayed).toBeGreaterThanOrEqual(phase2.items);
    expect(wal.length - replayed).toBeGreaterThan(100);
    const after = await captureState(target.url, targetStorage);
    // Reads, counts and index order are equal; stored cell versions and tombstones are not (README: Iceberg keeps neither).
    expect(after.views).toEqual(before.views);
    expect(after.counts).toEqual(before.counts);
    expect(after.scans).toEqual(before.scans);
  }, 240_000);

  it('check reports nothing on a clean core, then names a corrupted count and a missing index row', async () => {
    const { core, storage, topics } = await started(bootstrap);
    await createTables(core.url);
    const w = await runWorkload(core.url, 99, 300, 1_000);
    await waitForCdc(topics.cdc, w.keys + (await processQueued(bootstrap, topics.wal, core.url)));
    const args = ['check', '--cdc-topic', topics.cdc, '--target-url', core.url];
    const clean = await runCli(args, { KAFKA_BROKERS: bootstrap });
    expect({ code: clean.code, stdout: clean.stdout, stderr: clean.code ? clean.stderr.slice(-2000) : '' }).toEqual({ code: 0, stdout: expect.not.stringContaining('MISMATCH'), stderr: '' });
    expect(clean.result).toMatchObject({ command: 'check', mismatches: 0 });
    expect(clean.result.edges).toBeGreaterThan(50);

    await core.stop();
    const db = new Database(storage);
    // rows are keyed by the table's tablespace number (its catalog definition), not by its name
    const likes = String((JSON.parse((db.prepare("SELECT def FROM meta_table WHERE name = 'likes'").get() as { def: string }).def) as { tid: number }).tid);
    const count = db.prepare("SELECT tbl, dir, start, n FROM edge_count WHERE tbl = ? AND dir = 'OUT' AND n > 0 LIMIT 1").get(likes) as { tbl: string; dir: string; start: string; n: number };
    db.prepare('UPDATE edge_count SET n = n + 5 WHERE tbl = ? AND dir = ? AND start = ?').run(count.tbl, count.dir, count.start);
    const idx = db.prepare("SELECT tbl, idx, dir, start, sortkey, ekey FROM edge_index WHERE tbl = ? AND idx = 'recent' AND dir = 'IN' LIMIT 1").get(likes) as Record<string, unknown>;
    db.prepare('DELETE FROM edge_index WHERE tbl = ? AND idx = ? AND dir = ? AND start = ? AND sortkey = ? AND ekey = ?').run(idx.tbl, idx.idx, idx.dir, idx.start, idx.sortkey, idx.ekey);
    db.close();
    await core.start();

    const dirty = await runCli(args, { KAFKA_BROKERS: bootstrap });
    expect(dirty.code).toBe(1);
    const lines = dirty.stdout.split('\n').filter((l) => l.startsWith('MISMATCH'));
    expect(lines).toContain(`MISMATCH count shop.likes OUT start=${count.start}: core count ${count.n + 5}, active edges in CDC state ${count.n}`);
    expect(lines.some((l) => l.startsWith(`MISMATCH index-missing shop.likes recent IN start=${idx.start as string} edge ${idx.ekey as string}:`))).toBe(true);
    expect(lines).toHaveLength(2);
    expect(dirty.result.mismatches).toBe(2);
  }, 120_000);
});

async function schemaOf(url: string) {
  return new CoreClient({ baseUrl: url, actor: 'WalReplay' }).schema();
}
