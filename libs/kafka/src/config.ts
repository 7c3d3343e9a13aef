/** Settings shared by the producer, admin and consumer: KafkaConfig with the defaults filled in. */
import type { BaseOptions } from '@platformatic/kafka';
import { KafkaUnavailableError, toKafkaError } from './errors';
import type { KafkaConfig } from './types';

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_MS = 250;


/** Settings shared by every client object, from KafkaConfig with the defaults filled in. */
export interface ResolvedConfig {
  brokers: string[];
  clientId: string;
  requestTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
  /** Longest an operation may take before it fails as unavailable (a safety net over the client's retries). */
  deadlineMs: number;
}

export function resolveConfig(config: KafkaConfig): ResolvedConfig {
  if (!config.brokers.length) throw new TypeError('KafkaConfig.brokers is empty');
  const requestTimeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const retries = Math.max(0, config.retries ?? DEFAULT_RETRIES);
  const retryDelayMs = config.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  return {
    brokers: [...config.brokers],
    clientId: config.clientId,
    requestTimeoutMs,
    retries,
    retryDelayMs,
    deadlineMs: (retries + 1) * requestTimeoutMs + retries * retryDelayMs + 1_000,
  };
}

export function baseOptions(cfg: ResolvedConfig, suffix: string): BaseOptions {
  return {
    clientId: `${cfg.clientId}-${suffix}`,
    bootstrapBrokers: cfg.brokers,
    connectTimeout: cfg.requestTimeoutMs,
    // requestTimeout: how long the connection waits for an answer; timeout: the broker-side produce timeout.
    requestTimeout: cfg.requestTimeoutMs,
    timeout: cfg.requestTimeoutMs,
    retries: cfg.retries,
    retryDelay: cfg.retryDelayMs,
  };
}

/**
 * Runs op; unavailability (or no answer within the deadline) becomes KafkaUnavailableError, other errors
 * pass through.
 */
export async function guarded<T>(cfg: ResolvedConfig, operation: string, op: () => Promise<T>, deadlineMs = cfg.deadlineMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KafkaUnavailableError(operation, cfg.brokers, new Error(`no answer within ${deadlineMs} ms`))), deadlineMs);
    timer.unref();
  });
  try {
    return await Promise.race([op(), deadline]);
  } catch (err) {
    throw toKafkaError(err, operation, cfg.brokers);
  } finally {
    clearTimeout(timer);
  }
}

