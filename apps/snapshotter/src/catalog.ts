/**
 * The catalog the snapshotter commits through, from its configuration: the folder catalog (Hadoop-style, the
 * embedded default), the JDBC catalog on PostgreSQL, or an Iceberg REST catalog server. Switching a warehouse to
 * JDBC or REST registers the folder tables it already has, so no history is lost and nothing is re-created.
 */
import { FolderCatalog, identString, JdbcCatalog, RestCatalog, type Catalog } from '@pipeline/iceberg';
import type { Logger } from 'pino';
import type { CatalogConfig } from './config';

export function catalogFromConfig(c: CatalogConfig): Catalog {
  if (c.CATALOG === 'folder') return new FolderCatalog(c.WAREHOUSE_DIR);
  if (c.CATALOG === 'rest') return new RestCatalog({ uri: c.CATALOG_URL!, warehouse: c.WAREHOUSE_DIR, ...(c.CATALOG_TOKEN ? { token: c.CATALOG_TOKEN } : {}) });
  return new JdbcCatalog({ url: c.CATALOG_URL!, catalogName: c.CATALOG_NAME, warehouse: c.WAREHOUSE_DIR, poolSize: c.CATALOG_POOL_SIZE });
}

/** Registers in the JDBC or REST catalog every folder table of the warehouse it does not have yet. Returns their names. */
export async function adoptFolderTables(catalog: Catalog, warehouse: string, log?: Logger): Promise<string[]> {
  if (!(catalog instanceof JdbcCatalog) && !(catalog instanceof RestCatalog)) return [];
  const folder = new FolderCatalog(warehouse);
  const known = new Set((await catalog.listTables()).map(identString));
  const adopted: string[] = [];
  for (const ident of await folder.listTables()) {
    if (known.has(identString(ident))) continue;
    const file = await folder.latestMetadataFile(ident);
    if (!file) continue;
    try {
      await catalog.registerTable(ident, file);
      adopted.push(identString(ident));
      log?.info({ table: identString(ident), metadata: file }, `registered a folder table in the ${catalog.kind} catalog`);
    } catch (err) {
      // Another instance registered it first: fine.
      log?.debug({ err, table: identString(ident) }, 'folder table already registered');
    }
  }
  return adopted;
}
