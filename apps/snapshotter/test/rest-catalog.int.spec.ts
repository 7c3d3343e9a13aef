/**
 * The snapshotter through an Iceberg REST catalog: Iceberg's reference server (tools/stack `iceberg-rest`), a
 * private one for this test (own folder, port and PostgreSQL database, so the `shop` namespace starts empty).
 * Two instances with their own working folders commit to the same tables through it; pyiceberg's RestCatalog
 * reads them, DuckDB runs the ad-hoc queries on the metadata file the catalog names, and both answer what the
 * core answers. Then history and rollback through the same catalog.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ensureKafka, ensurePostgres, startIcebergRest, stopIcebergRest } from '@pipeline/stack';
import { localPath } from '@pipeline/iceberg';
import { createKafka } from '@pipeline/kafka';
import { CoreProcess, createLikes, freePort, tempStorage, uniqueName } from '@pipeline/testing';
import { coreEdges, expectAdhocQueriesMatch, icebergEdgesOf, workload } from './catalog-workload';
import { duckdb, ensurePython, icebergEdges, maintain, readCatalog, SnapshotterProcess, sorted, tempDir, waitFor } from './helpers';

describe('snapshotter: Iceberg REST catalog, read by pyiceberg (RestCatalog) and DuckDB', () => {
  let bootstrap: string;
  let python: string;
  let pgServer: string;
  let restUrl: string;
  const serverDir = tempDir('iceberg-rest');
  const database = `snap_rest_${randomBytes(5).toString('hex')}`;
  let core: CoreProcess | undefined;
  const procs: SnapshotterProcess[] = [];
  /** The first test's warehouse, whose shop.likes the second test works on. */
  let ownWarehouse: string | undefined;

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    python = await ensurePython();
    pgServer = (await ensurePostgres()).url;
    restUrl = (await startIcebergRest({ dir: serverDir, port: await freePort(), database })).url;
  }, 900_000);
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await core?.stop('SIGKILL');
  });
  afterAll(async () => {
    await stopIcebergRest({ dir: serverDir }).catch(() => undefined);
    const c = new pg.Client({ connectionString: pgServer });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).finally(() => c.end());
  }, 60_000);

  it('two instances commit through the REST catalog without loss or duplication; pyiceberg and DuckDB answer as the core; history and rollback act through it', async () => {
    const cdc = uniqueName('it.snaprest.cdc');
    core = new CoreProcess({
      PORT: String(await freePort()),
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: uniqueName('it.snaprest.wal'),
      CDC_TOPIC: cdc,
      WAL_PARTITIONS: '3',
      CDC_PARTITIONS: '3',
      STORAGE_PATH: tempStorage(),
    });
    await core.start();
    await createLikes(core.url, 'likes');

    const catalogEnv = { CATALOG: 'rest', CATALOG_URL: restUrl, WAREHOUSE_DIR: tempDir('warehouse') };
    const group = uniqueName('it.snaprest.group');
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
      });
      procs.push(p);
      p.start();
      return p;
    };
    const a = start();
    await a.waitForLog('the first snapshotter consumes');
    const b = start();
    await b.waitForLog('the second snapshotter joined the group with partitions', /"assignment":\[\{.*"msg":"consuming"/);

    await workload(core.url, 'likes', 3, 25, 0.3);
    const expected = sorted(icebergEdgesOf(await coreEdges(core.url, 'likes')));
    const read = await waitFor(
      `pyiceberg (RestCatalog) rows of shop.likes equal the core's ${expected.length} active edges`,
      async () => {
        const r = await readCatalog(python, restUrl, 'rest', 'shop.likes', true).catch(() => undefined);
        return r !== undefined && JSON.stringify(sorted(icebergEdges(r.rows))) === JSON.stringify(expected) && r;
      },
      120_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nsnapshotter output:\n${procs.map((p) => p.output.slice(-3000)).join('\n---\n')}`);
    });
    const keys = read.rows.map((r) => `${r.source}|${r.target}`);
    expect(new Set(keys).size).toBe(keys.length); // no edge twice
    expect(read.tables).toEqual(['shop.likes']);
    // The server wrote the metadata files (Iceberg Java's names) in the table's folder under our warehouse.
    expect(read.metadata).toMatch(new RegExp(`^(file:)?${catalogEnv.WAREHOUSE_DIR}/shop/likes/metadata/\\d{5}-[0-9a-f-]+\\.metadata\\.json$`));
    // Both instances committed, on one linear history.
    expect(new Set(read.snapshots!.map((s) => s.summary['snapshotter.writer'])).size).toBe(2);
    const ids = new Set(read.snapshots!.map((s) => s.id));
    expect(read.snapshots!.filter((s) => s.parent === null || !ids.has(s.parent))).toHaveLength(1);

    await expectAdhocQueriesMatch(await coreEdges(core.url, 'likes'), (sql) => duckdb(python, localPath(read.metadata), sql).then((r) => r.rows));

    // History and rollback through the REST catalog (the maintenance command with the same environment).
    await Promise.all([a.stop('SIGTERM'), b.stop('SIGTERM')]);
    const hist = await maintain(catalogEnv, ['history', 'shop.likes']);
    expect(hist.code).toBe(0);
    const snaps = JSON.parse(hist.out) as { snapshotId: string; current: boolean; totalRecords: number }[];
    const earlier = snaps[Math.floor(snaps.length / 2)]!;
    const rolled = await maintain(catalogEnv, ['rollback', 'shop.likes', '--snapshot-id', earlier.snapshotId]);
    expect(rolled.code).toBe(0);
    const after = await readCatalog(python, restUrl, 'rest', 'shop.likes');
    expect(String(after.current)).toBe(earlier.snapshotId);
    expect(after.rows.length).toBe(earlier.totalRecords);
    ownWarehouse = catalogEnv.WAREHOUSE_DIR;
  }, 600_000);

  it("a snapshotter leaves the files of a table outside its warehouse alone, and a table the catalog cannot load does not hold up its start", async () => {
    if (!ownWarehouse) throw new Error('runs after the first test, on the table it left in the catalog');
    const likes = path.join(ownWarehouse, 'shop', 'likes');
    // A stray file in shop.likes's data folder, old enough for any orphan sweep.
    const stray = path.join(likes, 'data', 'stray-not-in-any-snapshot.parquet');
    writeFileSync(stray, 'x');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(stray, hourAgo, hourAgo);
    const idle = uniqueName('it.snaprest.idle'); // a CDC topic with nothing on it: only the start is under test
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'it-snaprest' }).admin();
    await admin.ensureTopics([{ name: idle, partitions: 1 }]);
    await admin.close();
    const start = (warehouse: string) => {
      const p = new SnapshotterProcess({
        CATALOG: 'rest',
        CATALOG_URL: restUrl,
        WAREHOUSE_DIR: warehouse,
        KAFKA_BROKERS: bootstrap,
        CDC_TOPIC: idle,
        CONSUMER_GROUP: uniqueName('it.snaprest.idle'),
        STAGING_DIR: tempDir('staging'),
        ORPHAN_MIN_AGE_MS: '1',
      });
      procs.push(p);
      p.start();
      return p;
    };
    // Another warehouse: shop.likes is not its table, so its stray file stays.
    const other = start(tempDir('warehouse-other'));
    await other.waitForLog('a snapshotter with another warehouse consumes');
    expect(existsSync(stray)).toBe(true);
    await other.stop('SIGTERM');
    // Its current metadata file gone, the catalog cannot load shop.likes: the start goes on with a warning.
    const metadata = readdirSync(path.join(likes, 'metadata')).filter((n) => n.endsWith('.metadata.json'));
    for (const n of metadata) rmSync(path.join(likes, 'metadata', n));
    const own = start(ownWarehouse);
    await own.waitForLog('a snapshotter whose table cannot be loaded consumes');
    expect(own.output).toMatch(/"table":"shop\.likes".*"msg":"could not look for orphan files of this table; left for the next start"/);
  }, 300_000);
});
