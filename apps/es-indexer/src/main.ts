import { createEsClient, esConnectionFromEnv } from '@pipeline/elasticsearch';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { installSignalHandlers, streamOptionsFromEnv } from '@pipeline/stream';
import { AuditLog } from './audit-log';
import { Authenticator } from '@pipeline/web-auth';
import { jwtSettings, loadConfig, type Config } from './config';
import { startTombstoneExpiry } from './indices';
import { startIndexer, type Indexer } from './indexer';
import { buildLookupApi } from './lookup.api';
import { LookupService } from './lookup.service';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'es-indexer' }, redact: ['req.headers.authorization'] });
const client = createEsClient(esConnectionFromEnv(config), { requestTimeout: 30_000 });
const registry = new Registry();
const stream = streamOptionsFromEnv(config);

let indexer: Indexer | undefined;
if (config.ROLE !== 'api') {
  indexer = await startIndexer({
    ...stream,
    walTopic: config.WAL_TOPIC,
    cdcTopic: config.CDC_TOPIC,
    client,
    prefix: config.INDEX_PREFIX,
    retentionDays: config.RETENTION_DAYS,
    retentionCheckMs: config.RETENTION_CHECK_MS,
    refreshInterval: config.REFRESH_INTERVAL,
    shards: config.INDEX_SHARDS,
    replicas: config.INDEX_REPLICAS,
    consumer: { fromBeginning: config.FROM_BEGINNING },
    logger,
    registry,
  }).catch((err: unknown) => {
    logger.fatal({ err }, 'indexer failed to start');
    process.exit(1);
  });
}
const stopTombstoneExpiry =
  config.ROLE !== 'api' ? startTombstoneExpiry(client, config.INDEX_PREFIX, config.TOMBSTONE_RETENTION_DAYS, config.RETENTION_CHECK_MS, logger) : () => undefined;

// Probes and metrics on HTTP_PORT; readiness covers both consumers.
const ops = Fastify({ loggerInstance: logger.child({ component: 'ops' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
ops.get('/health/liveness', async () => ({ live: true }));
ops.get('/health/readiness', async (_req, reply) => {
  const r = indexer ? indexer.ready() : { ready: true, reasons: [] };
  return reply.code(r.ready ? 200 : 503).send(r);
});
ops.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
await ops.listen({ port: stream.http?.port ?? 9464, host: config.HTTP_HOST });

let audit: AuditLog | undefined;
let api: Awaited<ReturnType<typeof buildLookupApi>> | undefined;
if (config.ROLE !== 'indexer') {
  audit = new AuditLog(config.AUDIT_LOG_PATH, config.AUDIT_CHAIN_KEY);
  const auth = new Authenticator(config.LOOKUP_TOKENS ?? new Map(), jwtSettings(config));
  api = await buildLookupApi({ lookup: new LookupService(client, config.INDEX_PREFIX), audit, auth, logger });
  await api.listen({ port: config.API_PORT, host: config.API_HOST });
  logger.info({ port: config.API_PORT, host: config.API_HOST }, 'support lookup listening');
}

// Shutdown order: stop answering lookups, drain and commit both consumers, then close the clients.
let stopped!: () => void;
const apiDone = new Promise<void>((r) => (stopped = r));
const done = Promise.all([indexer?.wal.done, indexer?.cdc.done, apiDone]).then(() => undefined);
installSignalHandlers(
  {
    done,
    stop: async () => {
      try {
        stopTombstoneExpiry();
        await api?.close();
        await indexer?.stop();
      } finally {
        await ops.close();
        await audit?.close();
        await client.close();
        stopped();
      }
    },
  },
  { logger },
);
