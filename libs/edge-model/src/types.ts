/**
 * Types of the edge model (docs/model.md, "State kept per edge" and "The transition").
 * Versions are client-supplied ordering stamps (ms or ns since the epoch): 64-bit integers (Version).
 */

/**
 * A 64-bit integer as the project holds LONG values: a JS number within ±(2^53 - 1), a bigint beyond it
 * (nanosecond stamps are about 1.7e18). Always in that canonical form, so that `===` compares values;
 * `<`, `>` and friends compare numbers and bigints exactly across the two kinds.
 */
export type Version = number | bigint;

/** An edge endpoint or multi-edge id: a string, or a LONG (canonical as Version). */
export type Endpoint = string | number | bigint;

export type MutationType = 'INSERT' | 'UPDATE' | 'DELETE';

/** Per-property cell: last-write-wins by version. `value === null` means unset or deleted at `version`. */
export interface PropertyCell {
  value: unknown;
  version: Version;
}

/** Stored state of one edge (a unique edge or one multi-edge). Deletes are soft: the row stays. */
export interface EdgeState {
  active: boolean;
  version: Version;
  createdAt: Version | null;
  deletedAt: Version | null;
  properties: Record<string, PropertyCell>;
}

/** One event as applied by the transition; properties are already cast to the schema types. */
export interface EdgeEvent {
  id: string;
  type: MutationType;
  version: Version;
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
  source: Endpoint;
  target: Endpoint;
}

/** What derived data (indexes, counts) needs to know of a table (docs/model.md, "Status and derived data"). */
export interface TableShape {
  kind: 'EDGE' | 'MULTI_EDGE';
  directionType: DirectionType;
  indexes: readonly IndexSpec[];
  fields: readonly FieldSpec[];
}

/** How an edge is addressed: (source, target) for unique edges, `id` for multi-edges (docs/model.md, "Edges"). */
export type EdgeKey = { source: Endpoint; target: Endpoint } | { id: Endpoint };

/** One index row: an active edge listed under `start` (source for OUT, target for IN). */
export interface IndexEntry {
  index: string;
  direction: Direction;
  start: Endpoint;
  /** The index fields' values in index order, null when unset. */
  values: unknown[];
  source: Endpoint;
  target: Endpoint;
  /** Multi-edges only. */
  id?: Endpoint;
}

/** A change of the number of active edges under `start` in `direction`. */
export interface CountDelta {
  direction: Direction;
  start: Endpoint;
  delta: number;
}
