/**
 * Configuration of wal-replay: environment variables, overridable per run by command-line flags
 * (`--target-url` sets TARGET_URL, and so on). Parsed once, with zod, at start; a bad value stops the command
 * with a message naming the variable. The only place that reads process.env.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { kafkaBrokers, logLevel, parseConfig, port } from '@pipeline/config';
import { checkEsAuth, esEnv } from '@pipeline/elasticsearch';

export const COMMANDS = ['rebuild', 'migrate', 'check', 'reconcile', 'dlq'] as const;
export const DLQ_ACTIONS = ['list', 'show', 'redrive'] as const;
export type DlqAction = (typeof DLQ_ACTIONS)[number];
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
  KAFKA_BROKERS: kafkaBrokers,
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
  LOG_LEVEL: logLevel,
  // reconcile
  ES_URL: url.optional().describe('reconcile: Elasticsearch holding the es-indexer current-state index (unset: not compared)'),
  // The same credentials and CA as the es-indexer's (libs/elasticsearch); a reader's rights on the index suffice.
  ES_API_KEY: esEnv.ES_API_KEY,
  ES_USERNAME: esEnv.ES_USERNAME,
  ES_PASSWORD: esEnv.ES_PASSWORD,
  ES_CA_FILE: esEnv.ES_CA_FILE,
  ES_INDEX_PREFIX: z.string().min(1).default('actionbase').describe('reconcile: the es-indexer INDEX_PREFIX; the index is <prefix>-edges'),
  ES_CDC_GROUP: z.string().min(1).default('es-indexer.cdc').describe('reconcile: the es-indexer CDC consumer group (<its CONSUMER_GROUP>.cdc)'),
  RECONCILE_SINKS: z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['core', 'elasticsearch', 'iceberg', 'druid'])).min(1))
    .optional()
    .describe('reconcile: what to compare; default core, elasticsearch when ES_URL is set, iceberg when ICEBERG_WAREHOUSE exists, druid when DRUID_URL is set'),
  DRUID_URL: url.optional().describe('reconcile: the Druid Overlord (a coordinator acting as Overlord, or a router) holding the druid-ingest supervisor (unset: not compared)'),
  DRUID_BROKER_URL: url.optional().describe('reconcile: the Druid broker (or router) for Druid SQL; default DRUID_URL'),
  DRUID_DATASOURCE: z.string().min(1).default('actionbase_cdc').describe('reconcile: the druid-ingest DATASOURCE (also the supervisor id)'),
  DRUID_CATCHUP_MS: z.coerce.number().int().min(0).default(120_000).describe('reconcile: how long to wait for Druid to ingest the CDC read before comparing'),
  SAMPLE_THRESHOLD: z.coerce.number().int().min(1).default(50_000).describe('reconcile: tables with more keys are sampled'),
  SAMPLE_SIZE: z.coerce.number().int().min(10).default(5_000).describe('reconcile: keys sampled per large table'),
  SETTLE_ROUNDS: z.coerce.number().int().min(0).default(5),
  SETTLE_MS: z.coerce.number().int().min(0).default(2_000),
  MAX_REPORTED: z.coerce.number().int().min(0).default(1_000).describe('reconcile: DIVERGENT lines printed at most'),
  EVERY_MS: z.coerce.number().int().min(1_000).optional().describe('reconcile: run every EVERY_MS and serve the gauges (scheduled mode)'),
  METRICS_PORT: port(9468),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('0.0.0.0 in a container'),
  METRICS_FILE: z.string().min(1).optional().describe('reconcile: also write the gauges there (Prometheus text format)'),
  // dlq
  DLQ_TOPIC: z.string().min(1).optional().describe('dlq: the dead-letter topic, <group>.dlq'),
  DLQ_CODE: z.string().min(1).optional().describe('dlq: only dead letters with this error code'),
  DLQ_LIMIT: z.coerce.number().int().min(1).default(100).describe('dlq list: most lines printed'),
  REDRIVE_TOPIC: z.string().min(1).optional().describe('dlq redrive: where to produce (default: each record\'s source topic)'),
  DRY_RUN: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export type Config = z.output<typeof EnvSchema> & { command: Command; args: string[] };

export const USAGE = `usage: wal-replay <rebuild|migrate|check|reconcile|dlq> [--flag value ...]
  rebuild   replay the WAL (from --from-offset or --from-time) into --target-url
  migrate   load the CDC snapshot into --target-url, then replay the WAL from the cut minus --overlap-ms
  check     compare --target-url with the state accumulated from CDC; exit 1 on any mismatch
  reconcile compare the core, Elasticsearch (--es-url), the Iceberg tables (--iceberg-warehouse) and Druid's
            sums (--druid-url) with the CDC state at the offsets each committed; exit 1 on any divergent key
            or a Druid that did not catch up (--every-ms: scheduled)
  dlq list | dlq show <partition>:<offset> | dlq redrive [<partition>:<offset> ...]   --dlq-topic <group>.dlq
flags (each also an environment variable, e.g. --target-url = TARGET_URL):
  --kafka-brokers --wal-topic --cdc-topic --target-url --source-url --schema-file --state-file
  --from-offset --from-time --snapshot-until --overlap-ms --snapshot-source --iceberg-warehouse
  --batch-size --retries --actor --log-level
  --es-url --es-api-key --es-username --es-password --es-ca-file --es-index-prefix --es-cdc-group --reconcile-sinks --sample-threshold --sample-size --settle-rounds
  --settle-ms --max-reported --every-ms --metrics-port --metrics-host --metrics-file
  --druid-url --druid-broker-url --druid-datasource --druid-catchup-ms
  --dlq-topic --dlq-code --dlq-limit --redrive-topic --dry-run`;

const FLAGS = Object.keys(EnvSchema.shape).map((v) => v.toLowerCase().replaceAll('_', '-'));

export function loadConfig(argv: string[], env: Record<string, string | undefined>): Config {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }])),
  });
  const command = positionals[0];
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command ${JSON.stringify(command ?? '')}\n${USAGE}`);
  const args = positionals.slice(1);
  if (command === 'dlq' && !DLQ_ACTIONS.includes(args[0] as DlqAction)) throw new Error(`dlq needs one of ${DLQ_ACTIONS.join(', ')}\n${USAGE}`);
  if (command !== 'dlq' && args.length) throw new Error(`unexpected argument(s) ${args.join(' ')}\n${USAGE}`);
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, v] of Object.entries(values)) if (typeof v === 'string') merged[flag.toUpperCase().replaceAll('-', '_')] = v;
  const cfg = parseConfig(EnvSchema.superRefine(checkEsAuth), merged);
  return { ...cfg, command: command as Command, args };
}
