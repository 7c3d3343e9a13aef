import { hostname } from 'node:os';
import type { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { encodeCdc, encodeWal, heartbeatCdc, heartbeatWal } from '@pipeline/events';
import { Catalog } from './catalog/catalog';
import type { Config } from './config';
import { MutationEngine } from './engine/mutation-engine';
import { RelayLeader } from './engine/relay-leader';
import { QueryService } from './engine/query-service';
import { buildServer } from './http/server';
import { KafkaCdcOutlet, SinkCdcOutlet, type CdcOutlet } from './publish/cdc-outlet';
import { CdcRelay } from './publish/cdc-relay';
import { KafkaRecordSink, LogRecordSink, type RecordSink } from './publish/record-sink';
import type { EdgeStore } from './storage/edge-store';
import { PgEdgeStore } from './storage/pg-store';
import { SqliteEdgeStore } from './storage/sqlite-store';
import { Registry } from 'prom-client';
import { KAFKA_DEFAULT_MAX_MESSAGE_BYTES, maxMessageBytes, RECORD_OVERHEAD_BYTES, recordLimitsOf } from './publish/topic-limits';

export interface RunningCore {
  url: string;
  engine: MutationEngine;
  relay: RelayLeader;
  close(): Promise<void>;
}

/** Wires storage, the WAL/CDC sink, the relay and the HTTP server; `close` stops them in order. */
export interface CoreOptions {
  /** Where WAL/CDC JSON lines go when no Kafka is configured (default stdout). */
  logOut?: Writable;
  /** Called right after a mutation's state commit, before its CDC is relayed (fault injection in tests). */
  afterCommit?: () => void;
}

export async function startCore(cfg: Config, logger: Logger, opts: CoreOptions = {}): Promise<RunningCore> {
  const store = await openStore(cfg);
  const catalog = await Catalog.open(store, cfg.TENANT);
  const { sink, cdcOutlet, walMaxMessageBytes, cdcMaxMessageBytes } = await createSink(cfg, logger, opts.logOut ?? process.stdout);
  const metrics = new Registry();
  // One instance relays the outbox at a time (with SQLite, the only one); a new leader gets a new relay.
  const relay = new RelayLeader(
    store,
    () => {
      // Registered again by the new relay.
      metrics.removeSingleMetric('actionbase_cdc_parked_total');
      metrics.removeSingleMetric('actionbase_cdc_skipped_total');
      return new CdcRelay(store, cdcOutlet, logger.child({ component: 'cdc-relay' }), {
        // Large batches, each acknowledged before the next is read (bench/README.md, the relay).
        batchRows: 20_000,
        batchBytes: 4 * 1024 * 1024,
        maxBackoffMs: 5000,
        maxRecordBytes: cdcMaxMessageBytes - RECORD_OVERHEAD_BYTES,
        parkDir: `${cfg.STORAGE_PATH}.cdc-parked`,
        metrics,
      });
    },
    logger.child({ component: 'relay-leader' }),
  );
  relay.start();
  const crashAfterCommit = cfg.FAULT_CRASH_AFTER_COMMIT ? () => process.kill(process.pid, 'SIGKILL') : undefined;
  const engine = new MutationEngine(store, sink, relay, {
    tenant: cfg.TENANT,
    systemMode: cfg.SYSTEM_MODE ?? null,
    recordLimits: recordLimitsOf(walMaxMessageBytes, cdcMaxMessageBytes),
    afterCommit: opts.afterCommit ?? crashAfterCommit,
  });
  let stopping = false;

  const serverId = cfg.SERVER_ID ?? `${hostname()}:${cfg.PORT}`;
  const beat = async () => {
    const now = Date.now();
    try {
      const key = serverId;
      await sink.publishWal([{ key, value: encodeWal(heartbeatWal(cfg.TENANT, serverId, now)) }]);
      await sink.publishCdc([{ key, value: encodeCdc(heartbeatCdc(cfg.TENANT, serverId, now)) }]);
    } catch (err) {
      logger.warn({ err }, 'heartbeat could not be published');
    }
  };
  const heartbeat = setInterval(() => void beat(), cfg.HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();
  void beat();

  const server = buildServer({
    catalog,
    engine,
    queries: new QueryService(store),
    logger,
    apiToken: cfg.API_TOKEN,
    bodyLimitBytes: cfg.BODY_LIMIT_BYTES,
    tenant: cfg.TENANT,
    http: {
      requestTimeoutMs: cfg.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: cfg.HEADERS_TIMEOUT_MS,
      idleTimeoutMs: cfg.IDLE_TIMEOUT_MS,
      maxConnections: cfg.MAX_CONNECTIONS,
      maxInflightBodyBytes: cfg.MAX_INFLIGHT_BODY_BYTES,
      maxInflightRequests: cfg.MAX_INFLIGHT_REQUESTS,
      maxConcurrentBatches: cfg.MAX_CONCURRENT_BATCHES,
    },
    metrics,
    health: {
      readyOnStart: cfg.READINESS_ON_START,
      // O(1): a probe must answer at once whatever the load (no count over the outbox).
      ready: () => ({ ready: !stopping, details: { wal: sink.kind, storage: store.kind, relayLeader: relay.leading, cdcBacklog: relay.backlog(), cdcParked: relay.parked } }),
    },
  });
  const address = await server.listen({ port: cfg.PORT, host: cfg.HOST });
  logger.info({ address, storage: store.kind === 'postgres' ? redactUrl(cfg.DATABASE_URL!) : cfg.STORAGE_PATH, wal: sink.kind === 'kafka' ? cfg.WAL_TOPIC : 'log', cdc: sink.kind === 'kafka' ? cfg.CDC_TOPIC : 'log' }, 'actionbase core listening');

  return {
    url: address.replace('0.0.0.0', '127.0.0.1'),
    engine,
    relay,
    async close() {
      stopping = true;
      clearInterval(heartbeat);
      await server.close(); // stops accepting, lets in-flight requests finish
      await relay.stop(); // sends what was committed
      await sink.close();
      await store.close();
    },
  };
}

function openStore(cfg: Config): Promise<EdgeStore> {
  if (cfg.STORAGE === 'postgres') return PgEdgeStore.open({ connectionString: cfg.DATABASE_URL!, poolSize: cfg.PG_POOL_SIZE });
  return Promise.resolve(new SqliteEdgeStore(cfg.STORAGE_PATH, { synchronous: cfg.STORAGE_SYNC }));
}

/** A connection string without its password, for the log. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres (unparsable DATABASE_URL)';
  }
}

/** How long the relay's producer waits for an answer before it gives a request up (the WAL's waits 5 s). */
const CDC_REQUEST_TIMEOUT_MS = 30_000;

interface CreatedSink {
  sink: RecordSink;
  /** Where the CDC relay sends: a producer of its own on Kafka, else the log sink. */
  cdcOutlet: CdcOutlet;
  walMaxMessageBytes: number;
  cdcMaxMessageBytes: number;
}

async function createSink(cfg: Config, logger: Logger, logOut: Writable): Promise<CreatedSink> {
  const brokers = cfg.KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean);
  if (brokers.length === 0) {
    logger.info('KAFKA_BROKERS is not set: WAL and CDC records are written to stdout as JSON lines');
    const max = cfg.LOG_SINK_MAX_MESSAGE_BYTES;
    const sink = new LogRecordSink(logOut);
    return { sink, cdcOutlet: new SinkCdcOutlet(sink), walMaxMessageBytes: max, cdcMaxMessageBytes: max };
  }
  // Loaded only when used: the log-only mode needs no Kafka client.
  const { createKafka } = await import('@pipeline/kafka');
  const kafka = createKafka({ brokers, clientId: cfg.KAFKA_CLIENT_ID });
  const admin = await kafka.admin();
  try {
    await admin.ensureTopics([
      { name: cfg.WAL_TOPIC, partitions: cfg.WAL_PARTITIONS, retentionMs: cfg.WAL_RETENTION_MS, replicationFactor: cfg.TOPIC_REPLICATION_FACTOR },
      { name: cfg.CDC_TOPIC, partitions: cfg.CDC_PARTITIONS, retentionMs: cfg.CDC_RETENTION_MS, replicationFactor: cfg.TOPIC_REPLICATION_FACTOR },
    ]);
  } finally {
    await admin.close();
  }
  const max = await maxMessageBytes(brokers, cfg.KAFKA_CLIENT_ID, [cfg.WAL_TOPIC, cfg.CDC_TOPIC]);
  const walMaxMessageBytes = max.get(cfg.WAL_TOPIC) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  const cdcMaxMessageBytes = max.get(cfg.CDC_TOPIC) ?? KAFKA_DEFAULT_MAX_MESSAGE_BYTES;
  logger.info({ walMaxMessageBytes, cdcMaxMessageBytes }, 'record size limits from the topics (max.message.bytes)');
  const sink = new KafkaRecordSink(await kafka.producer(), { wal: cfg.WAL_TOPIC, cdc: cfg.CDC_TOPIC });
  const maxPartitionBytes = Math.min(768 * 1024, cdcMaxMessageBytes - RECORD_OVERHEAD_BYTES);
  // A patient client for the relay, which holds no caller: a request given up on may still be appended
  // later, after the next session has read the topic back, and would then be on the topic twice.
  const cdcKafka = createKafka({ brokers, clientId: `${cfg.KAFKA_CLIENT_ID}-cdc`, requestTimeoutMs: CDC_REQUEST_TIMEOUT_MS });
  const cdcOutlet = new KafkaCdcOutlet(cdcKafka, cfg.CDC_TOPIC, { maxPartitionBytes, tailRecords: 64 });
  return { sink, cdcOutlet, walMaxMessageBytes, cdcMaxMessageBytes };
}
