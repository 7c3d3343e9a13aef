import { z } from 'zod';
import { ConfigError, logLevel, parseConfig, port } from '@pipeline/config';
import { TOPICS } from '@pipeline/events';

/**
 * Configuration of the core, parsed once from the environment. A bad value stops the process at
 * start with a message naming the variable. No other file reads process.env.
 */
const mode = z.enum(['SYNC', 'ASYNC', 'IGNORE']);
const int = (def: number) => z.coerce.number().int().positive().default(def);

export const ConfigSchema = z.object({
  PORT: port(8080),
  HOST: z.string().default('0.0.0.0'),
  /**
   * The store: `sqlite` (embedded, one process) or `postgres` (several instances over one database,
   * at DATABASE_URL).
   */
  STORAGE: z.enum(['sqlite', 'postgres']).default('sqlite'),
  /** PostgreSQL connection string when STORAGE=postgres, e.g. postgres://user@127.0.0.1:5432/actionbase. */
  DATABASE_URL: z.string().min(1).optional(),
  /** Connections per instance to PostgreSQL. */
  // A catalog change holds one connection for its lock while it reads through another.
  PG_POOL_SIZE: z.coerce.number().int().min(2).default(16),
  /** SQLite database file of the embedded storage (WAL mode: a -wal and -shm file sit beside it). */
  STORAGE_PATH: z.string().default('.data/actionbase/actionbase.db'),
  /** SQLite `synchronous`: NORMAL survives process crashes; FULL also power loss, at a cost per commit. */
  STORAGE_SYNC: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
  /** Comma-separated bootstrap servers. Empty: WAL/CDC go to the log as JSON lines. */
  KAFKA_BROKERS: z.string().default(''),
  KAFKA_CLIENT_ID: z.string().default('actionbase'),
  WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName),
  CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName),
  WAL_PARTITIONS: int(TOPICS.wal.defaultPartitions),
  CDC_PARTITIONS: int(TOPICS.cdc.defaultPartitions),
  WAL_RETENTION_MS: z.coerce.number().int().min(-1).default(TOPICS.wal.defaultRetentionMs),
  CDC_RETENTION_MS: z.coerce.number().int().min(-1).default(TOPICS.cdc.defaultRetentionMs),
  TOPIC_REPLICATION_FACTOR: int(1),
  TENANT: z.string().min(1).default('default'),
  SERVER_ID: z.string().min(1).optional(),
  /** System mode: overrides table and request modes unless a /sync request says force=true. */
  SYSTEM_MODE: mode.optional(),
  /** When set, every non-health endpoint requires `Authorization: Bearer <token>`. */
  API_TOKEN: z.string().min(1).optional(),
  BODY_LIMIT_BYTES: int(8 * 1024 * 1024),
  /** Longest a request may take to arrive whole (headers and body); then 408 and the connection closes. */
  REQUEST_TIMEOUT_MS: int(30_000),
  /** Longest the headers of a request may take to arrive. */
  HEADERS_TIMEOUT_MS: int(10_000),
  /** A kept-alive connection with no request for this long is closed. */
  IDLE_TIMEOUT_MS: int(5_000),
  /** Open connections at most; beyond it new connections are refused. */
  MAX_CONNECTIONS: int(1_024),
  /**
   * Admission control: request bodies being processed at once, in bytes (by Content-Length). A request
   * that would go over it answers 503 with Retry-After instead of queueing behind the others.
   */
  MAX_INFLIGHT_BODY_BYTES: int(64 * 1024 * 1024),
  /** Admission control: requests (other than health) being processed at once. */
  MAX_INFLIGHT_REQUESTS: int(256),
  /** Big bodies (1 MiB and more) parsed and processed at once; the others wait their turn, already received. */
  MAX_CONCURRENT_BATCHES: int(2),
  /**
   * Largest WAL / CDC record, when no Kafka is configured (with Kafka, each topic's max.message.bytes
   * decides). Kafka's default, so that a core on the log sink refuses what a core on Kafka would.
   */
  LOG_SINK_MAX_MESSAGE_BYTES: int(1_048_588),
  HEARTBEAT_INTERVAL_MS: int(60_000),
  /**
   * Readiness is UP once started (true), or DOWN until `PUT /graph/health/readiness` marks it (false, as
   * Actionbase's server starts), for deployments that warm an instance up before it takes traffic.
   */
  READINESS_ON_START: z.stringbool().default(true),
  /**
   * Fault injection for crash tests: kill -9 the process right after the first mutation's state
   * commit, before its CDC record is relayed. Never set it in production.
   */
  FAULT_CRASH_AFTER_COMMIT: z.stringbool().default(false),
  LOG_LEVEL: logLevel,
});

export type Config = z.infer<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const c = parseConfig(ConfigSchema, env);
  if (c.STORAGE === 'postgres' && !c.DATABASE_URL)
    throw new ConfigError([{ variable: 'DATABASE_URL', message: 'required with STORAGE=postgres (e.g. postgres://postgres@127.0.0.1:5432/actionbase)' }]);
  return c;
}
