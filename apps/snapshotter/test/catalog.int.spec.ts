/**
 * The snapshotter through the JDBC catalog on a real PostgreSQL (tools/stack, a fresh database per test): two
 * instances with their own working folders commit to the same tables; pyiceberg's SqlCatalog reads them
 * through the catalog, DuckDB runs ad-hoc queries on them, and both answer what the core answers. Then the
 * maintenance commands (history, rollback, compaction, expiry) through the same catalog.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createDatabase, ensureKafka, ensurePostgres } from '@pipeline/stack';
import { CoreProcess, createLikes, freePort, tempStorage, uniqueName } from '@pipeline/testing';
import { coreEdges, expectAdhocQueriesMatch, icebergEdgesOf, workload } from './catalog-workload';
import { checkFiles, duckdb, ensurePython, icebergEdges, maintain, readCatalog, SnapshotterProcess, sorted, tempDir, waitFor } from './helpers';

describe('snapshotter: JDBC catalog on PostgreSQL, read by pyiceberg (SqlCatalog) and DuckDB', () => {
  let bootstrap: string;
  let python: string;
  let pgServer: string;
  let core: CoreProcess | undefined;
  const procs: SnapshotterProcess[] = [];
  const drops: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    python = await ensurePython();
    pgServer = (await ensurePostgres()).url;
  }, 900_000);
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await core?.stop('SIGKILL');
  });
  afterAll(async () => {
    for (const d of drops) await d().catch(() => undefined);
  });

  it('two instances with their own working folders commit through the catalog without loss or duplication; pyiceberg and DuckDB answer as the core; maintenance commands act through the catalog', async () => {
    const db = await createDatabase(pgServer, 'snap_catalog');
    drops.push(db.drop);
    const cdc = uniqueName('it.snapcat.cdc');
    core = new CoreProcess({
      PORT: String(await freePort()),
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: uniqueName('it.snapcat.wal'),
      CDC_TOPIC: cdc,
      WAL_PARTITIONS: '3',
      CDC_PARTITIONS: '3',
      STORAGE_PATH: tempStorage(),
    });
    await core.start();
    await createLikes(core.url, 'likes');
    await createLikes(core.url, 'follows');

    const warehouse = tempDir('warehouse');
    const catalogEnv = { CATALOG: 'jdbc', CATALOG_URL: db.url, CATALOG_NAME: 'it', WAREHOUSE_DIR: warehouse };
    const group = uniqueName('it.snapcat.group');
    const start = () => {
      const p = new SnapshotterProcess({
        ...catalogEnv,
        KAFKA_BROKERS: bootstrap,
        CDC_TOPIC: cdc,
        CONSUMER_GROUP: group,
        STAGING_DIR: tempDir('staging'), // each instance its own working folder
        COMMIT_INTERVAL_MS: '300',
        BATCH_MAX_WAIT_MS: '200',
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        KAFKA_REBALANCE_TIMEOUT_MS: '10000',
        SNAPSHOT_MIN_KEEP: '1000',
        TARGET_FILE_ROWS: '10', // many small files, for the compaction below
        COMPACT_MIN_FILES: '1000',
      });
      procs.push(p);
      p.start();
      return p;
    };
    const a = start();
    await a.waitForLog('the first snapshotter consumes');
    const b = start();
    // The second one logs its assignment once the group rebalanced with both members: the CDC partitions are
    // split between them from here on, so both commit to the same tables.
    await b.waitForLog('the second snapshotter joined the group with partitions', /"assignment":\[\{.*"msg":"consuming"/);

    await workload(core.url, 'likes', 1, 25, 0.3);
    await workload(core.url, 'follows', 2, 10, 0.3);

    const converged = async (table: string, what: string) => {
      const expected = sorted(icebergEdgesOf(await coreEdges(core!.url, table)));
      const read = await waitFor(
        `${what}: pyiceberg (SqlCatalog) rows of shop.${table} equal the core's ${expected.length} active edges`,
        async () => {
          const r = await readCatalog(python, db.url, 'it', `shop.${table}`, true).catch(() => undefined);
          return r !== undefined && JSON.stringify(sorted(icebergEdges(r.rows))) === JSON.stringify(expected) && r;
        },
        90_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\nsnapshotter output:\n${procs.map((p) => p.output.slice(-3000)).join('\n---\n')}`);
      });
      const keys = read.rows.map((r) => `${r.source}|${r.target}`);
      expect(new Set(keys).size).toBe(keys.length); // no edge twice
      return read;
    };
    const likes = await converged('likes', 'two writers');
    await converged('follows', 'two writers');
    expect(likes.tables).toEqual(['shop.follows', 'shop.likes']);
    // Both instances committed snapshots of these tables, on one linear history.
    const writers = new Set(likes.snapshots!.map((s) => s.summary['snapshotter.writer']));
    const follows = await readCatalog(python, db.url, 'it', 'shop.follows', true);
    for (const s of follows.snapshots!) writers.add(s.summary['snapshotter.writer']);
    expect(writers.size).toBe(2);
    const ids = new Set(likes.snapshots!.map((s) => s.id));
    expect(likes.snapshots!.filter((s) => s.parent === null || !ids.has(s.parent))).toHaveLength(1);
    expect(likes.metadata).toMatch(/\/shop\/likes\/metadata\/\d{5}-[0-9a-f-]+\.metadata\.json$/);

    // Ad-hoc queries with DuckDB on the table the catalog names, against the core's answers.
    const edges = await coreEdges(core.url, 'likes');
    const q = (sql: string) => duckdb(python, likes.metadata, sql).then((r) => r.rows);
    await expectAdhocQueriesMatch(edges, q);

    // Stop the writers, then maintenance through the catalog.
    await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    const env = { ...catalogEnv, TARGET_FILE_ROWS: '100000' };
    const hist = await maintain(env, ['history', 'shop.likes']);
    expect(hist.code).toBe(0);
    const snaps = JSON.parse(hist.out) as { snapshotId: string; current: boolean; totalRecords: number }[];
    expect(snaps.length).toBe(likes.snapshots!.length);
    const earlier = snaps[Math.floor(snaps.length / 2)]!;
    const rolled = await maintain(env, ['rollback', 'shop.likes', '--snapshot-id', earlier.snapshotId]);
    expect(rolled.progress).toContain(`-> ${earlier.snapshotId}`);
    expect(rolled.code).toBe(0);
    const afterRollback = await readCatalog(python, db.url, 'it', 'shop.likes', true);
    expect(String(afterRollback.current)).toBe(earlier.snapshotId);
    const earlierRead = afterRollback.snapshots!.find((s) => String(s.id) === earlier.snapshotId)!;
    expect(sorted(icebergEdges(afterRollback.rows))).toEqual(sorted(icebergEdges(earlierRead.rows)));
    expect(afterRollback.rows.length).toBe(earlier.totalRecords);

    // Roll forward again, compact every file into one, expire all but the current snapshot.
    const newest = snaps[snaps.length - 1]!;
    expect((await maintain(env, ['rollback', 'shop.likes', '--snapshot-id', newest.snapshotId])).code).toBe(0);
    const compact = await maintain(env, ['compact', 'shop.likes', '--small-file-rows', '100000']);
    expect(compact.code).toBe(0);
    expect(JSON.parse(compact.out)).toMatchObject({ operation: 'replace', addedFiles: 1, existingFiles: 0 });
    expect(JSON.parse(compact.out).deletedFiles).toBeGreaterThan(1);
    const expire = await maintain(env, ['expire', 'shop.likes', '--older-than-ms', '0', '--retain-last', '1']);
    expect(expire.code).toBe(0);
    const deleted = /expired (\d+) snapshots, deleted (\d+) files/.exec(expire.progress);
    expect(Number(deleted?.[1])).toBe(snaps.length + 1 - 1); // every snapshot but the compacted one
    expect(Number(deleted?.[2])).toBeGreaterThan(0);
    const final = await readCatalog(python, db.url, 'it', 'shop.likes', true);
    expect(final.snapshots).toHaveLength(1);
    expect(final.summary!['total-data-files']).toBe('1');
    expect(sorted(icebergEdges(final.rows))).toEqual(sorted(icebergEdgesOf(edges)));
    // Every file the remaining snapshot names exists with its exact size and row count (pyarrow).
    expect((await checkFiles(python, final.metadata)).problems).toEqual([]);
    const bad = await maintain(env, ['rollback', 'shop.likes', '--snapshot-id', earlier.snapshotId]);
    expect(bad.code).toBe(1);
    expect(bad.progress).toMatch(/is not in shop\.likes .*history command/);
  }, 600_000);
});
