/**
 * Configuration of ml-export: environment variables, each overridable by a command-line flag (`--out` sets OUT_DIR,
 * `--table` sets TABLE, and so on). Parsed once, with zod; a bad value stops the command with a message naming the
 * variable and its flag. The only place that reads process.env.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { logLevel, parseConfig } from '@pipeline/config';

const time = z.string().transform((s, ctx) => {
  const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch ms or an ISO-8601 time (2026-11-20T00:00:00Z)' });
    return z.NEVER;
  }
  return n;
});

export const EnvSchema = z
  .object({
    TABLE: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9_-]{0,63}\.[a-zA-Z][a-zA-Z0-9_-]{0,63}$/, 'expected <database>.<table>, e.g. shop.likes')
      .describe('the Actionbase table to export'),
    OUT_DIR: z.string().min(1).describe('where the dataset goes; must not exist yet (or OVERWRITE=true)'),
    OVERWRITE: z.stringbool().default(false),
    WAREHOUSE_DIR: z.string().min(1).default('.data/snapshotter/warehouse').describe("the snapshotter's WAREHOUSE_DIR"),
    CATALOG: z.enum(['folder', 'jdbc']).default('folder'),
    CATALOG_URL: z.string().min(1).optional(),
    CATALOG_NAME: z.string().min(1).default('actionbase'),
    CUT: z.enum(['snapshot', 'none']).default('snapshot').describe('snapshot: stop at what an Iceberg snapshot covers and check against it'),
    SNAPSHOT_ID: z
      .string()
      .regex(/^\d+$/, 'expected a snapshot id (digits; `maintain.ts history <db.table>` lists them)')
      .transform((s) => BigInt(s))
      .optional(),
    SPLIT_AT: time.optional().describe('examples at or after this time go to split=validation'),
    NEGATIVES: z.coerce.number().int().min(0).max(100).default(0).describe('sampled negatives per positive'),
    SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).default(1),
    MAX_ROWS_PER_FILE: z.coerce.number().int().min(1).default(1_000_000),
    LOG_LEVEL: logLevel,
  })
  .superRefine((c, ctx) => {
    if (c.CATALOG === 'jdbc' && !c.CATALOG_URL) ctx.addIssue({ code: 'custom', path: ['CATALOG_URL'], message: 'required when CATALOG=jdbc (postgres://user@host:port/database)' });
    if (c.SNAPSHOT_ID !== undefined && c.CUT === 'none') ctx.addIssue({ code: 'custom', path: ['SNAPSHOT_ID'], message: 'a snapshot id needs CUT=snapshot' });
  });

export type Config = z.output<typeof EnvSchema>;

/** Flag -> variable. */
const FLAGS: Record<string, keyof z.input<typeof EnvSchema>> = {
  table: 'TABLE',
  out: 'OUT_DIR',
  overwrite: 'OVERWRITE',
  warehouse: 'WAREHOUSE_DIR',
  catalog: 'CATALOG',
  'catalog-url': 'CATALOG_URL',
  'catalog-name': 'CATALOG_NAME',
  cut: 'CUT',
  'snapshot-id': 'SNAPSHOT_ID',
  'split-at': 'SPLIT_AT',
  negatives: 'NEGATIVES',
  seed: 'SEED',
  'max-rows-per-file': 'MAX_ROWS_PER_FILE',
  'log-level': 'LOG_LEVEL',
};

export const USAGE = `ml-export: a point-in-time-correct interactions dataset (Parquet, split=/day=) from the snapshotter's change log

usage: ml-export --table <db.table> --out <dir> [options]

  --table <db.table>         table to export (TABLE)
  --out <dir>                output directory, must not exist (OUT_DIR); --overwrite true replaces it
  --warehouse <dir>          the snapshotter's WAREHOUSE_DIR (default .data/snapshotter/warehouse)
  --catalog folder|jdbc      how to find the table's snapshots (CATALOG, default folder); jdbc needs --catalog-url
  --cut snapshot|none        snapshot (default): only the changes the table's current snapshot covers, and the
                             final state checked against it; none: the whole change log, unchecked
  --snapshot-id <id>         cut at this snapshot instead of the current one
  --split-at <time>          examples at or after it go to split=validation (epoch ms or ISO-8601)
  --negatives <k>            per positive, k sampled items the user had no edge to then (default 0)
  --seed <n>                 seed of the negative sampling (default 1)
  --max-rows-per-file <n>    default 1000000

Each flag also reads the variable in parentheses (upper case, e.g. SPLIT_AT).`;

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
    strict: true,
    allowPositionals: false,
  });
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, value] of Object.entries(values)) if (typeof value === 'string') merged[FLAGS[flag]!] = value;
  try {
    return parseConfig(EnvSchema, merged);
  } catch (err) {
    // Name the flag too: most runs set these on the command line.
    const byVar = Object.fromEntries(Object.entries(FLAGS).map(([f, v]) => [v, f]));
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(msg.replace(/\b([A-Z][A-Z_]+)\b/g, (v) => (byVar[v] ? `${v} (--${byVar[v]})` : v)), { cause: err });
  }
}
