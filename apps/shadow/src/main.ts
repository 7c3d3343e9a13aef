/**
 * apps/shadow: mirrors the primary core's WAL into a target core through @pipeline/stream (ShadowSink), and
 * compares the touched keys of both (Comparer). Wiring only: parse the config, start the runtime with the sink
 * and the comparison loop, stop on signals (the first one drains, flushes and commits; a second one exits at
 * once).
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { CoreClient } from '@pipeline/core-api';
import { installSignalHandlers, runConsumer, streamOptionsFromEnv } from '@pipeline/stream';
import { Comparer } from './comparer';
import { loadConfig } from './config';
import { DEFAULT_MAX_BATCH, ShadowSink } from './shadow.sink';

/** Served by the runtime; docker/health-paths.json points the image healthcheck at it. */
const READINESS_PATH = '/health/readiness';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'shadow' } });
const registry = new Registry();
const primary = new CoreClient({ baseUrl: config.PRIMARY_URL, actor: 'Shadow', token: config.PRIMARY_API_TOKEN });
const target = new CoreClient({ baseUrl: config.TARGET_URL, actor: 'Shadow', token: config.TARGET_API_TOKEN });
const comparer = new Comparer(
  primary,
  target,
  {
    settleMs: config.SETTLE_MS,
    settleRounds: config.SETTLE_ROUNDS,
    intervalMs: config.COMPARE_INTERVAL_MS,
    batch: config.COMPARE_BATCH,
    maxPending: config.MAX_PENDING_KEYS,
    maxDivergent: config.MAX_DIVERGENT_KEYS,
    reportFile: config.REPORT_FILE,
  },
  logger.child({ component: 'shadow.comparer' }),
  registry,
);
const sink = new ShadowSink(primary, target, comparer, { maxBatch: DEFAULT_MAX_BATCH, countSampleRate: config.COUNT_SAMPLE_RATE }, logger.child({ component: 'shadow.sink' }), registry);
const consumer = await runConsumer({
  ...streamOptionsFromEnv(config),
  topic: config.WAL_TOPIC,
  kind: 'wal',
  sink,
  metrics: registry,
  consumer: { fromBeginning: config.START_AT === 'earliest', sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS },
  logger,
}).catch((err: unknown) => {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
});
comparer.start();
// Installed once started: a signal while joining ends the process at once, before anything was written or committed.
// The comparison loop stops with the consumer and writes its last report.
installSignalHandlers({ done: consumer.done, stop: async () => void (await Promise.all([comparer.stop(), consumer.stop()])) }, { logger });
logger.info(
  {
    topic: config.WAL_TOPIC,
    group: config.CONSUMER_GROUP,
    primary: config.PRIMARY_URL,
    target: config.TARGET_URL,
    report: config.REPORT_FILE,
    readiness: `http://127.0.0.1:${consumer.httpPort()}${READINESS_PATH}`,
  },
  'mirroring',
);
