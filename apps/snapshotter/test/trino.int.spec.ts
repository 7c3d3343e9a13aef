/**
 * Trino reads the snapshotter's tables through the Iceberg REST catalog: the snapshotter commits (CATALOG=rest) to
 * the stack's iceberg-rest server, and Trino's Iceberg connector on the same server answers the ad-hoc queries
 * (row count, top targets, active edges per day, one user's current edges) as the core does.
 *
 * `npm test` starts Trino once per run with the other services (tools/scripts/test-all.sh); run alone, this test
 * starts it (`npx tsx tools/stack/src/cli.ts up trino`: an ~820 MB download the first time, then about a minute).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { RestCatalog, type TableIdent } from '@pipeline/iceberg';
import { ensureIcebergRest, ensureKafka, ensureTrino, trinoQuery } from '@pipeline/stack';
import { api, CoreProcess, freePort, tempStorage, uniqueName } from '@pipeline/testing';
import { adhocSql, coreEdges, expectAdhocQueriesMatch, workload } from './catalog-workload';
import { SnapshotterProcess, tempDir, waitFor } from './helpers';

describe('snapshotter tables read by Trino (Iceberg connector on the REST catalog)', () => {
  let bootstrap: string;
  let restUrl: string;
  let trinoUrl: string;
  let core: CoreProcess | undefined;
  const procs: SnapshotterProcess[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    restUrl = (await ensureIcebergRest()).url;
    trinoUrl = (await ensureTrino()).url;
  }, 45 * 60_000);
  /** Tables made in the shared catalog: dropped after the file, before their warehouse folder goes. */
  const made: TableIdent[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await core?.stop('SIGKILL');
  });
  afterAll(async () => {
    for (const ident of made) await new RestCatalog({ uri: restUrl, warehouse: '' }).dropTable(ident);
  }, 60_000);

  it('Trino answers row count, top targets, edges per day and one user\'s edges as the core', async () => {
    // A database of its own: it is the namespace (Trino's schema) in the shared REST catalog.
    const db = `trino_${randomBytes(5).toString('hex')}`;
    made.push({ namespace: db, name: 'likes' });
    const cdc = uniqueName('it.snaptrino.cdc');
    core = new CoreProcess({
      PORT: String(await freePort()),
      KAFKA_BROKERS: bootstrap,
      WAL_TOPIC: uniqueName('it.snaptrino.wal'),
      CDC_TOPIC: cdc,
      STORAGE_PATH: tempStorage(),
    });
    await core.start();
    expect((await api(core.url, 'POST', '/graph/v3/databases', { database: db })).status).toBe(200);
    const created = await api(core.url, 'POST', `/graph/v3/databases/${db}/tables`, {
      table: 'likes',
      schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
      direction: 'BOTH',
      indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
      mode: 'SYNC',
    });
    expect(created.status).toBe(200);

    const p = new SnapshotterProcess({
      CATALOG: 'rest',
      CATALOG_URL: restUrl,
      WAREHOUSE_DIR: tempDir('warehouse'),
      KAFKA_BROKERS: bootstrap,
      CDC_TOPIC: cdc,
      CONSUMER_GROUP: uniqueName('it.snaptrino.group'),
      STAGING_DIR: tempDir('staging'),
      COMMIT_INTERVAL_MS: '300',
      BATCH_MAX_WAIT_MS: '200',
    });
    procs.push(p);
    p.start();
    await p.waitForLog('the snapshotter consumes');

    await workload(core.url, 'likes', 4, 25, 0.3, db);
    const edges = await coreEdges(core.url, 'likes', db);
    const table = `iceberg.${db}.likes`;
    const q = (sql: string) => trinoQuery(trinoUrl, sql);
    await waitFor(
      `Trino's count(*) of ${table} equals the core's ${edges.length} active edges`,
      async () => {
        const r = await q(`SELECT count(*) FROM ${table}`).catch(() => undefined);
        return r?.[0]?.[0] === edges.length;
      },
      120_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\nsnapshotter output:\n${p.output.slice(-3000)}`);
    });
    await expectAdhocQueriesMatch(edges, q, adhocSql('trino', table));
    // No edge twice.
    expect(await q(`SELECT count(*) FROM (SELECT source, target FROM ${table} GROUP BY source, target HAVING count(*) > 1)`)).toEqual([[0]]);
  }, 900_000);
});
