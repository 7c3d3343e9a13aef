/**
 * What one CDC record becomes: a current-state row (the `after` of its edge) and a change-log row.
 */
import { stringifyJson, type CdcRecord, type CdcState } from '@pipeline/events';
import type { ColumnSpec, SnapshotRow } from './parquet-file';

/** The Iceberg table a record belongs to: one per Actionbase (database, table). */
export function tableIdOf(r: CdcRecord): string {
  return `${r.context.database}.${r.context.table}`;
}

/** The edge identity: (source, target) for unique edges, the id for multi-edges. */
export function edgeKeyOf(r: CdcRecord): string | undefined {
  const s = r.after ?? r.before;
  if (s?.edgeId !== undefined) return `id:${String(s.edgeId)}`;
  if (s) return `st:${String(s.source)}\u0000${String(s.target)}`;
  const e = r.events[0];
  if (!e) return undefined;
  return e.edgeId !== undefined ? `id:${String(e.edgeId)}` : `st:${String(e.source)}\u0000${String(e.target)}`;
}

/** The row's version for merges: the core's commit sequence (v2 records have none: processedAt, later wins ties). */
export function orderOf(r: CdcRecord): number {
  return r.seq ?? r.processedAt;
}

export function rowOfState(s: CdcState, r: CdcRecord): SnapshotRow {
  const props: Record<string, unknown> = {};
  for (const [k, cell] of Object.entries(s.properties)) if (cell.value !== null && cell.value !== undefined) props[k] = cell.value;
  return {
    source: String(s.source),
    target: String(s.target),
    edge_id: s.edgeId === undefined ? null : String(s.edgeId),
    active: s.active,
    // LONGs beyond 2^53 stay bigints: the Parquet writer takes them as they are (Iceberg long is 64-bit).
    version: s.version,
    created_at: s.createdAt,
    deleted_at: s.deletedAt,
    seq: orderOf(r),
    properties: stringifyJson(props),
    updated_at_ms: r.processedAt,
  };
}

/**
 * The current-state row of a record: the `after` state when it is active, null when the edge is not active
 * (deleted, or stored inactive): such an edge leaves the table.
 */
export function currentRowOf(r: CdcRecord): SnapshotRow | null {
  if (!r.after || !r.after.active) return null;
  return rowOfState(r.after, r);
}

export interface ChangeLogRow {
  table: string;
  source: string;
  target: string;
  edge_id: string | null;
  status: string;
  accumulator: number;
  seq: number | null;
  event_ids: string;
  event_types: string;
  before: string | null;
  after: string | null;
  processed_at_ms: number;
  kafka_partition: number;
  kafka_offset: number;
}

export const CHANGELOG_COLUMNS: ColumnSpec<keyof ChangeLogRow>[] = [
  { id: 1, name: 'table', type: 'string', required: true, doc: 'database.table' },
  { id: 2, name: 'source', type: 'string', required: true },
  { id: 3, name: 'target', type: 'string', required: true },
  { id: 4, name: 'edge_id', type: 'string', required: false },
  { id: 5, name: 'status', type: 'string', required: true },
  { id: 6, name: 'accumulator', type: 'long', required: true },
  { id: 7, name: 'seq', type: 'long', required: false },
  { id: 8, name: 'event_ids', type: 'string', required: true, doc: 'JSON array of the merged event ids' },
  { id: 9, name: 'event_types', type: 'string', required: true, doc: 'JSON array of the merged event types' },
  { id: 10, name: 'before', type: 'string', required: false, doc: 'JSON of the state before' },
  { id: 11, name: 'after', type: 'string', required: false, doc: 'JSON of the state after' },
  { id: 12, name: 'processed_at_ms', type: 'timestamptz', required: true },
  { id: 13, name: 'kafka_partition', type: 'long', required: true },
  { id: 14, name: 'kafka_offset', type: 'long', required: true },
];

export function changeLogRowOf(r: CdcRecord, partition: number, offset: bigint): ChangeLogRow {
  const s = r.after ?? r.before;
  const e = r.events[0]!;
  return {
    table: tableIdOf(r),
    source: String(s?.source ?? e.source),
    target: String(s?.target ?? e.target),
    edge_id: s?.edgeId !== undefined ? String(s.edgeId) : e.edgeId !== undefined ? String(e.edgeId) : null,
    status: r.status,
    accumulator: r.accumulator,
    seq: r.seq ?? null,
    event_ids: JSON.stringify(r.events.map((x) => x.id)),
    event_types: JSON.stringify(r.events.map((x) => x.type)),
    before: r.before ? stringifyJson(r.before) : null,
    after: r.after ? stringifyJson(r.after) : null,
    processed_at_ms: r.processedAt,
    kafka_partition: partition,
    kafka_offset: Number(offset),
  };
}

/** Hive-style hour partition of a change-log row (UTC): `hour=2026-11-26-15`. */
export function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13).replace('T', '-');
}
