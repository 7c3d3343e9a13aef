/**
 * Types of the edge model (docs/model.md, "State kept per edge" and "The transition").
 * Versions are client-supplied ordering stamps (ms or ns since the epoch) and must be safe integers.
 */

export type MutationType = 'INSERT' | 'UPDATE' | 'DELETE';

/** Per-property cell: last-write-wins by version. `value === null` means unset or deleted at `version`. */
export interface PropertyCell {
  value: unknown;
  version: number;
}

/** Stored state of one edge (a unique edge or one multi-edge). Deletes are soft: the row stays. */
export interface EdgeState {
  active: boolean;
  version: number;
  createdAt: number | null;
  deletedAt: number | null;
  properties: Record<string, PropertyCell>;
}

/** One event as applied by the transition; properties are already cast to the schema types. */
export interface EdgeEvent {
  id: string;
  type: MutationType;
  version: number;
  /** Only fields of the schema. For UPDATE, a present key with value null unsets the field. */
  properties: Record<string, unknown>;
}

export interface FieldSpec {
  name: string;
  nullable: boolean;
}

/** What the transition needs to know of a table schema. */
export interface TransitionSchema {
  fields: readonly FieldSpec[];
}

export type ChangeStatus = 'CREATED' | 'DELETED' | 'UPDATED' | 'IDLE';

export type Direction = 'OUT' | 'IN';
export type DirectionType = 'BOTH' | 'OUT' | 'IN';

export interface IndexSpec {
  name: string;
  fields: readonly { name: string; order: 'ASC' | 'DESC' }[];
}

/** The (source, target) an edge counts and indexes under. For multi-edges, from `_source`/`_target`. */
export interface EdgeEndpoints {
  source: string | number;
  target: string | number;
}

/** What derived data (indexes, counts) needs to know of a table (docs/model.md, "Status and derived data"). */
export interface TableShape {
  kind: 'EDGE' | 'MULTI_EDGE';
  directionType: DirectionType;
  indexes: readonly IndexSpec[];
  fields: readonly FieldSpec[];
}

/** How an edge is addressed: (source, target) for unique edges, `id` for multi-edges (docs/model.md, "Edges"). */
export type EdgeKey = { source: string | number; target: string | number } | { id: string | number };

/** One index row: an active edge listed under `start` (source for OUT, target for IN). */
export interface IndexEntry {
  index: string;
  direction: Direction;
  start: string | number;
  /** The index fields' values in index order, null when unset. */
  values: unknown[];
  source: string | number;
  target: string | number;
  /** Multi-edges only. */
  id?: string | number;
}

/** A change of the number of active edges under `start` in `direction`. */
export interface CountDelta {
  direction: Direction;
  start: string | number;
  delta: number;
}
