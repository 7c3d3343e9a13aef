import type { CountDelta, Direction, EdgeState } from '@pipeline/edge-model';
import type { AliasDef, DatabaseDef, TableDef } from '../catalog/model';

/**
 * The storage interface of the core. The embedded SQLite engine implements it; a distributed engine
 * (HBase, SlateDB...) can implement the same contract: read a set of keys, let the caller compute the
 * writes, apply state + index + counts + outbox atomically.
 */

/** Storage key of an edge within its table: [source, target] for unique edges, the id for multi-edges. */
export type EdgeStorageKey = string;

export interface EdgeRow {
  key: EdgeStorageKey;
  source: string | number;
  target: string | number;
  id?: string | number;
  state: EdgeState;
}

/** An index row as stored: the entry's values already encoded by the caller (see sort-key.ts). */
export interface IndexRowWrite {
  index: string;
  direction: Direction;
  start: string | number;
  sortKey: Buffer;
}

export interface KeyWrite {
  /** The new row; null when there is still no state (every event of a new key was rejected). */
  row: EdgeRow | null;
  counts: CountDelta[];
  removeIndex: IndexRowWrite[];
  addIndex: IndexRowWrite[];
  /** CDC record to relay, built once the commit sequence is known. Absent when nothing is to be sent. */
  cdc?: { kafkaKey: string; build: (seq: number) => string };
}

export interface OutboxRow {
  seq: number;
  key: string;
  value: string;
}

export interface IndexScan {
  table: string;
  index: string;
  direction: Direction;
  start: string | number;
  /** Inclusive lower and exclusive upper bounds on the encoded sort key. */
  lower?: Buffer;
  upper?: Buffer;
  /** Resume strictly after this position (the opaque cursor). */
  after?: { sortKey: Buffer; key: EdgeStorageKey };
  limit: number;
}

export interface IndexHit {
  sortKey: Buffer;
  key: EdgeStorageKey;
  row: EdgeRow;
}

export interface CatalogSnapshot {
  databases: DatabaseDef[];
  tables: TableDef[];
  aliases: AliasDef[];
}

/** An index row to add to a tablespace, with the storage key of the edge it lists. */
export interface IndexRowAdd extends IndexRowWrite {
  key: EdgeStorageKey;
}

/**
 * A table as the engine names it to the store: `<db>.<table>#<tablespace>`. The store keys rows by the
 * tablespace alone (a number the catalog never hands out twice); the name part only makes the engine's
 * messages readable. A bare tablespace is a handle too.
 */
export const tableHandle = (name: string, tablespace: number): string => `${name}#${tablespace}`;
export const tablespaceOf = (handle: string): string => handle.slice(handle.lastIndexOf('#') + 1);

export interface EdgeStore {
  loadCatalog(): CatalogSnapshot;
  saveDatabase(db: DatabaseDef): void;
  deleteDatabase(name: string): void;
  saveTable(table: TableDef): void;
  deleteTable(database: string, name: string): void;
  saveAlias(alias: AliasDef): void;
  deleteAlias(database: string, name: string): void;
  /** A new tablespace number, never handed out before (persisted). */
  allocateTableId(): number;
  /** Runs `fn` as one atomic unit (catalog changes with the index rows they imply). */
  atomically<T>(fn: () => T): T;

  /** Whether a tablespace holds any edge row (live or tombstone). */
  hasRows(table: string): boolean;
  /** Rows of a tablespace, counted up to `cap` (a bound on the work of the check). */
  countRows(table: string, cap: number): number;
  dropIndex(table: string, index: string): void;
  addIndexRows(table: string, rows: IndexRowAdd[]): void;
  /** Queues a dropped tablespace for removal; `purgeSome` removes it in bounded slices. */
  schedulePurge(table: string): void;
  pendingPurges(): string[];
  /** Deletes up to `limit` rows of a queued tablespace; returns how many were deleted (0: done, dequeued). */
  purgeSome(table: string, limit: number): number;
  isOpen(): boolean;

  /**
   * Reads the current rows of `keys`, hands them to `compute`, and writes what it returns (state,
   * index rows, counts and CDC outbox records) in one atomic unit. The caller holds the key locks.
   */
  applyMutations(table: string, keys: EdgeStorageKey[], compute: (before: Map<EdgeStorageKey, EdgeRow>) => KeyWrite[]): number[];

  getRows(table: string, keys: EdgeStorageKey[]): Map<EdgeStorageKey, EdgeRow>;
  scanIndex(scan: IndexScan): IndexHit[];
  count(table: string, direction: Direction, start: string | number): number;
  /** Every stored row of a table, in key order, page by page (consistency checks, exports). */
  scanRows(table: string, afterKey: EdgeStorageKey | null, limit: number): EdgeRow[];

  readOutbox(afterSeq: number, limit: number): OutboxRow[];
  deleteOutbox(uptoSeq: number): void;
  outboxSize(): number;
  close(): void;
}

/**
 * Ticks of the CDC sequence per wall-clock millisecond. The sequence is a hybrid clock:
 * `max(previous + 1, now_ms × SEQ_TICKS_PER_MS)`. Sinks version on `seq`, so a core rebuilt from the
 * WAL (or a second store taking over) must never hand out a number an earlier core already used: its
 * first number is seeded from the clock, above everything a core could have issued before it unless
 * that core sustained more than 2,048 commits per millisecond. 2,048 keeps the value below 2^53 (exact
 * in a JS number and in JSON) until the year 2109.
 */
export const SEQ_TICKS_PER_MS = 2048;

export function nextSeq(previous: number, nowMs: number = Date.now()): number {
  return Math.max(previous + 1, nowMs * SEQ_TICKS_PER_MS);
}
