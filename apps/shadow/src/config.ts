/**
 * The app's whole configuration, parsed once from the environment at start: the variables every consumer
 * shares (StreamEnvSchema: brokers, group, batch, retry, probes) plus this app's own. parseConfig names every
 * bad variable and the process stops. The only file that reads process.env.
 */
import { z } from 'zod';
import { TOPICS } from '@pipeline/events';
import { parseConfig, StreamEnvSchema } from '@pipeline/stream';

export const ConfigSchema = StreamEnvSchema.extend({
  CONSUMER_GROUP: z.string().min(1).default('shadow').describe('Consumer group; also names the DLQ topic (<group>.dlq)'),
  WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName).describe('The WAL topic this app consumes'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9470).describe('Health probes and /metrics; 0 picks a free port'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Add the sink's own settings here (URLs, credentials, sizes), each with a default or a clear message.
});

export type Config = z.output<typeof ConfigSchema>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parseConfig(ConfigSchema, env);
}
