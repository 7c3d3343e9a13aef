/**
 * Must-show: a backfill spec loads a snapshot of the snapshotter's Iceberg table into a fresh datasource whose
 * SUM(accumulator) per target equals the core's IN counts. Real core, real Kafka, the real snapshotter as its own
 * process (as apps/wal-replay's Iceberg test runs it), real Druid.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { readIcebergTable } from '@pipeline/iceberg';
import { ensureDruid } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import { runSnapshotBackfill } from '../src/backfill';
import { dropAll, druidTotals, inCount, like, mutate, newDataSource, startEnv, supervisorOptions, type Env } from '../src/testing';

const TARGETS = [1, 2, 3, 4, 5, 6];
let env: Env;
const created: string[] = [];

beforeAll(async () => {
  env = await startEnv();
  let v = 1_000;
  for (let u = 0; u < 12; u++) await mutate(env.core, env.table, TARGETS.filter((t) => (u + t) % 3 !== 0).map((t) => like(`u${u}`, t, v++)));
  await mutate(env.core, env.table, [like('u1', 1, v++, 'DELETE'), like('u2', 2, v++, 'DELETE'), like('u4', 2, v++, 'DELETE')]);
  await mutate(env.core, env.table, [like('u1', 1, v++)]); // liked again after the unlike
}, 300_000);

afterAll(async () => {
  for (const ds of created) await dropAll(env.druid, ds);
  await env?.core.stop();
}, 180_000);

describe('backfill from a snapshotter Iceberg snapshot', () => {
  it('a backfill spec loads a snapshot into a datasource whose totals match the core', async () => {
    const expected = new Map(await Promise.all(TARGETS.map(async (t) => [String(t), await inCount(env.core, env.table, t)] as [string, number])));
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(30);

    const warehouse = tempDir('druid-snap-wh');
    const snapshotter = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/snapshotter/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, KAFKA_BROKERS: env.bootstrap, CDC_TOPIC: env.cdc, CONSUMER_GROUP: uniqueName('druid-snap'), HTTP_PORT: String(await freePort()), WAREHOUSE_DIR: warehouse, STAGING_DIR: tempDir('druid-snap-st'), COMMIT_INTERVAL_MS: '500', CHANGELOG_ENABLED: 'false', LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    let snapshotId: number;
    try {
      // The workload is over, so the table converges to the core's state; wait for a snapshot holding all of it.
      snapshotId = await waitFor(
        'a snapshot holding every like',
        async () => {
          const r = await readIcebergTable(warehouse, 'shop', env.table, false, []);
          return r !== undefined && r.snapshotId !== null && r.states.length === total && r.snapshotId;
        },
        90_000,
      );
    } finally {
      snapshotter.kill('SIGTERM');
      await new Promise((r) => snapshotter.once('exit', r));
    }

    const ds = newDataSource('it_snapshot');
    created.push(ds);
    const result = await runSnapshotBackfill(env.druid, {
      ...supervisorOptions(env, ds),
      table: path.join(warehouse, 'shop', env.table),
      snapshotId,
      dir: tempDir('druid-snap-bf'),
      replace: true,
      timeoutMs: 240_000,
    });
    expect(result.state).toBe('SUCCESS');
    expect(result.export.snapshotId).toBe(snapshotId);
    expect(result.export.written).toBe(total);
    expect(result.spec.type).toBe('index_parallel');

    const totals = await waitFor(
      'the snapshot segments to be queryable',
      async () => {
        const t = await druidTotals(env.druid, ds, env.table);
        const events = [...t.values()].reduce((a, b) => a + b.events, 0);
        return events === total && t;
      },
      180_000,
    );
    for (const t of TARGETS) expect({ target: t, net: totals.get(String(t))?.net }).toEqual({ target: t, net: expected.get(String(t)) });

    // The operator's path: `cli.ts backfill --from-snapshot <warehouse>/<db>/<table>` (the current snapshot).
    const ds2 = newDataSource('it_snapshot_cli');
    created.push(ds2);
    const { coordinatorUrl, brokerUrl } = await ensureDruid();
    const cli = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(repoRoot, 'apps/druid-ingest/src/cli.ts'), 'backfill', '--from-snapshot', path.join(warehouse, 'shop', env.table), '--datasource', ds2],
      { cwd: repoRoot, env: { ...process.env, DRUID_URL: coordinatorUrl, DRUID_BROKER_URL: brokerUrl, KAFKA_BROKERS: env.bootstrap, BACKFILL_DIR: tempDir('druid-snap-cli'), LOG_LEVEL: 'warn' }, timeout: 240_000 },
    );
    expect(cli.stdout).toContain(`SUCCESS; ${total} edges of snapshot`);
    const cliTotals = await waitFor(
      'the CLI backfill to be queryable',
      async () => {
        const t = await druidTotals(env.druid, ds2, env.table);
        return [...t.values()].reduce((a, b) => a + b.events, 0) === total && t;
      },
      180_000,
    );
    for (const t of TARGETS) expect({ target: t, net: cliTotals.get(String(t))?.net }).toEqual({ target: t, net: expected.get(String(t)) });
  }, 400_000);
});
