/** Wiring only: config, the sampler, the page and its API; stops on SIGTERM/SIGINT (a second signal exits at once). */
import pino from 'pino';
import { Authenticator } from '@pipeline/web-auth';
import { buildConsoleApi } from './console.api';
import { loadConfig } from './config';
import { Sampler } from './sampler';

const cfg = loadConfig(process.env);
const logger = pino({ level: cfg.LOG_LEVEL, base: { app: 'console' } });
const sampler = new Sampler(cfg, logger.child({ component: 'sampler' }));
const api = await buildConsoleApi({ sampler, auth: new Authenticator(cfg.CONSOLE_TOKENS), logger });
sampler.start();
const address = await api.listen({ port: cfg.PORT, host: cfg.HOST });
logger.info({ address, every: cfg.SAMPLE_INTERVAL_MS, consumers: cfg.CONSUMERS.map((c) => c.name) }, 'console listening');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting at once');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, 'stopping');
  void Promise.all([api.close(), sampler.stop()]).then(
    () => process.exit(0),
    (err: unknown) => {
      logger.error({ err }, 'stop failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
