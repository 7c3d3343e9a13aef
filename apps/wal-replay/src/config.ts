/**
 * Configuration of wal-replay: environment variables, overridable per run by command-line flags
 * (`--target-url` sets TARGET_URL, and so on). Parsed once, with zod, at start; a bad value stops the command
 * with a message naming the variable. The only place that reads process.env.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseConfig } from '@pipeline/stream';

export const COMMANDS = ['rebuild', 'migrate', 'check'] as const;
export type Command = (typeof COMMANDS)[number];

const url = z.url().transform((u) => u.replace(/\/+$/, ''));
const time = z
  .string()
  .transform((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
    if (!Number.isFinite(n)) ctx.addIssue({ code: 'custom', message: 'expected epoch ms or an ISO-8601 time' });
    return n;
  });
/** `123` (every partition) or `0:10,1:0,...` (per partition). */
const offsets = z.string().transform((s, ctx) => {
  if (/^\d+$/.test(s)) return { all: BigInt(s) } as const;
  const per = new Map<number, bigint>();
  for (const part of s.split(',')) {
    const m = /^(\d+):(\d+)$/.exec(part.trim());
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'expected an offset or partition:offset,...' });
      return z.NEVER;
    }
    per.set(Number(m[1]), BigInt(m[2]!));
  }
  return { per } as const;
});

export const EnvSchema = z.object({
  KAFKA_BROKERS: z.string().min(1).transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean)),
  KAFKA_CLIENT_ID: z.string().min(1).default('wal-replay'),
  WAL_TOPIC: z.string().min(1).default('actionbase.wal'),
  CDC_TOPIC: z.string().min(1).default('actionbase.cdc'),
  TARGET_URL: url.optional().describe('Core that rebuild/migrate write to and check reads from'),
  SOURCE_URL: url.optional().describe('Core whose schema API rebuild/migrate copy the schema from'),
  SCHEMA_FILE: z.string().min(1).optional().describe('Schema as JSON {databases, tables, aliases} instead of SOURCE_URL'),
  STATE_FILE: z.string().min(1).optional().describe('Checkpoint file; default .data/wal-replay/<command>.state.json'),
  FROM_OFFSET: offsets.optional(),
  FROM_TIME: time.optional(),
  SNAPSHOT_UNTIL: time.optional().describe('migrate: fold CDC records committed up to this time only (an older snapshot)'),
  OVERLAP_MS: z.coerce.number().int().min(0).default(60_000),
  SNAPSHOT_SOURCE: z.enum(['cdc', 'iceberg']).default('cdc').describe('migrate: fold the CDC topic, or read the snapshotter Iceberg tables'),
  ICEBERG_WAREHOUSE: z.string().min(1).default('.data/snapshotter/warehouse').describe('migrate: the snapshotter WAREHOUSE_DIR'),
  // At 5000 items per request the core answered 503 WAL_UNAVAILABLE every time (its WAL produce request gets
  // too large for the broker); 2000 passed (bench/wal-replay.ts). 1000 was the fastest measured.
  BATCH_SIZE: z.coerce.number().int().min(1).max(2_000).default(1_000),
  RETRIES: z.coerce.number().int().min(0).default(8),
  RETRY_BASE_MS: z.coerce.number().int().min(1).default(200),
  ACTOR: z.string().min(1).default('WalReplay'),
  API_TOKEN: z.string().min(1).optional(),
  PROGRESS_INTERVAL_MS: z.coerce.number().int().min(0).default(2_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof EnvSchema> & { command: Command };

export const USAGE = `usage: wal-replay <rebuild|migrate|check> [--flag value ...]
  rebuild   replay the WAL (from --from-offset or --from-time) into --target-url
  migrate   load the CDC snapshot into --target-url, then replay the WAL from the cut minus --overlap-ms
  check     compare --target-url with the state accumulated from CDC; exit 1 on any mismatch
flags (each also an environment variable, e.g. --target-url = TARGET_URL):
  --kafka-brokers --wal-topic --cdc-topic --target-url --source-url --schema-file --state-file
  --from-offset --from-time --snapshot-until --overlap-ms --snapshot-source --iceberg-warehouse
  --batch-size --retries --actor --log-level`;

const FLAGS = Object.keys(EnvSchema.shape).map((v) => v.toLowerCase().replaceAll('_', '-'));

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
  });
  const command = positionals[0];
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command ${JSON.stringify(command ?? '')}\n${USAGE}`);
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, v] of Object.entries(values)) if (typeof v === 'string') merged[flag.toUpperCase().replaceAll('-', '_')] = v;
  const cfg = parseConfig(EnvSchema, merged);
  return { ...cfg, command: command as Command };
}
