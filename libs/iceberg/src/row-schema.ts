/**
 * The row schema of the current-state tables, shared by the writer (apps/snapshotter) and every reader: column
 * ids, names, types, and how a Parquet row read back maps to a row.
 */
import type { Schema } from './metadata';

export type IcebergType = 'string' | 'long' | 'boolean' | 'timestamptz';

export interface ColumnSpec<N extends string = string> {
  /** Iceberg field id, written as the Parquet field_id (readers resolve columns by it). */
  id: number;
  name: N;
  type: IcebergType;
  required: boolean;
  doc?: string;
}

/** One row of a current-state table: the latest CDC `after` of an edge. */
export interface SnapshotRow {
  source: string;
  target: string;
  /** Multi-edge id (null for unique edges). */
  edge_id: string | null;
  active: boolean;
  /** LONGs: a number within ±(2^53 - 1), a bigint beyond (nanosecond stamps), written as Iceberg `long` (64-bit). */
  version: number | bigint;
  created_at: number | bigint | null;
  deleted_at: number | bigint | null;
  /** The core's commit sequence of the CDC record this row comes from (the row's version for merges). */
  seq: number;
  /** JSON object {name: value} of the edge's properties. */
  properties: string | null;
  /** processedAt of that CDC record, ms since epoch (stored as timestamptz, micros). */
  updated_at_ms: number;
}

export const SNAPSHOT_COLUMNS: ColumnSpec<keyof SnapshotRow>[] = [
  { id: 1, name: 'source', type: 'string', required: true, doc: 'edge source' },
  { id: 2, name: 'target', type: 'string', required: true, doc: 'edge target' },
  { id: 3, name: 'edge_id', type: 'string', required: false, doc: 'multi-edge id; null for unique edges' },
  { id: 4, name: 'active', type: 'boolean', required: true, doc: 'always true: deleted edges leave the table' },
  { id: 5, name: 'version', type: 'long', required: true, doc: 'edge version (client ordering stamp)' },
  { id: 6, name: 'created_at', type: 'long', required: false },
  { id: 7, name: 'deleted_at', type: 'long', required: false },
  { id: 8, name: 'seq', type: 'long', required: true, doc: 'core commit sequence of the CDC record' },
  { id: 9, name: 'properties', type: 'string', required: false, doc: 'JSON {name: value}' },
  { id: 10, name: 'updated_at_ms', type: 'timestamptz', required: true, doc: 'processedAt of the CDC record' },
];

/** Field ids of the tables' sort order: source, target, edge_id (data files are written in it). */
export const SNAPSHOT_SORT_FIELD_IDS = [1, 2, 3];

/** The Iceberg schema (id 0) of columns. */
export function icebergSchema(columns: readonly ColumnSpec[]): Schema {
  return {
    type: 'struct',
    'schema-id': 0,
    fields: columns.map((c) => ({ id: c.id, name: c.name, required: c.required, type: c.type, ...(c.doc ? { doc: c.doc } : {}) })),
  };
}

/** `schema.name-mapping.default`: lets engines that resolve Parquet columns by name find them too. */
export function nameMapping(columns: readonly ColumnSpec[]): string {
  return JSON.stringify(columns.map((c) => ({ 'field-id': c.id, names: [c.name] })));
}

/** The row identity: (source, target) for unique edges, the id for multi-edges. */
export function keyOfRow(r: SnapshotRow): string {
  return r.edge_id !== null ? `id:${r.edge_id}` : `st:${r.source}\u0000${r.target}`;
}

/** The table's sort order as one string key. */
export function sortKeyOfRow(r: SnapshotRow): string {
  return `${r.source}\u0000${r.target}\u0000${r.edge_id ?? ''}`;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A `long` read back: a number when exact as one, else the bigint (the project's canonical LONG). */
function longOf(v: unknown): number | bigint {
  if (typeof v !== 'bigint') return Number(v);
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** A row as hyparquet reads it back (longs as bigint, timestamptz as Date or micros) -> SnapshotRow. */
export function snapshotRowFromParquet(o: Record<string, unknown>): SnapshotRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : longOf(v));
  const ts = o['updated_at_ms'];
  return {
    source: String(o['source']),
    target: String(o['target']),
    edge_id: o['edge_id'] === null || o['edge_id'] === undefined ? null : String(o['edge_id']),
    active: Boolean(o['active']),
    version: longOf(o['version']),
    created_at: num(o['created_at']),
    deleted_at: num(o['deleted_at']),
    seq: Number(o['seq']),
    properties: o['properties'] === null || o['properties'] === undefined ? null : String(o['properties']),
    updated_at_ms: ts instanceof Date ? ts.getTime() : Number(ts) / 1000,
  };
}
