/**
 * A backfill: CDC records of [from, to) exported from the topic to NDJSON, a native batch spec built and
 * validated, the task submitted to the Overlord and awaited.
 */
import path from 'node:path';
import type { KafkaClient } from '@pipeline/kafka';
import type { Logger } from 'pino';
import { buildBackfillSpec, type BackfillSpec } from './backfill.spec-builder';
import { exportCdcRange, type ExportResult } from './cdc.export';
import { exportSnapshot, parseSnapshotPath, type SnapshotExportResult } from './snapshot.export';
import type { DruidClient } from '@pipeline/druid';
import { validateBatchSpec } from './spec.validation';
import type { DataSchemaOptions } from './supervisor.spec-builder';

export interface BackfillRequest extends DataSchemaOptions {
  topic: string;
  fromMs: number;
  toMs: number;
  /** Folder for the export; must be readable by Druid's indexer at the same path. */
  dir: string;
  replace: boolean;
  timeoutMs?: number;
}

export interface BackfillResult {
  taskId: string;
  export: ExportResult;
  spec: BackfillSpec;
  state: string;
}

export async function runBackfill(kafka: KafkaClient, druid: DruidClient, req: BackfillRequest, log?: Logger): Promise<BackfillResult> {
  if (!(req.fromMs < req.toMs)) throw new Error(`backfill range is empty: from ${new Date(req.fromMs).toISOString()} is not before to ${new Date(req.toMs).toISOString()}`);
  const baseDir = path.resolve(req.dir);
  const name = `${req.dataSource}-${req.fromMs}-${req.toMs}.json`;
  const exported = await exportCdcRange(kafka, { topic: req.topic, fromMs: req.fromMs, toMs: req.toMs, file: path.join(baseDir, name) });
  log?.info({ ...exported }, 'CDC range exported');
  const spec = validateBatchSpec(buildBackfillSpec({ ...req, baseDir, filter: name }));
  const { taskId, state } = await submitAndAwait(druid, spec, req.dataSource, req.timeoutMs, log);
  return { taskId, export: exported, spec, state };
}

async function submitAndAwait(druid: DruidClient, spec: BackfillSpec, dataSource: string, timeoutMs = 600_000, log?: Logger): Promise<{ taskId: string; state: string }> {
  const taskId = await druid.submitTask(spec);
  log?.info({ taskId, dataSource }, 'backfill task submitted');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await druid.taskStatus(taskId);
    if (s.state === 'SUCCESS') return { taskId, state: s.state };
    if (s.state === 'FAILED') throw new Error(`backfill task ${taskId} failed: ${s.error ?? 'no message'} (see the Overlord's task log)`);
    if (Date.now() > deadline) throw new Error(`backfill task ${taskId} still ${s.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

export interface SnapshotBackfillRequest extends DataSchemaOptions {
  /** `<warehouse>/<database>/<table>` of a snapshotter table. */
  table: string;
  /** A snapshot of that table (time travel); the current one when absent. */
  snapshotId?: number;
  dir: string;
  replace: boolean;
  timeoutMs?: number;
}

export interface SnapshotBackfillResult {
  taskId: string;
  export: SnapshotExportResult;
  spec: BackfillSpec;
  state: string;
}

/**
 * A backfill from the snapshotter's Iceberg table: every active edge of the snapshot as one fact row at the
 * snapshot's time (snapshot.export.ts), loaded with the same native batch spec as a CDC backfill.
 */
export async function runSnapshotBackfill(druid: DruidClient, req: SnapshotBackfillRequest, log?: Logger): Promise<SnapshotBackfillResult> {
  const at = parseSnapshotPath(req.table);
  const baseDir = path.resolve(req.dir);
  const name = `${req.dataSource}-snapshot-${at.database}-${at.table}-${req.snapshotId ?? 'current'}-${Date.now()}.json`;
  const exported = await exportSnapshot(at, path.join(baseDir, name), req.snapshotId);
  log?.info({ ...exported }, 'Iceberg snapshot exported');
  const ts = exported.snapshotTimestampMs;
  const spec = validateBatchSpec(buildBackfillSpec({ ...req, fromMs: ts, toMs: ts + 1, baseDir, filter: name }));
  const { taskId, state } = await submitAndAwait(druid, spec, req.dataSource, req.timeoutMs, log);
  return { taskId, export: exported, spec, state };
}
