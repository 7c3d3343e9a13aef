import type { DirectionType, IndexSpec } from '@pipeline/edge-model';

/** Types a source, target or property may have (docs/model.md, "Edges"). */
export const KEY_TYPES = ['STRING', 'LONG'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const FIELD_TYPES = ['LONG', 'INT', 'DOUBLE', 'STRING', 'BOOLEAN', 'JSON'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const MODES = ['SYNC', 'ASYNC', 'IGNORE'] as const;
export type MutationMode = (typeof MODES)[number];
export type TableKind = 'EDGE' | 'MULTI_EDGE';

/**
 * Actionbase's primitive types (v3 metadata, lowercase on the wire). The engine stores each as the
 * internal type that holds its values: byte/short as INT, float as DOUBLE, object as JSON.
 */
export const PRIMITIVE_TYPES = ['boolean', 'byte', 'short', 'int', 'long', 'float', 'double', 'string', 'object'] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

const FIELD_TYPE_OF: Record<PrimitiveType, FieldType> = {
  boolean: 'BOOLEAN',
  byte: 'INT',
  short: 'INT',
  int: 'INT',
  long: 'LONG',
  float: 'DOUBLE',
  double: 'DOUBLE',
  string: 'STRING',
  object: 'JSON',
};
export const fieldTypeOf = (p: PrimitiveType): FieldType => FIELD_TYPE_OF[p];

export const primitiveOf = (f: FieldDef): PrimitiveType =>
  f.primitive ?? ({ LONG: 'long', INT: 'int', DOUBLE: 'double', STRING: 'string', BOOLEAN: 'boolean', JSON: 'object' } as const)[f.type];

export interface FieldDef {
  name: string;
  type: FieldType;
  nullable: boolean;
  comment: string;
  /** The declared Actionbase type when it differs from `type` (byte, short, float). */
  primitive?: PrimitiveType;
}

/** Who changed a catalog entry and when, as Actionbase's descriptors report it. */
export interface Audit {
  revision: number;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

export interface DatabaseDef {
  name: string;
  comment: string;
  active: boolean;
  audit?: Audit;
}

/** An aggregation group (Actionbase `Group`): kept and reported; the embedded engine does not serve it yet. */
export interface GroupDef {
  group: string;
  type: 'SUM' | 'COUNT';
  fields: { name: string; bucket?: unknown }[];
  valueField: string;
  comment: string;
  directionType: DirectionType;
  ttl: number;
}

/** A precomputed sorted projection (Actionbase `Cache`): kept and reported; not served yet. */
export interface CacheDef {
  cache: string;
  fields: { field: string; order: 'ASC' | 'DESC' }[];
  limit: number;
  comment: string;
}

/** One edge collection: a v3 table, a v2 label. The single internal model behind both schema APIs. */
export interface TableDef {
  /**
   * Storage tablespace, assigned by the catalog and never reused: rows are keyed by it, not by the
   * names, so no two names can meet in storage and a recreated table starts empty.
   */
  tid: number;
  database: string;
  name: string;
  kind: TableKind;
  source: { type: KeyType; comment: string };
  target: { type: KeyType; comment: string };
  /** Multi-edges: the declared type of the id. */
  idField?: { type: PrimitiveType; comment: string };
  fields: FieldDef[];
  directionType: DirectionType;
  indexes: (IndexSpec & { comment?: string })[];
  groups?: GroupDef[];
  caches?: CacheDef[];
  mode: MutationMode;
  comment: string;
  /** Datastore URI (`datastore://<namespace>/<table>`); informative for the embedded engine. */
  storage: string;
  active: boolean;
  readOnly: boolean;
  event: boolean;
  audit?: Audit;
}

export interface AliasDef {
  database: string;
  name: string;
  /** Target table within the same database. */
  table: string;
  comment: string;
  active: boolean;
  audit?: Audit;
}

export const qualified = (database: string, name: string): string => `${database}.${name}`;
