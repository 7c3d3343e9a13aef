import type { DirectionType, IndexSpec } from '@pipeline/edge-model';

/** Types a source, target or property may have (domain.md, "Edges"). */
export const KEY_TYPES = ['STRING', 'LONG'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const FIELD_TYPES = ['LONG', 'INT', 'DOUBLE', 'STRING', 'BOOLEAN', 'JSON'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const MODES = ['SYNC', 'ASYNC', 'IGNORE'] as const;
export type MutationMode = (typeof MODES)[number];
export type TableKind = 'EDGE' | 'MULTI_EDGE';

export interface FieldDef {
  name: string;
  type: FieldType;
  nullable: boolean;
  comment: string;
}

export interface DatabaseDef {
  name: string;
  comment: string;
  active: boolean;
}

/** One edge collection: a v3 table, a v2 label. The single internal model behind both schema APIs. */
export interface TableDef {
  database: string;
  name: string;
  kind: TableKind;
  source: { type: KeyType; comment: string };
  target: { type: KeyType; comment: string };
  fields: FieldDef[];
  directionType: DirectionType;
  indexes: (IndexSpec & { comment?: string })[];
  mode: MutationMode;
  comment: string;
  /** v2 `storage` (datastore URI); informative for the embedded engine. */
  storage: string;
  active: boolean;
  readOnly: boolean;
  event: boolean;
}

export interface AliasDef {
  database: string;
  name: string;
  /** Target table within the same database. */
  table: string;
  comment: string;
  active: boolean;
}

export const qualified = (database: string, name: string): string => `${database}.${name}`;
