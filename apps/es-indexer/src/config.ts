import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { parseConfig, StreamEnvSchema } from '@pipeline/stream';

/**
 * Configuration of the indexer and the support lookup, parsed once from the environment (the only file that
 * reads process.env). A bad value stops the process at start with a message naming the variable.
 */
const tokens = z
  .string()
  .transform((s, ctx) => {
    const out = new Map<string, string>();
    for (const pair of s.split(',').map((p) => p.trim()).filter(Boolean)) {
      const i = pair.indexOf(':');
      const user = pair.slice(0, i);
      const token = pair.slice(i + 1);
      if (i <= 0 || token.length < 8) {
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated user:token pairs, tokens of 8+ characters' });
        return z.NEVER;
      }
      out.set(token, user);
    }
    return out;
  })
  .describe('Lookup API credentials: user:token,user2:token2 (token -> user)');

export const ConfigSchema = StreamEnvSchema.extend({
  CONSUMER_GROUP: z.string().min(1).default('es-indexer'),
  WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName),
  CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName),
  /** The runtime's default (1 s) would make freshness ~1 s worse; 200 ms still fills batches under load. */
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(200),
  FROM_BEGINNING: z.stringbool().default(true),
  ES_URL: z.url().default('http://127.0.0.1:9200'),
  INDEX_PREFIX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'lowercase letters, digits, _ . -')
    .default('actionbase'),
  RETENTION_DAYS: z.coerce.number().int().positive().default(21),
  RETENTION_CHECK_MS: z.coerce.number().int().positive().default(3_600_000),
  REFRESH_INTERVAL: z.string().regex(/^(-1|\d+(ms|s|m))$/).default('1s'),
  INDEX_SHARDS: z.coerce.number().int().positive().default(1),
  INDEX_REPLICAS: z.coerce.number().int().min(0).default(0),
  /** Which parts run: the indexer (consumers), the lookup API, or both. */
  ROLE: z.enum(['all', 'indexer', 'api']).default('all'),
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(8095),
  API_HOST: z.string().default('0.0.0.0'),
  LOOKUP_TOKENS: tokens.optional(),
  AUDIT_LOG_PATH: z.string().min(1).default('.data/es-indexer/audit.jsonl'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(ConfigSchema, env);
}

/** The lookup CLI talks to the lookup API (so authentication and the audit log apply to it too). */
export const CliConfigSchema = z.object({
  LOOKUP_URL: z.url().default('http://127.0.0.1:8095'),
  LOOKUP_TOKEN: z.string().min(1).describe('Bearer token of one of the API users (LOOKUP_TOKENS on the server)'),
});
export type CliConfig = z.output<typeof CliConfigSchema>;

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  return parseConfig(CliConfigSchema, env);
}
