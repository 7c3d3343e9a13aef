import type { CountDelta, Direction, EdgeState, Endpoint } from '@pipeline/edge-model';
import { parseJson, stringifyJson } from '@pipeline/events';
import type { AliasDef, DatabaseDef, TableDef } from '../catalog/model';
import type { QueueStore } from './queue-store';

/**
 * The storage interface of the core. The embedded SQLite engine implements it; a distributed engine
 * (HBase, SlateDB...) can implement the same contract: read a set of keys, let the caller compute the
 * writes, apply state + index + counts + outbox atomically.
 */

/** Storage key of an edge within its table: [source, target] for unique edges, the id for multi-edges. */
export type EdgeStorageKey = string;

export interface EdgeRow {
  key: EdgeStorageKey;
  source: Endpoint;
  target: Endpoint;
  id?: Endpoint;
  state: EdgeState;
}

/** An index row as stored: the entry's values already encoded by the caller (see libs/edge-model sort-key.ts). */
export interface IndexRowWrite {
  index: string;
  direction: Direction;
  start: Endpoint;
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
  start: Endpoint;
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

export interface RelayLease {
  lost: Promise<void>;
  release(): Promise<void>;
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

/**
 * Every method that reaches storage returns a promise: the embedded SQLite store answers at once
 * (resolved promises), a networked store (PostgreSQL) does I/O. Callers await once per call, never per
 * row, so the embedded store keeps its speed.
 */
export interface EdgeStore {
  /** Which engine: `sqlite` or `postgres` (logs, health details). */
  readonly kind: string;
  loadCatalog(): Promise<CatalogSnapshot>;
  saveDatabase(db: DatabaseDef): Promise<void>;
  deleteDatabase(name: string): Promise<void>;
  saveTable(table: TableDef): Promise<void>;
  deleteTable(database: string, name: string): Promise<void>;
  saveAlias(alias: AliasDef): Promise<void>;
  deleteAlias(database: string, name: string): Promise<void>;
  /** A new tablespace number, never handed out before (persisted). */
  allocateTableId(): Promise<number>;
  /**
   * Runs `fn` as one atomic unit (catalog changes with the index rows they imply). `fn` must do its
   * storage work through `tx`, the store bound to that unit; other callers wait for it or do not see it.
   */
  atomically<T>(fn: (tx: EdgeStore) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while no other instance sharing the store changes the catalog (checks and writes of one catalog
   * change then see every change committed before it); a store of one process only runs it.
   */
  exclusively<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Calls `listener` when another instance sharing this storage changed the catalog. A store that only
   * one process can open (SQLite) never calls it.
   */
  onCatalogChange(listener: () => void): void;

  /** Whether a tablespace holds any edge row (live or tombstone). */
  hasRows(table: string): Promise<boolean>;
  /** Rows of a tablespace, counted up to `cap` (a bound on the work of the check). */
  countRows(table: string, cap: number): Promise<number>;
  dropIndex(table: string, index: string): Promise<void>;
  addIndexRows(table: string, rows: IndexRowAdd[]): Promise<void>;
  /** Queues a dropped tablespace for removal; `purgeSome` removes it in bounded slices. */
  schedulePurge(table: string): Promise<void>;
  pendingPurges(): Promise<string[]>;
  /** Deletes up to `limit` rows of a queued tablespace; returns how many were deleted (0: done, dequeued). */
  purgeSome(table: string, limit: number): Promise<number>;
  isOpen(): boolean;

  /**
   * Reads the current rows of `keys`, hands them to `compute`, and writes what it returns (state,
   * index rows, counts and CDC outbox records) in one atomic unit. The caller holds the in-process key
   * locks; a store shared by several processes also serializes the keys across them for the unit.
   * `readUnderLocks`: the rows of `keys` as the caller read them while holding those locks. A store that
   * no other process writes (SQLite) may hand these to `compute` instead of reading them again, since the
   * locks kept every other writer of the keys out; a shared store reads them in the unit.
   */
  applyMutations(
    table: string,
    keys: EdgeStorageKey[],
    compute: (before: Map<EdgeStorageKey, EdgeRow>) => KeyWrite[],
    readUnderLocks?: Map<EdgeStorageKey, EdgeRow>,
  ): Promise<number[]>;

  getRows(table: string, keys: EdgeStorageKey[]): Promise<Map<EdgeStorageKey, EdgeRow>>;
  scanIndex(scan: IndexScan): Promise<IndexHit[]>;
  count(table: string, direction: Direction, start: Endpoint): Promise<number>;
  /** Counts of several starts in one call. */
  counts(table: string, direction: Direction, starts: (Endpoint)[]): Promise<number[]>;
  /** Every stored row of a table, in key order, page by page (consistency checks, exports). */
  scanRows(table: string, afterKey: EdgeStorageKey | null, limit: number): Promise<EdgeRow[]>;

  /**
   * The right to relay the outbox, held by one instance among those sharing the store; null when
   * another holds it. `lost` settles when the right is gone (the connection holding it died).
   */
  tryLeadRelay(): Promise<RelayLease | null>;
  readOutbox(afterSeq: number, limit: number): Promise<OutboxRow[]>;
  deleteOutbox(uptoSeq: number): Promise<void>;
  outboxSize(): Promise<number>;
  close(): Promise<void>;
  /** queue/v1 storage (queue-store.ts) in the same database; a deleted queue's messages go by `purgeSome`. */
  queues(): QueueStore;
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

/**
 * The JSON text both SQL stores keep endpoints, ids, count starts and states in. LONGs beyond 2^53 (bigint) are
 * written as bare integers and read back exactly (libs/events json.ts), so a 64-bit key, property or version
 * is stored as it came; both kinds of LONG have one canonical form, so one value always has one text (a
 * storage key, a count row).
 */
export const toJsonText: (v: unknown) => string = stringifyJson;

/** An edge row as both SQL stores keep it: endpoints, id and state as JSON text (typed values survive). */
export interface RawRow {
  ekey: string;
  source: string;
  target: string;
  eid: string | null;
  state: string;
}

export function toRow(r: RawRow): EdgeRow {
  const row: EdgeRow = {
    key: r.ekey,
    source: parseJson(r.source) as Endpoint,
    target: parseJson(r.target) as Endpoint,
    state: parseJson(r.state) as EdgeState,
  };
  if (r.eid !== null) row.id = parseJson(r.eid) as Endpoint;
  return row;
}
