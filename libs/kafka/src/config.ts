/** Settings shared by the producer, admin and consumer: KafkaConfig with the defaults filled in. */
import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';
import type { BackoffPolicy } from '@pipeline/errors';
import { KafkaUnavailableError, toKafkaError } from './errors';
import type { KafkaConfig } from './types';

/** SASL credentials of every connection. SCRAM keeps the password off the wire; PLAIN needs TLS to do the same. */
export interface KafkaSasl {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

/** TLS of every connection: `true` trusts the system CAs; PEM contents otherwise (`cert`/`key` for mutual TLS). */
export type KafkaTls = true | { ca?: string; cert?: string; key?: string; servername?: string };

declare module './types' {
  // Declared here, next to where they are applied, so the transport security of every client lives in one file.
  interface KafkaConfig {
    /** Default: from KAFKA_SASL_MECHANISM / KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD when set. */
    sasl?: KafkaSasl;
    /** Default: from KAFKA_TLS / KAFKA_TLS_CA_FILE / KAFKA_TLS_CERT_FILE / KAFKA_TLS_KEY_FILE / KAFKA_TLS_SERVER_NAME when set. */
    tls?: KafkaTls;
  }
}

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/**
 * The transport security every app gets from its environment, without a setting of its own: the apps build their
 * KafkaConfig from brokers and a client id, and this fills in SASL and TLS. Throws a TypeError naming the variable
 * for a value that cannot work (the app stops at start with it).
 */
export function securityFromEnv(env: Record<string, string | undefined> = process.env): { sasl?: KafkaSasl; tls?: KafkaTls } {
  const get = (k: string) => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const out: { sasl?: KafkaSasl; tls?: KafkaTls } = {};
  const mechanism = get('KAFKA_SASL_MECHANISM');
  if (mechanism !== undefined) {
    if (!(MECHANISMS as readonly string[]).includes(mechanism)) throw new TypeError(`KAFKA_SASL_MECHANISM: expected one of ${MECHANISMS.join(', ')}, got ${mechanism}`);
    const username = get('KAFKA_SASL_USERNAME');
    const password = get('KAFKA_SASL_PASSWORD');
    if (username === undefined || password === undefined) throw new TypeError('KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM');
    out.sasl = { mechanism: mechanism as KafkaSasl['mechanism'], username, password };
  } else if (get('KAFKA_SASL_USERNAME') !== undefined || get('KAFKA_SASL_PASSWORD') !== undefined) {
    throw new TypeError('KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN)');
  }
  const tls = get('KAFKA_TLS');
  if (tls !== undefined && !['true', 'false'].includes(tls)) throw new TypeError(`KAFKA_TLS: expected true or false, got ${tls}`);
  const read = (k: string) => {
    const f = get(k);
    if (f === undefined) return undefined;
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      throw new TypeError(`${k}: cannot read ${f} (${(err as Error).message})`);
    }
  };
  const files = { ca: read('KAFKA_TLS_CA_FILE'), cert: read('KAFKA_TLS_CERT_FILE'), key: read('KAFKA_TLS_KEY_FILE'), servername: get('KAFKA_TLS_SERVER_NAME') };
  const given = Object.fromEntries(Object.entries(files).filter(([, v]) => v !== undefined)) as Exclude<KafkaTls, true>;
  if (Object.keys(given).length && tls === 'false') throw new TypeError('KAFKA_TLS: false, but KAFKA_TLS_* files are set');
  if (Object.keys(given).length) out.tls = given;
  else if (tls === 'true') out.tls = true;
  return out;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
export const DEFAULT_RETRIES = 2;
export const DEFAULT_RETRY_DELAY_MS = 250;

/** Waits of the consumer and the range reader while the broker is unavailable (full jitter, doubling from 400 ms, at most 5 s). */
export const TRANSIENT_BACKOFF: BackoffPolicy = { baseMs: 400, maxMs: 5_000 };


/** Settings shared by every client object, from KafkaConfig with the defaults filled in. */
export interface ResolvedConfig {
  brokers: string[];
  clientId: string;
  requestTimeoutMs: number;
  retries: number;
  retryDelayMs: number;
  /** Longest an operation may take before it fails as unavailable (a safety net over the client's retries). */
  deadlineMs: number;
  sasl?: KafkaSasl;
  tls?: KafkaTls;
}

export function resolveConfig(config: KafkaConfig): ResolvedConfig {
  if (!config.brokers.length) throw new TypeError('KafkaConfig.brokers is empty');
  const requestTimeoutMs = config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const retries = Math.max(0, config.retries ?? DEFAULT_RETRIES);
  const retryDelayMs = config.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const fromEnv = config.sasl === undefined || config.tls === undefined ? securityFromEnv() : {};
  const sasl = config.sasl ?? fromEnv.sasl;
  const tls = config.tls ?? fromEnv.tls;
  return {
    ...(sasl ? { sasl } : {}),
    ...(tls ? { tls } : {}),
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
    ...connectionSecurity(cfg),
  };
}

/** SASL and TLS options of one connection: for the clients, and for any connection pool opened beside them. */
export function connectionSecurity(cfg: ResolvedConfig): Pick<BaseOptions, 'sasl' | 'tls'> {
  return {
    ...(cfg.sasl ? { sasl: { ...cfg.sasl } } : {}),
    // rejectUnauthorized stays node's default (true): a broker certificate that does not verify fails the connection.
    ...(cfg.tls ? { tls: cfg.tls === true ? {} : { ...cfg.tls } } : {}),
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

