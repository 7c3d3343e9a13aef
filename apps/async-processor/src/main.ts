/**
 * apps/async-processor: applies queued WAL records (mode.queue=true) through the core. Wiring only: parse the
 * config, build, start, stop on signals (first signal drains and commits; a second one exits at once).
 */
import pino from 'pino';
import { installSignalHandlers } from '@pipeline/stream';
import { loadConfig } from './config';
import { buildProcessor, READINESS_PATH } from './processor';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'async-processor' }, redact: ['config.CORE_API_TOKEN'] });
const { consumer } = buildProcessor(config, logger);
installSignalHandlers(consumer, { logger });
logger.info(
  { topic: config.WAL_TOPIC, group: config.GROUP_ID, core: config.CORE_URL, ratePerSec: config.RATE_LIMIT_PER_SEC, keepNewest: [...config.KEEP_NEWEST.values()] },
  'starting',
);
await consumer.start().catch((err: unknown) => {
  logger.fatal({ err }, 'could not start');
  process.exit(1);
});
logger.info({ readiness: `http://${config.HTTP_HOST}:${consumer.httpPort()}${READINESS_PATH}` }, 'consuming the WAL');
