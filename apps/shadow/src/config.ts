/**
 * The app's whole configuration, parsed once from the environment at start: the variables every consumer
 * shares (StreamEnvSchema: brokers, group, batch, retry, probes) plus this app's own. parseConfig names every
 * bad variable and the process stops. The only file that reads process.env.
 */
import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { ConfigError, logLevel, parseConfig, port } from '@pipeline/config';
import { StreamEnvSchema } from '@pipeline/stream';

const url = z.url().transform((u) => u.replace(/\/+$/, ''));

export const ConfigSchema = StreamEnvSchema.extend({
  CONSUMER_GROUP: z.string().min(1).default('shadow').describe('Consumer group; also names the DLQ topic (<group>.dlq)'),
  WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName).describe("The primary core's WAL topic"),
  HTTP_PORT: port(9470).describe('Health probes and /metrics; 0 picks a free port'),
  LOG_LEVEL: logLevel,
  START_AT: z
    .enum(['earliest', 'latest'])
    .default('latest')
    .describe('Where a group without committed offsets starts: latest (what came before is the backfill\'s job) or earliest (the whole WAL)'),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000).describe('How soon a killed instance\'s partitions move to another one'),
  PRIMARY_URL: url.describe('The core that writes the WAL (the one clients use), e.g. http://127.0.0.1:8080'),
  TARGET_URL: url.describe('The second core the WAL is mirrored into (new version or new store)'),
  PRIMARY_API_TOKEN: z.string().min(1).optional().describe('Bearer token for the primary, when it requires one'),
  TARGET_API_TOKEN: z.string().min(1).optional().describe('Bearer token for the target, when it requires one'),
  SETTLE_MS: z.coerce.number().int().min(0).default(2_000).describe('How long a touched key rests before both cores are compared'),
  SETTLE_ROUNDS: z.coerce.number().int().min(1).default(3).describe('Comparisons (SETTLE_MS apart) a key must fail before it counts as divergent'),
  COMPARE_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000).describe('How often due keys are compared'),
  COMPARE_BATCH: z.coerce.number().int().min(1).default(500).describe('Keys compared per round at most'),
  MAX_PENDING_KEYS: z.coerce.number().int().min(1).default(100_000).describe('Keys waiting for comparison at most; beyond, new keys are counted as dropped'),
  MAX_DIVERGENT_KEYS: z.coerce.number().int().min(1).default(10_000).describe('Divergent keys kept (and re-compared) at most'),
  COUNT_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.1).describe('Share of touched edges whose counts (source OUT, target IN) are compared too'),
  REPORT_FILE: z.string().min(1).default('.data/shadow/report.json').describe('JSON report of the divergent keys, rewritten after every round'),
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const c = parseConfig(ConfigSchema, env);
  // Mirroring a core's WAL into itself would write every record again, and its new WAL records again, forever.
  if (c.TARGET_URL === c.PRIMARY_URL) throw new ConfigError([{ variable: 'TARGET_URL', message: 'is PRIMARY_URL; point it at a second core, with its own store and its own WAL/CDC topics' }]);
  return c;
}
