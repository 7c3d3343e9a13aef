/**
 * Catalogs: where a table's current metadata file is recorded, and the atomic swap that commits a new one.
 * A commit is optimistic: the writer read `base`, wrote a complete new metadata file, and the catalog installs it
 * only if `base` is still current; otherwise CommitConflictError, and the writer re-reads and retries on top of
 * the winner.
 *
 * - FolderCatalog: the Hadoop-style layout engines open without a catalog service
 *   (`<warehouse>/<namespace>/<table>/metadata/vN.metadata.json` + `version-hint.text`); the swap is link(2)
 *   of `v(N+1).metadata.json`, which fails when that name exists. One host (or a file system with atomic link).
 * - JdbcCatalog (jdbc-catalog.ts): Iceberg's JDBC catalog tables on PostgreSQL; the swap is an UPDATE ... WHERE
 *   metadata_location = <base>. Several hosts; Iceberg Java's JdbcCatalog, pyiceberg's SqlCatalog and Trino
 *   read the same rows.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PipelineError } from '@pipeline/errors';
import { localPath, writeDurable, syncDir } from './io';
import { parseMetadata, stringifyMetadata, type TableMetadata } from './metadata';

export interface TableIdent {
  /** The Actionbase database. */
  namespace: string;
  /** The Actionbase table. */
  name: string;
}

export interface LoadedTable {
  ident: TableIdent;
  /** Absolute path of the current metadata file: the token a commit compares. */
  metadataLocation: string;
  metadata: TableMetadata;
}

/** Another writer committed first. Retryable: load the table again and commit on top of what is there. */
export class CommitConflictError extends PipelineError {
  override readonly name = 'CommitConflictError';
  override readonly code = 'ICEBERG_COMMIT_CONFLICT' as const;
  override readonly retryable = true as const;
  constructor(message: string) {
    super('ICEBERG_COMMIT_CONFLICT', message, { retryable: true });
  }
}

export interface Catalog {
  /** `folder` or `jdbc`. */
  readonly kind: string;
  /** Where a new table's files go: `<warehouse>/<namespace>/<table>`. */
  defaultLocation(ident: TableIdent): string;
  /** The current metadata, or null when the catalog has no such table. */
  loadTable(ident: TableIdent): Promise<LoadedTable | null>;
  /**
   * Installs `metadata` as the table's next version if `base` is still current (`base` null: creates the table,
   * which conflicts when it exists). Throws CommitConflictError otherwise, leaving no file of this attempt behind.
   */
  commitTable(ident: TableIdent, base: LoadedTable | null, metadata: TableMetadata): Promise<LoadedTable>;
  listTables(): Promise<TableIdent[]>;
  close(): Promise<void>;
}

export const identString = (t: TableIdent) => `${t.namespace}.${t.name}`;

/** `database.table` (the first dot splits) -> TableIdent. */
export function parseIdent(s: string): TableIdent {
  const dot = s.indexOf('.');
  if (dot <= 0 || dot === s.length - 1) throw new Error(`table "${s}" must be <database>.<table>`);
  return { namespace: s.slice(0, dot), name: s.slice(dot + 1) };
}

/** `<warehouse>/<namespace>/<table>`, as a bare path or (`uri`) a `file://` URI. */
export function tableLocation(warehouse: string, t: TableIdent, uri = false): string {
  const p = path.resolve(warehouse, encodeURIComponent(t.namespace), encodeURIComponent(t.name));
  return uri ? pathToFileURL(p).href : p;
}

/**
 * A local file named in the form of the table's location: a `file://` URI when the location is a URI (engines
 * such as Trino resolve every path of a table through a scheme and refuse bare paths), else the bare path.
 */
export function locationLike(tableLocationOrFile: string, localFile: string): string {
  return /^(file|local):/.test(tableLocationOrFile) ? pathToFileURL(localFile).href : localFile;
}

const FOLDER_VERSION = /^v(\d+)\.metadata\.json$/;
/** Iceberg Java's metadata file names: `<5-digit version>-<uuid>.metadata.json`. */
const JAVA_VERSION = /^(\d+)-[0-9a-f-]+\.metadata\.json$/;

/** The version number of a metadata file name (`v12.metadata.json`, `00012-<uuid>.metadata.json`), else 0. */
export function metadataVersion(file: string): number {
  const n = path.basename(file);
  const m = FOLDER_VERSION.exec(n) ?? JAVA_VERSION.exec(n);
  return m ? Number(m[1]) : 0;
}

export async function readMetadataFile(file: string): Promise<TableMetadata> {
  return parseMetadata(await readFile(localPath(file), 'utf8'));
}

export class FolderCatalog implements Catalog {
  readonly kind = 'folder';
  constructor(readonly warehouse: string) {}

  defaultLocation(ident: TableIdent): string {
    return tableLocation(this.warehouse, ident);
  }

  /** The highest vN present: version-hint.text is written after the link and may lag after a crash. */
  async latestMetadataFile(ident: TableIdent): Promise<string | null> {
    const dir = path.join(this.defaultLocation(ident), 'metadata');
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    let best = -1;
    for (const n of names) {
      const m = FOLDER_VERSION.exec(n);
      if (m) best = Math.max(best, Number(m[1]));
    }
    return best < 0 ? null : path.join(dir, `v${best}.metadata.json`);
  }

  async loadTable(ident: TableIdent): Promise<LoadedTable | null> {
    const file = await this.latestMetadataFile(ident);
    if (!file) return null;
    return { ident, metadataLocation: file, metadata: await readMetadataFile(file) };
  }

  async commitTable(ident: TableIdent, base: LoadedTable | null, metadata: TableMetadata): Promise<LoadedTable> {
    // The table's folder is where loadTable looks, whatever `location` says (a copied warehouse keeps the old one).
    const dir = path.join(this.defaultLocation(ident), 'metadata');
    await mkdir(dir, { recursive: true });
    const version = (base ? metadataVersion(base.metadataLocation) : 0) + 1;
    const tmp = path.join(dir, `.v${version}-${randomUUID()}.metadata.json.tmp`);
    await writeDurable(tmp, Buffer.from(stringifyMetadata(metadata)));
    const target = path.join(dir, `v${version}.metadata.json`);
    try {
      await link(tmp, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new CommitConflictError(`${identString(ident)}: v${version} was created by another writer`);
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await syncDir(dir);
    const hint = path.join(dir, `.version-hint-${randomUUID()}.tmp`);
    await writeDurable(hint, Buffer.from(String(version)));
    await rename(hint, path.join(dir, 'version-hint.text'));
    return { ident, metadataLocation: target, metadata };
  }

  /** Every `<namespace>/<table>` folder with a metadata/ folder (names starting with `_` are not tables). */
  async listTables(): Promise<TableIdent[]> {
    const out: TableIdent[] = [];
    const dbs = await readdir(this.warehouse, { withFileTypes: true }).catch(() => []);
    for (const db of dbs) {
      if (!db.isDirectory() || db.name.startsWith('_')) continue;
      for (const t of await readdir(path.join(this.warehouse, db.name), { withFileTypes: true })) {
        if (t.isDirectory()) out.push({ namespace: decodeURIComponent(db.name), name: decodeURIComponent(t.name) });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    // nothing held
  }
}
