/**
 * Maintenance of the snapshotter's tables through the configured catalog (folder or JDBC), with progress on
 * stderr and the result as one JSON line on stdout. Each command is one commit that retries on top of a
 * concurrent writer, so it is safe while snapshotters run.
 *
 *   npx tsx apps/snapshotter/src/maintain.ts history  <db.table>
 *   npx tsx apps/snapshotter/src/maintain.ts expire   <db.table> [--older-than-ms N] [--retain-last N]
 *   npx tsx apps/snapshotter/src/maintain.ts compact  <db.table> [--small-file-rows N]
 *   npx tsx apps/snapshotter/src/maintain.ts rollback <db.table> --snapshot-id <id>
 *
 * Environment: WAREHOUSE_DIR, CATALOG, CATALOG_URL, CATALOG_NAME (README), TARGET_FILE_ROWS for compact.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { expireSnapshots, history, parseIdent, rollbackTo, toSnapshotId } from '@pipeline/iceberg';
import { parseConfig } from '@pipeline/stream';
import { catalogFromConfig } from './catalog';
import { CatalogEnvSchema, requireCatalogUrl } from './config';
import { SnapshotTables } from './snapshot-tables';

const USAGE = `usage: maintain.ts <history|expire|compact|rollback> <database.table> [options]
  history                                    snapshots oldest first (id, parent, time, operation, rows, current)
  expire   [--older-than-ms N] [--retain-last N]   remove snapshots older than N ms (default 7 days) beyond the newest N (default 10), and the files only they used
  compact  [--small-file-rows N]             rewrite live files with fewer than N rows (default 100000) into TARGET_FILE_ROWS files
  rollback --snapshot-id <id>                point main at an earlier snapshot (later ones stay until expired)`;

const Env = CatalogEnvSchema.extend({ TARGET_FILE_ROWS: z.coerce.number().int().positive().default(500_000) }).superRefine(requireCatalogUrl);

const progress = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);
const nonNegative = (name: string, v: string | undefined, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number >= 0, got ${v}`);
  return n;
};
const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'older-than-ms': { type: 'string' },
      'retain-last': { type: 'string' },
      'small-file-rows': { type: 'string' },
      'snapshot-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, table] = positionals;
  if (values.help || !command || !table) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const ident = parseIdent(table);
  const cfg = parseConfig(Env, process.env);
  const catalog = catalogFromConfig(cfg);
  progress(`${command} ${table} through the ${cfg.CATALOG} catalog${cfg.CATALOG === 'jdbc' ? ` "${cfg.CATALOG_NAME}"` : ''} (warehouse ${cfg.WAREHOUSE_DIR})`);
  try {
    switch (command) {
      case 'history': {
        const h = await history(catalog, ident);
        for (const e of h) progress(`${e.current ? '*' : ' '} ${e.snapshotId} ${new Date(e.timestampMs).toISOString()} ${e.operation} rows=${e.totalRecords ?? '?'}`);
        console.log(json(h));
        return 0;
      }
      case 'expire': {
        const r = await expireSnapshots(catalog, ident, {
          olderThanMs: nonNegative('older-than-ms', values['older-than-ms'], 7 * 24 * 3_600_000),
          retainLast: nonNegative('retain-last', values['retain-last'], 10),
          onProgress: progress,
        });
        console.log(json(r));
        return 0;
      }
      case 'compact': {
        const tables = new SnapshotTables({
          warehouseDir: cfg.WAREHOUSE_DIR,
          catalog,
          targetFileRows: cfg.TARGET_FILE_ROWS,
          compaction: { smallFileRows: 0, minSmallFiles: Number.MAX_SAFE_INTEGER },
          // A compaction expires nothing; `expire` does that.
          retention: { maxSnapshotAgeMs: Number.MAX_SAFE_INTEGER, minSnapshotsToKeep: Number.MAX_SAFE_INTEGER, maxMetadataFiles: 100 },
          commitRetries: 20,
          writerId: `maintain@${hostname()}:${process.pid}`,
        });
        const small = nonNegative('small-file-rows', values['small-file-rows'], 100_000);
        progress(`rewriting live files with fewer than ${small} rows into files of up to ${cfg.TARGET_FILE_ROWS} rows`);
        const r = await tables.compact(table, small);
        if (!r) progress('fewer than two files qualify: nothing to do');
        else progress(`committed snapshot ${r.snapshotId} (${r.version}): ${r.deletedFiles} files rewritten into ${r.addedFiles}, ${r.existingFiles} kept, ${r.totalRecords} rows, ${r.attempts} attempt(s)`);
        console.log(json(r));
        return 0;
      }
      case 'rollback': {
        const raw = values['snapshot-id'];
        if (!raw) throw new Error('rollback needs --snapshot-id <id> (list them with: maintain.ts history <db.table>)');
        console.log(json(await rollbackTo(catalog, ident, toSnapshotId(raw), progress)));
        return 0;
      }
      default:
        console.error(`unknown command ${command}\n${USAGE}`);
        return 2;
    }
  } finally {
    await catalog.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`maintain: ${(err as Error).message}`);
    process.exit(1);
  },
);
