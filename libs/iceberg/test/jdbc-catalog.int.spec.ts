/**
 * The JDBC catalog on a real PostgreSQL (tools/stack, a fresh database per test): Iceberg's catalog tables,
 * the compare-and-swap of metadata_location, and several committers (separate pools, as separate processes
 * would have) racing on one table without a lost or duplicated snapshot.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
// PostgreSQL for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createDatabase, ensurePostgres } from '@pipeline/stack';
import { tempDir } from '@pipeline/testing';
import {
  CommitConflictError,
  commitSnapshot,
  currentSnapshot,
  FolderCatalog,
  icebergSchema,
  JdbcCatalog,
  liveFiles,
  newTableMetadata,
  SNAPSHOT_COLUMNS,
  type Catalog,
  type DataFile,
  type TableIdent,
} from '../src/index';

const ident: TableIdent = { namespace: 'shop', name: 'likes' };
let serverUrl: string;
const drops: (() => Promise<void>)[] = [];
const catalogs: Catalog[] = [];

async function fresh(): Promise<{ url: string; warehouse: string; catalog: (name?: string) => JdbcCatalog }> {
  const db = await createDatabase(serverUrl, 'iceberg_catalog');
  drops.push(db.drop);
  const warehouse = tempDir('iceberg-jdbc');
  return {
    url: db.url,
    warehouse,
    catalog: (name = 'actionbase') => {
      const c = new JdbcCatalog({ url: db.url, catalogName: name, warehouse });
      catalogs.push(c);
      return c;
    },
  };
}

let n = 0;
function dataFile(location: string, rows: number): DataFile {
  mkdirSync(path.join(location, 'data'), { recursive: true });
  const p = path.join(location, 'data', `f${n++}-${process.pid}.parquet`);
  writeFileSync(p, 'x');
  return { content: 0, file_path: p, file_format: 'PARQUET', partition: {}, record_count: rows, file_size_in_bytes: 1, column_sizes: null, value_counts: null, null_value_counts: null, nan_value_counts: null, lower_bounds: null, upper_bounds: null, key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: null };
}

/** Appends one file on top of whatever is current, retrying on conflicts; returns the attempts it took. */
async function append(catalog: Catalog, rows: number): Promise<number> {
  const location = catalog.defaultLocation(ident);
  const init = () => newTableMetadata({ location, schema: icebergSchema(SNAPSHOT_COLUMNS), sortFieldIds: [1, 2, 3] });
  const file = dataFile(location, rows);
  for (let attempt = 1; ; attempt++) {
    const base = await catalog.loadTable(ident);
    const cur = base ? currentSnapshot(base.metadata) : undefined;
    try {
      await commitSnapshot(catalog, ident, base, init, { added: [file], kept: cur ? await liveFiles(cur) : [], removed: [] });
      return attempt;
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt > 50) throw err;
    }
  }
}

async function rows(url: string, sql: string, params: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await c.end();
  }
}

