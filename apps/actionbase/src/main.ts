import { loadConfig } from './config';
import { startCore } from './core';
import { createLogger } from './logger';

let config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const logger = createLogger(config.LOG_LEVEL);
const core = await startCore(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, 'actionbase core failed to start');
  process.exit(1);
});

let signals = 0;
const shutdown = (signal: string) => {
  if (++signals > 1) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(130);
  }
  logger.info({ signal }, 'shutting down: finishing requests, relaying committed CDC');
  core.close().then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
