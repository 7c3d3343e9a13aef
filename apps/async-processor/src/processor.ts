/**
 * Builds the processor from its config: core client, rate limiter, keep-newest, the sink, and the stream
 * consumer around them. main.ts only calls this and installs the signal handlers; tests and the benchmark
 * run the same wiring as a child process.
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { StreamConsumer } from '@pipeline/stream';
import type { Config } from './config';
import { CoreClient } from '@pipeline/core-api';
import { KeepNewest } from './keep-newest';
import { TokenBucket, unlimited, type RateLimiter } from './token-bucket';
import { WalApplySink } from './wal-apply.sink';

/** Readiness path of the health server libs/stream runs for us (docker/health-paths.json). */
export const READINESS_PATH = '/health/readiness';

export function buildProcessor(config: Config, logger: Logger): { consumer: StreamConsumer<'wal'>; sink: WalApplySink } {
  const registry = new Registry();
  const core = new CoreClient({ baseUrl: config.CORE_URL, actor: config.ACTOR_ID, timeoutMs: config.CORE_TIMEOUT_MS, token: config.CORE_API_TOKEN });
  const limiter: RateLimiter =
    config.RATE_LIMIT_PER_SEC > 0
      ? new TokenBucket(config.RATE_LIMIT_PER_SEC, config.RATE_LIMIT_BURST ?? Math.max(1, Math.ceil(config.RATE_LIMIT_PER_SEC)))
      : unlimited;
  let applies = 0;
  const onApplied =
    config.FAULT_KILL_AFTER_APPLIES > 0
      ? () => {
          if (++applies < config.FAULT_KILL_AFTER_APPLIES) return;
          logger.warn({ applies }, 'FAULT_KILL_AFTER_APPLIES: kill -9 before the commit');
          process.kill(process.pid, 'SIGKILL');
        }
      : undefined;
  const sink = new WalApplySink({
    onApplied,
    core,
    limiter,
    keepNewest: new KeepNewest(core, limiter, logger.child({ component: 'keep-newest' })),
    rules: config.KEEP_NEWEST,
    concurrency: config.CORE_CONCURRENCY,
    skipIgnored: config.SKIP_IGNORE_MODE,
    logger,
    registry,
  });
  const consumer = new StreamConsumer<'wal'>({
    kafka: { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID },
    groupId: config.GROUP_ID,
    topic: config.WAL_TOPIC,
    kind: 'wal',
    sink,
    batch: { maxRecords: config.BATCH_MAX_RECORDS, maxBytes: config.BATCH_MAX_BYTES, maxWaitMs: config.BATCH_MAX_WAIT_MS },
    retry: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS, maxAttempts: config.RETRY_MAX_ATTEMPTS },
    logger,
    metrics: registry,
    http: { port: config.HTTP_PORT, host: config.HTTP_HOST },
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    consumer: {
      fromBeginning: config.FROM_BEGINNING,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
      maxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS,
    },
  });
  return { consumer, sink };
}
