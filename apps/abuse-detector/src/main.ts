/**
 * apps/abuse-detector: consumes the CDC through @pipeline/stream into AbuseDetectorSink. Wiring only: parse the config
 * and the rules, start the alerts' retention and the runtime with the sink, stop on signals (the first one drains,
 * flushes and commits; a second one exits at once).
 */
import { createEsClient, esConnectionFromEnv } from '@pipeline/elasticsearch';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createKafka } from '@pipeline/kafka';
import { installSignalHandlers, runConsumer, streamOptionsFromEnv } from '@pipeline/stream';
import { KafkaEsAlertOutput } from './alert-publisher';
import { startAlertRetention } from './alert-retention';
import { loadConfig } from './config';
import { AbuseDetectorSink, DetectorMetrics } from './abuse-detector.sink';
import { KafkaPartitionOffsets } from './partition-offsets';
import { loadRulesFile } from './rules';

/** Served by the runtime; docker/health-paths.json points the image healthcheck at it. */
const READINESS_PATH = '/health/readiness';

const config = loadConfig();
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'abuse-detector' }, redact: ['*.password', '*.apiKey'] });
let rules;
try {
  rules = loadRulesFile(config.RULES_FILE);
} catch (err) {
  logger.fatal((err as Error).message);
  process.exit(1);
}
const stream = streamOptionsFromEnv(config);
const kafka = createKafka({ ...stream.kafka, clientId: `${stream.kafka.clientId}.alerts` });
const es = createEsClient(esConnectionFromEnv(config), { requestTimeout: 30_000 });
const registry = new Registry();
const sink = new AbuseDetectorSink({
  rules,
  limits: { maxKeys: config.STATE_MAX_KEYS, graceMs: config.WINDOW_GRACE_MS },
  ignoredActors: config.IGNORED_ACTORS,
  statePath: config.STATE_PATH,
  offsets: new KafkaPartitionOffsets(kafka, config.CONSUMER_GROUP),
  output: new KafkaEsAlertOutput({ kafka, topic: config.ALERTS_TOPIC, es, index: config.ES_ALERTS_INDEX }),
  metrics: new DetectorMetrics(registry),
  logger: logger.child({ component: 'abuse-detector.sink' }),
  groupCheckMs: config.GROUP_CHECK_MS,
});
// Before the consumer joins (which waits for Kafka): old alerts expire even while the broker is down. A missing index
// is nothing to expire. The timer is unref'd, so it never holds the process at shutdown.
startAlertRetention(es, config.ES_ALERTS_INDEX, config.ALERT_RETENTION_DAYS, config.ALERT_RETENTION_CHECK_MS, logger);
const consumer = await runConsumer({
  ...stream,
  topic: config.CDC_TOPIC,
  kind: 'cdc',
  sink,
  logger,
  metrics: registry,
  consumer: { sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS },
}).catch((err: unknown) => {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
});
// Installed once started: a signal while joining ends the process at once, before anything was written or committed.
installSignalHandlers(consumer, { logger });
logger.info(
  { topic: config.CDC_TOPIC, group: config.CONSUMER_GROUP, alerts: config.ALERTS_TOPIC, readiness: `http://127.0.0.1:${consumer.httpPort()}${READINESS_PATH}` },
  'consuming',
);
