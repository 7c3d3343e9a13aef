import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { parseConfig } from '@pipeline/stream';

/**
 * The snapshotter's configuration, parsed once from the environment (README has the table). No other file
 * reads process.env.
 */
const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);

export const ConfigSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .describe('Comma-separated bootstrap servers'),
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
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9466),
  SHUTDOWN_TIMEOUT_MS: positiveInt(60_000),
  WAREHOUSE_DIR: z.string().min(1).default('.data/snapshotter/warehouse'),
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseConfig(ConfigSchema, env);
}
