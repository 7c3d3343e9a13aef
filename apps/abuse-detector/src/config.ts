/**
 * The app's whole configuration, parsed once from the environment at start: the variables every consumer
 * shares (StreamEnvSchema: brokers, group, batch, retry, probes) plus this app's own. parseConfig names every
 * bad variable and the process stops. The only file that reads process.env.
 */
import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { logLevel, parseConfig, port } from '@pipeline/config';
import { StreamEnvSchema } from '@pipeline/stream';
import { checkEsAuth, esEnv } from '@pipeline/elasticsearch';

export const ConfigSchema = StreamEnvSchema.extend({
  CONSUMER_GROUP: z.string().min(1).default('abuse-detector').describe('Consumer group; also names the DLQ topic (<group>.dlq)'),
  CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName).describe('The CDC topic this app consumes'),
  HTTP_PORT: port(9470).describe('Health probes and /metrics; 0 picks a free port'),
  LOG_LEVEL: logLevel,
  KAFKA_SESSION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(6_000)
    .default(30_000)
    .describe('How long the group waits for a member that stopped answering (a killed process) before its partitions move'),
  RULES_FILE: z.string().min(1).default('apps/abuse-detector/rules.json').describe('The rules per table (JSON, see README)'),
  STATE_PATH: z.string().min(1).default('.data/abuse-detector/state.db').describe('SQLite file of the windows and the offsets they cover'),
  STATE_MAX_KEYS: z.coerce.number().int().min(100).default(200_000).describe('Most state entries (rule x subject) kept in memory and on disk'),
  WINDOW_GRACE_MS: z.coerce.number().int().min(0).default(5_000).describe('How late (event time) a record may come before its window closes'),
  GROUP_CHECK_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('How often the consumer group is looked at: with another member (a second replica) the detector is not ready'),
  IGNORED_ACTORS: z
    .string()
    .default('AsyncRequestProcessor,WalReplay')
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .describe('Actors never counted (the pipeline replaying requests on behalf of their users)'),
  ALERTS_TOPIC: z.string().min(1).default(TOPICS.alerts.defaultName).describe('Where alerts are sent'),
  ...esEnv,
  ES_ALERTS_INDEX: z.string().min(1).default('actionbase-alerts').describe('Elasticsearch index of the alerts; the lookup reads <INDEX_PREFIX>-alerts'),
  ALERT_RETENTION_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .default(90)
    .describe('Alerts whose window ended longer ago than this are deleted from the alerts index (they name people)'),
  ALERT_RETENTION_CHECK_MS: z.coerce.number().int().min(1_000).default(3_600_000).describe('How often expired alerts are looked for (also once at start)'),
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(ConfigSchema.superRefine(checkEsAuth), env);
}