describe('JdbcCatalog on PostgreSQL', () => {
  beforeAll(async () => {
    serverUrl = (await ensurePostgres()).url;
  }, 120_000);
  afterAll(async () => {
    for (const c of catalogs) await c.close();
    for (const d of drops) await d();
  });

  it("creates Iceberg's catalog tables (Java JdbcCatalog V1 / pyiceberg SqlCatalog columns) and registers namespace and table", async () => {
    const { url, catalog } = await fresh();
    const c = catalog();
    await append(c, 3);
    const cols = await rows(
      url,
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN ('iceberg_tables', 'iceberg_namespace_properties') ORDER BY table_name, ordinal_position`,
    );
    expect(cols.map((r) => `${String(r['table_name'])}.${String(r['column_name'])}`)).toEqual([
      'iceberg_namespace_properties.catalog_name',
      'iceberg_namespace_properties.namespace',
      'iceberg_namespace_properties.property_key',
      'iceberg_namespace_properties.property_value',
      'iceberg_tables.catalog_name',
      'iceberg_tables.table_namespace',
      'iceberg_tables.table_name',
      'iceberg_tables.metadata_location',
      'iceberg_tables.previous_metadata_location',
      'iceberg_tables.iceberg_type',
    ]);
    const t = await rows(url, 'SELECT * FROM iceberg_tables');
    expect(t).toHaveLength(1);
    expect(t[0]).toMatchObject({ catalog_name: 'actionbase', table_namespace: 'shop', table_name: 'likes', previous_metadata_location: null, iceberg_type: 'TABLE' });
    expect(String(t[0]!['metadata_location'])).toMatch(/\/shop\/likes\/metadata\/00001-[0-9a-f-]+\.metadata\.json$/);
    expect(await rows(url, 'SELECT namespace, property_key, property_value FROM iceberg_namespace_properties')).toEqual([{ namespace: 'shop', property_key: 'exists', property_value: 'true' }]);
    // Another catalog name in the same database does not see it.
    expect(await catalog('other').listTables()).toEqual([]);
    expect(await c.listTables()).toEqual([ident]);
  });

  it('a commit on a stale base loses the swap, removes its files, and the row keeps the winner', async () => {
    const { url, catalog } = await fresh();
    const a = catalog();
    const b = catalog();
    await append(a, 1);
    const stale = (await a.loadTable(ident))!;
    await append(b, 2);
    const winner = (await rows(url, 'SELECT metadata_location, previous_metadata_location FROM iceberg_tables'))[0]!;
    expect(winner['previous_metadata_location']).toBe(stale.metadataLocation);
    const location = a.defaultLocation(ident);
    const init = () => newTableMetadata({ location, schema: icebergSchema(SNAPSHOT_COLUMNS) });
    const cur = currentSnapshot(stale.metadata)!;
    const files = () => readdirSync(path.join(location, 'metadata')).sort();
    const before = files();
    const err = await commitSnapshot(a, ident, stale, init, { added: [dataFile(location, 5)], kept: await liveFiles(cur), removed: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitConflictError);
    expect(files()).toEqual(before); // its manifest, manifest list and metadata file are gone
    expect((await rows(url, 'SELECT metadata_location FROM iceberg_tables'))[0]!['metadata_location']).toBe(winner['metadata_location']);
    // Creating an existing table conflicts too.
    const created = await commitSnapshot(a, ident, null, init, { added: [], kept: [], removed: [] }).catch((e: unknown) => e);
    expect(created).toBeInstanceOf(CommitConflictError);
  });

  it('four committers with their own pools append 5 files each: 20 snapshots in one chain, every file live once', async () => {
    const { catalog } = await fresh();
    const committers = Array.from({ length: 4 }, () => catalog());
    const attempts = await Promise.all(
      committers.map(async (c, i) => {
        const mine: number[] = [];
        for (let k = 0; k < 5; k++) mine.push(await append(c, 100 * (i + 1) + k));
        return mine;
      }),
    );
    const t = (await committers[0]!.loadTable(ident))!;
    const snaps = t.metadata.snapshots;
    expect(snaps).toHaveLength(20);
    // One linear history: each snapshot's parent is the one before it (no lost or forked commit).
    const bySeq = [...snaps].sort((x, y) => x['sequence-number'] - y['sequence-number']);
    bySeq.forEach((s, i) => expect(s['parent-snapshot-id']).toBe(i ? bySeq[i - 1]!['snapshot-id'] : undefined));
    const live = await liveFiles(currentSnapshot(t.metadata)!);
    expect(live.map((f) => f.dataFile.record_count).sort((x, y) => x - y)).toEqual([100, 101, 102, 103, 104, 200, 201, 202, 203, 204, 300, 301, 302, 303, 304, 400, 401, 402, 403, 404]);
    expect(currentSnapshot(t.metadata)!.summary['total-records']).toBe(String(live.reduce((a, f) => a + f.dataFile.record_count, 0)));
    // How often a writer lost the race (printed, not asserted: it depends on scheduling).
    console.info(`4 committers x 5 appends: ${attempts.flat().reduce((a, x) => a + x, 0) - 20} lost swaps retried`);
  }, 120_000);

  it('registers a folder table with its history (switching a warehouse to the JDBC catalog)', async () => {
    const { warehouse, catalog } = await fresh();
    const folder = new FolderCatalog(warehouse);
    await append(folder, 1);
    await append(folder, 2);
    const file = (await folder.latestMetadataFile(ident))!;
    const c = catalog();
    const t = await c.registerTable(ident, file);
    expect(t.metadata.snapshots).toHaveLength(2);
    await append(c, 3); // continues on top of the folder table's history
    const after = (await c.loadTable(ident))!;
    expect(after.metadata.snapshots).toHaveLength(3);
    expect(path.basename(after.metadataLocation)).toMatch(/^00003-/);
    expect(existsSync(after.metadataLocation)).toBe(true);
    await expect(c.registerTable(ident, file)).rejects.toBeInstanceOf(CommitConflictError);
  });
});
