import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { createKafka } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, waitFor } from '@pipeline/testing';
import { captureState, createTables, deleteStorage, processQueued, rng, runCli, runWorkload, startCore } from './helpers';

describe('wal-replay against real Kafka and real cores', () => {
  let bootstrap: string;
  const cores: CoreProcess[] = [];
  const tmp = () => mkdtempSync(join(tmpdir(), 'wal-replay-it-'));

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
      expect((await api(fresh.url, 'GET', '/graph/v3/databases')).body.count).toBe(0);

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
      for (const table of ['likes', 'gifts', 'recent_views']) expect(before.rows.filter((x) => x.tbl.endsWith(table)).length).toBeGreaterThan(5);
    },
    180_000,
  );

  it('rebuild resumes from its checkpoint: a rerun with the state file of an interrupted run reads only what was left', async () => {
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
  }, 120_000);

  it('migrate loads the CDC snapshot, replays the WAL from before its cut (overlapping), and ends equal to the source', async () => {
    const { core: source, storage, topics } = await started(bootstrap);
    await createTables(source.url);
    const phase1 = await runWorkload(source.url, 77, 300, 1_000);
    const processed1 = await processQueued(bootstrap, topics.wal, source.url);
    await waitForCdc(topics.cdc, phase1.keys + processed1);
    const cut = Date.now();
    await waitFor('the clock to pass the cut', async () => Date.now() > cut + 1);
    // After the cut the same keys keep changing: the snapshot misses these, the WAL replay brings them.
    const phase2 = await runWorkload(source.url, 78, 200, 1_000_000);
    // The processor applies phase 1's queued items again (duplicates: IDLE) and phase 2's.
    const processed2 = await processQueued(bootstrap, topics.wal, source.url);
    await waitForCdc(topics.cdc, phase1.keys + processed1 + phase2.keys + processed2);
    const before = await captureState(source.url, storage);

    const { core: target, storage: targetStorage } = await started(bootstrap);
    const run = await runCli(
      ['migrate', '--wal-topic', topics.wal, '--cdc-topic', topics.cdc, '--target-url', target.url, '--source-url', source.url, '--snapshot-until', String(cut), '--overlap-ms', '3000', '--state-file', join(tmp(), 'm.json')],
      { KAFKA_BROKERS: bootstrap },
    );
    expect(run.code).toBe(0);
    expect(run.result.approximated).toBe(0);
    expect(run.result.loadedKeys).toBeGreaterThan(0);
    // The replay window overlaps the snapshot: it applies phase 2 and again some of phase 1.
    expect(run.result.wal.applied).toBeGreaterThan(phase2.items);
    expect(run.result.wal.rejected).toBe(0);

    const after = await captureState(target.url, targetStorage);
    expect(after.rows).toEqual(before.rows);
    expect(after.views).toEqual(before.views);
    expect(after.counts).toEqual(before.counts);
    expect(after.scans).toEqual(before.scans);
  }, 180_000);

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
    const count = db.prepare("SELECT tbl, dir, start, n FROM edge_count WHERE tbl LIKE '%likes' AND dir = 'OUT' AND n > 0 LIMIT 1").get() as { tbl: string; dir: string; start: string; n: number };
    db.prepare('UPDATE edge_count SET n = n + 5 WHERE tbl = ? AND dir = ? AND start = ?').run(count.tbl, count.dir, count.start);
    const idx = db.prepare("SELECT tbl, idx, dir, start, sortkey, ekey FROM edge_index WHERE tbl LIKE '%likes' AND idx = 'recent' AND dir = 'IN' LIMIT 1").get() as Record<string, unknown>;
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
  const dbs = (await api(url, 'GET', '/graph/v3/databases')).body.content;
  const out = { databases: dbs, tables: [] as unknown[], aliases: [] as unknown[] };
  for (const d of dbs) {
    out.tables.push(...(await api(url, 'GET', `/graph/v3/databases/${d.database}/tables`)).body.content.map((t: any) => ({ ...t, database: d.database })));
    out.aliases.push(...(await api(url, 'GET', `/graph/v3/databases/${d.database}/aliases`)).body.content.map((a: any) => ({ ...a, database: d.database })));
  }
  return out;
}
