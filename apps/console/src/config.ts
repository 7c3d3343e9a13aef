/**
 * The console's settings, parsed once from the environment at start (a bad value stops it, naming the variable).
 * Every address defaults to what `npm start` runs on this machine (root README, ports).
 */
import { logLevel, parseConfig } from '@pipeline/config';
import { checkEsAuth, esEnv } from '@pipeline/elasticsearch';
import { parseTokenList } from '@pipeline/web-auth';
import { z } from 'zod';

const port = (def: number) => z.coerce.number().int().min(0).max(65_535).default(def);
const ms = (def: number) => z.coerce.number().int().positive().default(def);

/** `name=http://host:port,...`: the consumer apps whose /health/readiness and /metrics are read. */
const consumerList = z
  .string()
  .transform((s, ctx) => {
    const out: { name: string; url: string }[] = [];
    for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const i = part.indexOf('=');
      const name = part.slice(0, i);
      const url = part.slice(i + 1).replace(/\/+$/, '');
      if (i <= 0 || !/^[a-z0-9][a-z0-9._-]*$/.test(name) || !URL.canParse(url)) {
        ctx.addIssue({ code: 'custom', message: `"${part}": expected name=http://host:port (the app's health and metrics port)` });
        return z.NEVER;
      }
      out.push({ name, url });
    }
    return out;
  });

const tokens = z.string().transform((s, ctx) => {
  try {
    return parseTokenList(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

export const ConfigSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface of the page and its API (0.0.0.0 in containers)'),
  PORT: port(8097),
  CONSOLE_TOKENS: tokens.default(new Map()).describe('user:token,... one strong token per person (as LOOKUP_TOKENS)'),
  KAFKA_BROKERS: z.string().min(1).default('127.0.0.1:9092'),
  WAL_TOPIC: z.string().min(1).default('actionbase.wal'),
  CDC_TOPIC: z.string().min(1).default('actionbase.cdc'),
  CORE_URL: z.url().default('http://127.0.0.1:8080'),
  CONSUMERS: consumerList.default([
    { name: 'async-processor', url: 'http://127.0.0.1:8090' },
    { name: 'es-indexer', url: 'http://127.0.0.1:8096' },
    { name: 'snapshotter', url: 'http://127.0.0.1:8094' },
  ]),
  // es-indexer's Elasticsearch with the same variables (libs/elasticsearch); reading needs `monitor` on the
  // cluster and `read` on `<ES_INDEX_PREFIX>-*`.
  ...esEnv,
  ES_INDEX_PREFIX: z.string().min(1).default('actionbase'),
  WAREHOUSE_DIR: z.string().min(1).default('.data/snapshotter/warehouse'),
  CATALOG: z.enum(['folder', 'jdbc']).default('folder'),
  CATALOG_URL: z.string().min(1).optional(),
  CATALOG_NAME: z.string().min(1).default('actionbase'),
  DRUID_INGEST_URL: z.url().optional().describe('druid-ingest; unset: no Druid in the drawing'),
  RECONCILE_URL: z.url().optional().describe('a scheduled `wal-replay reconcile --every-ms` (its METRICS_HOST:METRICS_PORT); unset: no reconcile box'),
  RECONCILE_STALE_MS: ms(1_800_000).describe('a reconcile whose last run finished longer ago turns yellow'),
  SAMPLE_INTERVAL_MS: ms(5_000),
  HISTORY_MS: ms(3_600_000),
  REQUEST_TIMEOUT_MS: ms(2_000),
  LAG_GROWING_MS: ms(60_000).describe('a lag that grew at every sample over this window turns its group red'),
  LAG_ALERT_RECORDS: z.coerce.number().int().min(0).default(500),
  ICEBERG_STALE_MS: ms(300_000),
  LOG_LEVEL: logLevel,
}).superRefine((c, ctx) => {
  checkEsAuth(c, ctx);
  if (c.CATALOG === 'jdbc' && !c.CATALOG_URL) ctx.addIssue({ code: 'custom', path: ['CATALOG_URL'], message: 'required when CATALOG=jdbc (postgres://user@host:port/database)' });
});

export type Config = z.output<typeof ConfigSchema>;

export const loadConfig = (env: Record<string, string | undefined>): Config => parseConfig(ConfigSchema, env);
