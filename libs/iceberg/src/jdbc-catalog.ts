/**
 * Iceberg's JDBC catalog on PostgreSQL, through `pg`. The tables and columns are the ones Iceberg Java's
 * JdbcCatalog (schema V1) and pyiceberg's SqlCatalog share, so those (and engines built on them, e.g. Trino's
 * `iceberg.catalog.type=jdbc`) see the same tables:
 *
 *   iceberg_tables(catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
 *   iceberg_namespace_properties(catalog_name, namespace, property_key, property_value)
 *
 * A commit writes the new metadata file `<location>/metadata/<5-digit version>-<uuid>.metadata.json` (Iceberg Java's
 * naming) completely, then swaps the row's metadata_location from the base's to it in one UPDATE ... WHERE
 * metadata_location = <base>: zero rows updated means another writer committed first.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { CommitConflictError, identString, metadataVersion, readMetadataFile, tableLocation, type Catalog, type LoadedTable, type TableIdent } from './catalog';
import { localPath, writeDurable, syncDir } from './io';
import { stringifyMetadata, type TableMetadata } from './metadata';

export interface JdbcCatalogOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** `catalog_name` of every row: several catalogs may share the tables. */
  catalogName: string;
  /** Where new tables' files go: `<warehouse>/<namespace>/<table>`. */
  warehouse: string;
  /** Connections in the pool (default 4). */
  poolSize?: number;
}

// Iceberg Java's JdbcUtil (V1) and pyiceberg's SqlCatalog: same names, types and keys.
const DDL = [
  `CREATE TABLE IF NOT EXISTS iceberg_tables (
    catalog_name VARCHAR(255) NOT NULL,
    table_namespace VARCHAR(255) NOT NULL,
    table_name VARCHAR(255) NOT NULL,
    metadata_location VARCHAR(1000),
    previous_metadata_location VARCHAR(1000),
    iceberg_type VARCHAR(5),
    PRIMARY KEY (catalog_name, table_namespace, table_name))`,
  `CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
    catalog_name VARCHAR(255) NOT NULL,
    namespace VARCHAR(255) NOT NULL,
    property_key VARCHAR(255) NOT NULL,
    property_value VARCHAR(1000),
    PRIMARY KEY (catalog_name, namespace, property_key))`,
];

export class JdbcCatalog implements Catalog {
  readonly kind = 'jdbc';
  private readonly pool: pg.Pool;
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: JdbcCatalogOptions) {
    this.pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 4 });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  get catalogName(): string {
    return this.opts.catalogName;
  }

  /** Creates the catalog tables when missing (idempotent; safe from several instances at once). */
  init(): Promise<void> {
    this.ready ??= (async () => {
      // Concurrent CREATE TABLE IF NOT EXISTS still race in PostgreSQL (the loser fails on the table's row
      // type); a transaction-scoped advisory lock makes the instances create the tables one after another.
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query("SELECT pg_advisory_xact_lock(hashtext('iceberg jdbc catalog tables'))");
        for (const sql of DDL) await client.query(sql);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    })().catch((err: unknown) => {
      this.ready = undefined;
      throw new Error(`JDBC catalog at ${redact(this.opts.url)}: cannot create the catalog tables: ${(err as Error).message}`, { cause: err });
    });
    return this.ready;
  }

  defaultLocation(ident: TableIdent): string {
    return tableLocation(this.opts.warehouse, ident);
  }

  async currentLocation(ident: TableIdent): Promise<string | null> {
    await this.init();
    const r = await this.pool.query<{ metadata_location: string | null }>(
      `SELECT metadata_location FROM iceberg_tables
        WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)`,
      [this.opts.catalogName, ident.namespace, ident.name],
    );
    return r.rows[0]?.metadata_location ?? null;
  }

  async loadTable(ident: TableIdent): Promise<LoadedTable | null> {
    const loc = await this.currentLocation(ident);
    if (!loc) return null;
    return { ident, metadataLocation: loc, metadata: await readMetadataFile(loc) };
  }

  async commitTable(ident: TableIdent, base: LoadedTable | null, metadata: TableMetadata): Promise<LoadedTable> {
    await this.init();
    const dir = path.join(localPath(metadata.location), 'metadata');
    await mkdir(dir, { recursive: true });
    const version = (base ? metadataVersion(base.metadataLocation) : 0) + 1;
    const file = path.join(dir, `${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`);
    await writeDurable(file, Buffer.from(stringifyMetadata(metadata)));
    await syncDir(dir);
    // An error here (connection lost mid-statement) leaves the outcome unknown: the row may name the file, so
    // it stays; orphan removal takes it later if no metadata reaches it.
    const swapped = base ? await this.swap(ident, base.metadataLocation, file) : await this.insert(ident, file);
    if (!swapped) {
      await rm(file, { force: true });
      throw new CommitConflictError(`${identString(ident)}: ${base ? `${base.metadataLocation} is no longer current` : 'the table was created by another writer'}`);
    }
    return { ident, metadataLocation: file, metadata };
  }

  /** Registers an existing metadata file as a table (e.g. a folder table moving to this catalog). */
  async registerTable(ident: TableIdent, metadataLocation: string): Promise<LoadedTable> {
    await this.init();
    if (!(await this.insert(ident, metadataLocation))) throw new CommitConflictError(`${identString(ident)} is already in catalog ${this.opts.catalogName}`);
    return { ident, metadataLocation, metadata: await readMetadataFile(metadataLocation) };
  }

  private async swap(ident: TableIdent, from: string, to: string): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE iceberg_tables SET metadata_location = $1, previous_metadata_location = $2
        WHERE catalog_name = $3 AND table_namespace = $4 AND table_name = $5 AND metadata_location = $2`,
      [to, from, this.opts.catalogName, ident.namespace, ident.name],
    );
    return r.rowCount === 1;
  }

  private async insert(ident: TableIdent, location: string): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // The namespace exists once it has a property row (Iceberg Java and pyiceberg write `exists`).
      await client.query(
        `INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value)
         VALUES ($1, $2, 'exists', 'true') ON CONFLICT DO NOTHING`,
        [this.opts.catalogName, ident.namespace],
      );
      const r = await client.query(
        `INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
         VALUES ($1, $2, $3, $4, NULL, 'TABLE') ON CONFLICT DO NOTHING`,
        [this.opts.catalogName, ident.namespace, ident.name, location],
      );
      await client.query('COMMIT');
      return r.rowCount === 1;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async listTables(): Promise<TableIdent[]> {
    await this.init();
    const r = await this.pool.query<{ table_namespace: string; table_name: string }>(
      `SELECT table_namespace, table_name FROM iceberg_tables
        WHERE catalog_name = $1 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL) ORDER BY 1, 2`,
      [this.opts.catalogName],
    );
    return r.rows.map((row) => ({ namespace: row.table_namespace, name: row.table_name }));
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** A connection URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
