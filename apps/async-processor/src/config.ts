/**
 * The processor's whole configuration, parsed once from the environment at start (parseConfig names every bad
 * variable). The only file that reads process.env (through main.ts).
 */
import { z } from 'zod';
import { kafkaBrokers, listenHost, logLevel, parseConfig } from '@pipeline/config';

/** One `KEEP_NEWEST` entry: keep the newest `keep` edges per source of `database.table`, ordered by `index`. */
export interface KeepNewestRule {
  database: string;
  table: string;
  index: string;
  keep: number;
}

const RULE = /^([^.:,\s]+)\.([^:,\s]+):([^:,\s]+):(\d+)$/;

/**
 * `KEEP_NEWEST=shop.recent_views:recent:50,shop.other:by_time:10`: `database.table:index:N`. The index must sort
 * the newest first (e.g. a DESC time field) and the table's direction must include OUT (newest N per source).
 */
export function parseKeepNewest(raw: string): Map<string, KeepNewestRule> {
  const rules = new Map<string, KeepNewestRule>();
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = RULE.exec(part);
    if (!m) throw new Error(`"${part}": expected database.table:index:N (e.g. shop.recent_views:recent:50)`);
    const keep = Number(m[4]);
    if (!Number.isSafeInteger(keep) || keep < 1) throw new Error(`"${part}": N must be a positive integer`);
    const rule = { database: m[1]!, table: m[2]!, index: m[3]!, keep };
    const key = tableKey(rule.database, rule.table);
    if (rules.has(key)) throw new Error(`"${part}": ${key} is listed twice`);
    rules.set(key, rule);
  }
  return rules;
}

export const tableKey = (database: string, table: string) => `${database}.${table}`;

const int = (min: number) => z.coerce.number().int().min(min);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ConfigSchema = z.object({
  KAFKA_BROKERS: kafkaBrokers,
  KAFKA_CLIENT_ID: z.string().default('async-processor'),
  WAL_TOPIC: z.string().min(1).default('actionbase.wal'),
  GROUP_ID: z.string().min(1).default('async-processor'),
  /** A new group starts at the oldest WAL record: queued work written before the processor existed is applied too. */
  FROM_BEGINNING: bool.default(true),
  CORE_URL: z.url().default('http://127.0.0.1:8080').transform((u) => u.replace(/\/+$/, '')),
  CORE_API_TOKEN: z.string().optional(),
  CORE_TIMEOUT_MS: int(1).default(10_000),
  /** Table groups of one batch sent to the core at the same time. */
  CORE_CONCURRENCY: int(1).default(4),
  ACTOR_ID: z.string().min(1).default('AsyncRequestProcessor'),
  /** Mutations per second sent to the core (token bucket), trims included; 0 turns the limit off. */
  RATE_LIMIT_PER_SEC: z.coerce.number().min(0).default(5_000),
  /** Bucket size: the most mutations sent at once after an idle time. Default: one second's worth. */
  RATE_LIMIT_BURST: int(1).optional(),
  /** true: leave items queued by an IGNORE mode (Actionbase's DROP) unapplied; false applies every queued item. */
  SKIP_IGNORE_MODE: bool.default(false),
  KEEP_NEWEST: z
    .string()
    .default('')
    .transform((s, ctx) => {
      try {
        return parseKeepNewest(s);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  BATCH_MAX_RECORDS: int(1).default(500),
  /**
   * The core writes the WAL of a forced request in one produce, about as large as the batch that caused it: keep
   * batches well below the broker's message.max.bytes (1 MB by default).
   */
  BATCH_MAX_BYTES: int(1024).default(524_288),
  BATCH_MAX_WAIT_MS: int(0).default(20),
  RETRY_BASE_MS: int(1).default(100),
  RETRY_MAX_MS: int(1).default(10_000),
  /** Unset: retry for as long as the core is down (consumption paused). */
  RETRY_MAX_ATTEMPTS: int(1).optional(),
  /**
   * Longest a fetch waits at the broker for data. libs/kafka keeps one fetch in flight per broker, and a partition
   * whose batch completes while that fetch waits is fetched only after it returns: this bounds that wait, so it
   * shows up in the async delay's tail (see README, figures).
   */
  KAFKA_FETCH_MAX_WAIT_MS: int(1).default(100),
  KAFKA_SESSION_TIMEOUT_MS: int(6_000).default(10_000),
  KAFKA_HEARTBEAT_INTERVAL_MS: int(100).default(1_000),
  HTTP_PORT: int(0).default(8090),
  HTTP_HOST: listenHost(),
  SHUTDOWN_TIMEOUT_MS: int(1).default(30_000),
  /**
   * Crash tests only: kill -9 the process itself right after its Nth successful request to the core, before the
   * batch's offsets are committed (the worst moment: applied, not committed). 0 = off.
   */
  FAULT_KILL_AFTER_APPLIES: int(0).default(0),
  LOG_LEVEL: logLevel,
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined>): Config {
  return parseConfig(ConfigSchema, env);
}
