/**
 * druid-ingest service: applies the CDC supervisor spec to Druid (idempotently), logs its health
 * periodically, and serves the dashboard queries over HTTP. Druid reads Kafka itself; this app owns the spec.
 */
import pino from 'pino';
import { loadConfig, supervisorOptions } from './config';
import { DruidClient } from '@pipeline/druid';
import { buildHttp } from './http';
import { applySupervisor, isFinalApplyError, supervisorHealth } from './supervisor.apply';
import { buildSupervisorSpec } from './supervisor.spec-builder';
import { formatChanges } from './spec.diff';

const config = loadConfig();
const log = pino({ level: config.LOG_LEVEL, base: { app: 'druid-ingest' } });
const druid = new DruidClient({ overlordUrl: config.DRUID_URL, brokerUrl: config.DRUID_BROKER_URL });
const spec = buildSupervisorSpec(supervisorOptions(config));
const http = buildHttp({ druid, spec, dataSource: config.DATASOURCE });

let timer: NodeJS.Timeout | undefined;
let stopping = false;

/** Applies the spec, retrying while Druid is unreachable (it may start later, or only with its profile). */
async function applyWithRetry(): Promise<void> {
  const applyLog = log.child({ component: 'apply' });
  for (let attempt = 1, delay = 1_000; !stopping; attempt++, delay = Math.min(delay * 2, 30_000)) {
    try {
      const r = await applySupervisor(druid, spec, applyLog);
      if (r.changes.length) applyLog.info({ diff: formatChanges(r.changes) }, 'supervisor spec difference');
      return;
    } catch (err) {
      // An invalid spec never becomes valid by waiting: fail the start.
      if (isFinalApplyError(err)) throw err;
      applyLog.warn({ attempt, err: (err as Error).message, retryInMs: delay }, 'Druid unreachable; retrying the apply');
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

async function start(): Promise<void> {
  await http.listen({ port: config.PORT, host: config.HOST });
  log.info({ port: config.PORT, dataSource: config.DATASOURCE }, 'druid-ingest listening');
  if (config.APPLY_ON_START) await applyWithRetry();
  const watch = log.child({ component: 'health' });
  timer = setInterval(() => {
    supervisorHealth(druid, config.DATASOURCE).then(
      (h) => (h.healthy ? watch.info(h, h.summary) : watch.warn(h, h.summary)),
      (err: Error) => watch.warn({ err: err.message }, 'supervisor health unavailable'),
    );
  }, config.HEALTH_INTERVAL_MS);
}

async function stop(signal: string): Promise<void> {
  if (stopping) {
    log.error({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  log.info({ signal }, 'stopping');
  if (timer) clearInterval(timer);
  await http.close();
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
start().catch((err: Error) => {
  log.fatal({ err }, 'druid-ingest failed to start');
  process.exit(1);
});
