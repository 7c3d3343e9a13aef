/**
 * The app's configuration: environment variables parsed once, with zod (parseConfig from @pipeline/config
 * names the failing variable). The only file that reads process.env.
 */
import { logLevel, parseConfig, port } from '@pipeline/config';
import { z } from 'zod';
import { GRANULARITIES } from './supervisor.spec-builder';

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

export const ConfigSchema = z.object({
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092').describe('Bootstrap servers this app uses (CDC export for backfills)'),
  DRUID_KAFKA_BROKERS: z.string().min(1).optional().describe('Bootstrap servers as Druid reaches them; default KAFKA_BROKERS'),
  CDC_TOPIC: z.string().min(1).default('actionbase.cdc'),
  DRUID_URL: z.url().default('http://127.0.0.1:8081').describe('Overlord API (a coordinator acting as Overlord, or a router)'),
  DRUID_BROKER_URL: z.url().default('http://127.0.0.1:8082').describe('Broker (or router) for Druid SQL'),
  DATASOURCE: z.string().min(1).default('actionbase_cdc'),
  QUERY_GRANULARITY: z.enum(GRANULARITIES).default('minute').describe('Rollup granularity'),
  SEGMENT_GRANULARITY: z.enum(GRANULARITIES).default('hour'),
  ROLLUP: bool(true),
  TASK_DURATION: z.string().default('PT1H'),
  TASK_COUNT: z.coerce.number().int().positive().default(1),
  REPLICAS: z.coerce.number().int().positive().default(1),
  USE_EARLIEST_OFFSET: bool(true),
  APPLY_ON_START: bool(true).describe('Apply the supervisor spec when the service starts'),
  BACKFILL_DIR: z.string().min(1).default('.data/druid-ingest/backfill').describe('Where CDC exports for backfills are written (Druid must read the same path)'),
  PORT: port(8093),
  HOST: z.string().default('127.0.0.1'),
  HEALTH_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  LOG_LEVEL: logLevel,
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(ConfigSchema, env);
}

export function supervisorOptions(c: Config) {
  return {
    dataSource: c.DATASOURCE,
    topic: c.CDC_TOPIC,
    bootstrapServers: c.DRUID_KAFKA_BROKERS ?? c.KAFKA_BROKERS,
    queryGranularity: c.QUERY_GRANULARITY,
    segmentGranularity: c.SEGMENT_GRANULARITY,
    rollup: c.ROLLUP,
    taskDuration: c.TASK_DURATION,
    taskCount: c.TASK_COUNT,
    replicas: c.REPLICAS,
    useEarliestOffset: c.USE_EARLIEST_OFFSET,
  };
}
