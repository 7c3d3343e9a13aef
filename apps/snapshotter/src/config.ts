import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { kafkaBrokers, listenHost, logLevel, parseConfig, port } from '@pipeline/config';

/**
 * The snapshotter's configuration, parsed once from the environment (README has the table). No other file
 * reads process.env.
 */
const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

/** Where tables are registered (README "Catalogs"); shared by the consumer and the maintenance commands. */
export const CatalogEnvSchema = z.object({
  WAREHOUSE_DIR: z.string().min(1).default('.data/snapshotter/warehouse'),
  CATALOG: z.enum(['folder', 'jdbc', 'rest']).default('folder'),
  /** jdbc: postgres://user@host:port/database; rest: the server's base URL (http://host:port, without /v1). */
  CATALOG_URL: z.string().min(1).optional(),
  CATALOG_NAME: z.string().min(1).max(255).default('actionbase'),
  CATALOG_POOL_SIZE: positiveInt(4),
  /** Bearer token for a REST catalog that wants one. */
  CATALOG_TOKEN: z.string().min(1).optional(),
});

/** CATALOG=jdbc and CATALOG=rest need a CATALOG_URL of their kind: said at start, naming the variable. */
export function requireCatalogUrl(c: { CATALOG: string; CATALOG_URL?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.CATALOG === 'jdbc' && !/^postgres(ql)?:\/\//.test(c.CATALOG_URL ?? '')) {
    ctx.addIssue({ code: 'custom', path: ['CATALOG_URL'], message: `${c.CATALOG_URL ? 'must be' : 'required when CATALOG=jdbc:'} a postgres:// URL (the JDBC catalog runs on PostgreSQL: postgres://user@host:port/database)` });
  }
  if (c.CATALOG === 'rest' && !/^https?:\/\/[^/]/.test(c.CATALOG_URL ?? '')) {
    ctx.addIssue({ code: 'custom', path: ['CATALOG_URL'], message: `${c.CATALOG_URL ? 'must be' : 'required when CATALOG=rest:'} the REST catalog's http(s):// base URL, without /v1 (e.g. http://127.0.0.1:8181)` });
  }
}

export const CatalogConfigSchema = CatalogEnvSchema.superRefine(requireCatalogUrl);
export type CatalogConfig = z.output<typeof CatalogEnvSchema>;

export function loadCatalogConfig(env: Record<string, string | undefined>): CatalogConfig {
  return parseConfig(CatalogConfigSchema, env);
}

export const ConfigSchema = CatalogEnvSchema.extend({
  KAFKA_BROKERS: kafkaBrokers,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName),
  CONSUMER_GROUP: z.string().min(1).default('snapshotter'),
  /** How soon the group drops a member that died without leaving (kill -9): its partitions wait that long. */
  KAFKA_SESSION_TIMEOUT_MS: positiveInt(30_000),
  KAFKA_REBALANCE_TIMEOUT_MS: positiveInt(30_000),
  DLQ_TOPIC: z.string().min(1).optional(),
  BATCH_MAX_RECORDS: positiveInt(5_000),
  BATCH_MAX_BYTES: positiveInt(16 * 1024 * 1024),
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(1_000),
  RETRY_BASE_MS: positiveInt(200),
  RETRY_MAX_MS: positiveInt(30_000),
  HTTP_PORT: port(9466),
  HTTP_HOST: listenHost().describe('Interface of the probes and /metrics; 0.0.0.0 in a container'),
  SHUTDOWN_TIMEOUT_MS: positiveInt(60_000),
  STAGING_DIR: z.string().min(1).default('.data/snapshotter/staging'),
  COMMIT_INTERVAL_MS: positiveInt(60_000),
  TARGET_FILE_ROWS: positiveInt(500_000),
  COMPACT_SMALL_FILE_ROWS: positiveInt(100_000),
  COMPACT_MIN_FILES: positiveInt(8),
  SNAPSHOT_MAX_AGE_MS: positiveInt(7 * 24 * 3_600_000),
  SNAPSHOT_MIN_KEEP: positiveInt(10),
  METADATA_MAX_FILES: positiveInt(100),
  CHANGELOG_ENABLED: z.stringbool().default(true),
  ORPHAN_MIN_AGE_MS: positiveInt(24 * 3_600_000),
  COMMIT_RETRIES: positiveInt(20),
  /**
   * Fault injection for the crash tests: `<step>` of a table commit at which the process kills itself with
   * SIGKILL (data-written, manifests-written, metadata-linked, changelog-written). Never set in production.
   */
  FAULT_CRASH_AT: z.enum(['data-written', 'manifests-written', 'metadata-linked', 'changelog-written']).optional(),
  LOG_LEVEL: logLevel,
}).superRefine(requireCatalogUrl);

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseConfig(ConfigSchema, env);
}
