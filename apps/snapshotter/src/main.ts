/**
 * The snapshotter: CDC -> Iceberg tables of current state + Parquet change log. main only wires: config,
 * logger, sink, consumer, signals.
 */
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import pino from 'pino';
import { installSignalHandlers, runConsumer } from '@pipeline/stream';
import { loadConfig } from './config';
import { catalogFromConfig } from './catalog';
import { SnapshotSink } from './snapshot.sink';

const config = loadConfig(process.env);
const logger = pino({ level: config.LOG_LEVEL, base: { app: 'snapshotter' } });

const sink = new SnapshotSink({
  warehouseDir: config.WAREHOUSE_DIR,
  catalog: catalogFromConfig(config),
  stagingDir: config.STAGING_DIR,
  commitIntervalMs: config.COMMIT_INTERVAL_MS,
  targetFileRows: config.TARGET_FILE_ROWS,
  compaction: { smallFileRows: config.COMPACT_SMALL_FILE_ROWS, minSmallFiles: config.COMPACT_MIN_FILES },
  retention: { maxSnapshotAgeMs: config.SNAPSHOT_MAX_AGE_MS, minSnapshotsToKeep: config.SNAPSHOT_MIN_KEEP, maxMetadataFiles: config.METADATA_MAX_FILES },
  commitRetries: config.COMMIT_RETRIES,
  changelog: config.CHANGELOG_ENABLED,
  orphanMinAgeMs: config.ORPHAN_MIN_AGE_MS,
  writerId: `${hostname()}:${process.pid}`,
  logger,
  ...(config.FAULT_CRASH_AT
    ? {
        onStep: (table: string, step: string) => {
          if (step !== config.FAULT_CRASH_AT) return;
          // Written synchronously: pino's buffered stdout would die with the process.
          writeSync(2, `FAULT_CRASH_AT=${step} (${table}): killing the process with SIGKILL\n`);
          process.kill(process.pid, 'SIGKILL');
        },
      }
    : {}),
});

const consumer = await runConsumer({
  kafka: { brokers: config.KAFKA_BROKERS, clientId: config.KAFKA_CLIENT_ID ?? config.CONSUMER_GROUP },
  groupId: config.CONSUMER_GROUP,
  topic: config.CDC_TOPIC,
  kind: 'cdc',
  sink,
  batch: { maxRecords: config.BATCH_MAX_RECORDS, maxBytes: config.BATCH_MAX_BYTES, maxWaitMs: config.BATCH_MAX_WAIT_MS },
  retry: { baseMs: config.RETRY_BASE_MS, maxMs: config.RETRY_MAX_MS },
  ...(config.DLQ_TOPIC ? { dlqTopic: config.DLQ_TOPIC } : {}),
  logger,
  http: { port: config.HTTP_PORT, host: config.HTTP_HOST },
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  consumer: { fromBeginning: true, sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS, rebalanceTimeoutMs: config.KAFKA_REBALANCE_TIMEOUT_MS },
});
installSignalHandlers(consumer, { logger });
