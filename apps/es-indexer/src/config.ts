import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { listenHost, logLevel, parseConfig, port } from '@pipeline/config';
import { StreamEnvSchema } from '@pipeline/stream';
import { parseTokenList, type JwtSettings } from '@pipeline/web-auth';
import { checkEsAuth, esEnv } from '@pipeline/elasticsearch';

/**
 * Configuration of the indexer and the support lookup, parsed once from the environment (the only file that
 * reads process.env). A bad value stops the process at start with a message naming the variable.
 */
const tokens = z
  .string()
  .transform((s, ctx) => {
    try {
      return parseTokenList(s);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .describe('Lookup API credentials: user:token,user2:token2, each token unique and strong (sha256 digest -> user)');

/** A listener address; loopback unless the operator opens it on purpose. */
const host = listenHost();

export const ConfigSchema = StreamEnvSchema.extend({
  CONSUMER_GROUP: z.string().min(1).default('es-indexer'),
  WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName),
  CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName),
  /** The runtime's default (1 s) would make freshness ~1 s worse; 200 ms still fills batches under load. */
  BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).default(200),
  FROM_BEGINNING: z.stringbool().default(true),
  ES_URL: esEnv.ES_URL,
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
  API_PORT: port(8095),
  API_HOST: host,
  /** The probes and /metrics: metrics name topics and groups, so they stay on loopback unless opened on purpose. */
  HTTP_HOST: host,
  LOOKUP_TOKENS: tokens.optional(),
  /** Signed tokens (JWT): one of a shared HS256 secret, a PEM public key, or an identity provider's JWKS URL. */
  LOOKUP_JWT_SECRET: z.string().min(32, 'use 32 or more characters (e.g. openssl rand -base64 48)').optional(),
  LOOKUP_JWT_PUBLIC_KEY: z.string().includes('BEGIN PUBLIC KEY', { message: 'expected a PEM public key (-----BEGIN PUBLIC KEY-----)' }).optional(),
  LOOKUP_JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOOKUP_JWT_ISSUER: z.string().min(1).optional(),
  LOOKUP_JWT_AUDIENCE: z.string().min(1).default('es-indexer-lookup'),
  LOOKUP_JWT_MAX_TTL_S: z.coerce.number().int().positive().max(86_400).default(3_600),
  LOOKUP_JWT_USER_CLAIM: z.string().min(1).default('sub'),
  AUDIT_LOG_PATH: z.string().min(1).default('.data/es-indexer/audit.jsonl'),
  /** Optional HMAC key of the audit hash chain: without it anyone who can write the file can also recompute the chain. */
  AUDIT_CHAIN_KEY: z.string().min(32, 'use 32 or more characters').optional(),
  /** How long a deleted edge's tombstone stays in the current-state index; longer than the CDC topic's retention. */
  TOMBSTONE_RETENTION_DAYS: z.coerce.number().int().positive().default(14),
  ES_API_KEY: esEnv.ES_API_KEY,
  ES_USERNAME: esEnv.ES_USERNAME,
  ES_PASSWORD: esEnv.ES_PASSWORD,
  ES_CA_FILE: esEnv.ES_CA_FILE,
  LOG_LEVEL: logLevel,
});

export const ConfigSchemaChecked = ConfigSchema.superRefine((c, ctx) => {
  const jwtSources = (['LOOKUP_JWT_SECRET', 'LOOKUP_JWT_PUBLIC_KEY', 'LOOKUP_JWT_JWKS_URL'] as const).filter((k) => c[k] !== undefined);
  if (jwtSources.length > 1) ctx.addIssue({ code: 'custom', path: [jwtSources[1]!], message: `set only one of ${jwtSources.join(', ')}` });
  if (c.LOOKUP_JWT_JWKS_URL !== undefined && c.LOOKUP_JWT_ISSUER === undefined)
    ctx.addIssue({ code: 'custom', path: ['LOOKUP_JWT_ISSUER'], message: 'required with LOOKUP_JWT_JWKS_URL (the identity provider signs tokens for many issuers and audiences)' });
  checkEsAuth(c, ctx);
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(ConfigSchemaChecked, env);
}

/** The signed-token settings, or undefined when none of the three key sources is set. */
export function jwtSettings(c: Config): JwtSettings | undefined {
  const key = c.LOOKUP_JWT_SECRET !== undefined ? { secret: c.LOOKUP_JWT_SECRET } : c.LOOKUP_JWT_PUBLIC_KEY !== undefined ? { publicKeyPem: c.LOOKUP_JWT_PUBLIC_KEY } : c.LOOKUP_JWT_JWKS_URL !== undefined ? { jwksUrl: c.LOOKUP_JWT_JWKS_URL } : undefined;
  if (!key) return undefined;
  return { ...key, audience: c.LOOKUP_JWT_AUDIENCE, maxTtlSeconds: c.LOOKUP_JWT_MAX_TTL_S, userClaim: c.LOOKUP_JWT_USER_CLAIM, ...(c.LOOKUP_JWT_ISSUER ? { issuer: c.LOOKUP_JWT_ISSUER } : {}) };
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
