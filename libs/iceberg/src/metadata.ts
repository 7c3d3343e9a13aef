/**
 * Iceberg v2 table metadata (spec "Table Metadata"): types, exact JSON (64-bit snapshot ids as bigint), a new
 * table's metadata, and a pure `applyUpdates` in the shape of the REST catalog's table updates, so every writer
 * (snapshotter commits, maintenance commands) changes metadata the same way and a commit is "base + updates".
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PipelineError } from '@pipeline/errors';
import { isSafeNumber, parse, stringify } from 'lossless-json';

/** A snapshot id: a 64-bit integer (Iceberg Java makes 63-bit ids), never a JS number that may round. */
export type SnapshotId = bigint;

export interface SnapshotRef {
  'snapshot-id': SnapshotId;
  type: 'branch' | 'tag';
  'max-ref-age-ms'?: number;
  'max-snapshot-age-ms'?: number;
  'min-snapshots-to-keep'?: number;
}

export interface Snapshot {
  'snapshot-id': SnapshotId;
  'parent-snapshot-id'?: SnapshotId;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: string };
  'schema-id'?: number;
}

export interface SchemaField {
  id: number;
  name: string;
  required: boolean;
  type: string;
  doc?: string;
}

export interface Schema {
  type: 'struct';
  'schema-id': number;
  fields: SchemaField[];
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: Schema[];
  'default-spec-id': number;
  'partition-specs': { 'spec-id': number; fields: unknown[] }[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': { 'order-id': number; fields: unknown[] }[];
  properties: Record<string, string>;
  'current-snapshot-id': SnapshotId | null;
  refs: Record<string, SnapshotRef>;
  snapshots: Snapshot[];
  'snapshot-log': { 'snapshot-id': SnapshotId; 'timestamp-ms': number }[];
  'metadata-log': { 'metadata-file': string; 'timestamp-ms': number }[];
  statistics?: unknown[];
  'partition-statistics'?: unknown[];
}

/**
 * A random positive id: 63 bits as Iceberg Java makes them, or 53 bits (`bits: 53`) for a writer whose ids must
 * also stay exact in JSON consumers that hold numbers as doubles (jq, JavaScript, Druid specs).
 */
export function newSnapshotId(bits: 53 | 63 = 63): SnapshotId {
  return randomBytes(8).readBigUInt64BE() >> BigInt(64 - bits) || 1n;
}

/** A snapshot id from a CLI argument, a JSON value or a bigint; throws on anything that is not a 64-bit integer. */
export function toSnapshotId(v: bigint | number | string): SnapshotId {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`snapshot id ${v} is not exact as a number; pass it as a string or bigint`);
    return BigInt(v);
  }
  if (!/^-?\d+$/.test(v)) throw new Error(`snapshot id must be an integer, got "${v}"`);
  return BigInt(v);
}

const asId = (v: unknown): SnapshotId => toSnapshotId(v as bigint | number | string);

/**
 * Parses metadata JSON exactly: integers beyond 2^53 become bigint (JSON.parse would round them), and every
 * snapshot id is a bigint whatever its size.
 */
export function parseMetadata(text: string): TableMetadata {
  const m = parse(text, undefined, (s) => (isSafeNumber(s) ? Number(s) : /^-?\d+$/.test(s) ? BigInt(s) : Number(s))) as TableMetadata;
  if (m['format-version'] !== 2) throw new Error(`only Iceberg format version 2 is supported, got ${String(m['format-version'])}`);
  m['current-snapshot-id'] = m['current-snapshot-id'] === null || m['current-snapshot-id'] === undefined || asId(m['current-snapshot-id']) === -1n ? null : asId(m['current-snapshot-id']);
  m.snapshots = (m.snapshots ?? []).map((s) => {
    const { 'parent-snapshot-id': parent, ...rest } = s;
    return { ...rest, 'snapshot-id': asId(s['snapshot-id']), ...(parent !== undefined && parent !== null ? { 'parent-snapshot-id': asId(parent) } : {}) };
  });
  m.refs = Object.fromEntries(Object.entries(m.refs ?? {}).map(([k, r]) => [k, { ...r, 'snapshot-id': asId(r['snapshot-id']) }]));
  m['snapshot-log'] = (m['snapshot-log'] ?? []).map((e) => ({ ...e, 'snapshot-id': asId(e['snapshot-id']) }));
  m['metadata-log'] = m['metadata-log'] ?? [];
  m.properties = m.properties ?? {};
  return m;
}

/** Metadata JSON with snapshot ids as exact JSON integers. */
export function stringifyMetadata(m: TableMetadata): string {
  const out = stringify(m, undefined, 1);
  if (out === undefined) throw new Error('table metadata did not serialize');
  return out;
}

export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  const id = m['current-snapshot-id'];
  return id === null ? undefined : m.snapshots.find((s) => s['snapshot-id'] === id);
}

export function snapshotById(m: TableMetadata, id: SnapshotId): Snapshot | undefined {
  return m.snapshots.find((s) => s['snapshot-id'] === id);
}

export interface NewTableOptions {
  location: string;
  schema: Schema;
  /** Field ids of the default sort order (ascending, nulls first); empty: unsorted. */
  sortFieldIds?: number[];
  properties?: Record<string, string>;
  now?: number;
}

/** Metadata of a new, empty, unpartitioned table. */
export function newTableMetadata(o: NewTableOptions): TableMetadata {
  const now = o.now ?? Date.now();
  const sorted = (o.sortFieldIds ?? []).length > 0;
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: o.location,
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': Math.max(0, ...o.schema.fields.map((f) => f.id)),
    'current-schema-id': o.schema['schema-id'],
    schemas: [o.schema],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [] }],
    'last-partition-id': 999,
    'default-sort-order-id': sorted ? 1 : 0,
    'sort-orders': [
      { 'order-id': 0, fields: [] },
      ...(sorted
        ? [{ 'order-id': 1, fields: o.sortFieldIds!.map((id) => ({ transform: 'identity', 'source-id': id, direction: 'asc', 'null-order': 'nulls-first' })) }]
        : []),
    ],
    properties: { ...o.properties },
    'current-snapshot-id': null,
    refs: {},
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
  };
}

/** Table updates, named and shaped as in the Iceberg REST catalog spec (the subset our writers use). */
export type TableUpdate =
  | { action: 'add-snapshot'; snapshot: Snapshot }
  | { action: 'set-snapshot-ref'; 'ref-name': string; type: 'branch' | 'tag'; 'snapshot-id': SnapshotId }
  | { action: 'remove-snapshot-ref'; 'ref-name': string }
  | { action: 'remove-snapshots'; 'snapshot-ids': SnapshotId[] }
  | { action: 'set-properties'; updates: Record<string, string> }
  | { action: 'remove-properties'; removals: string[] };

/** An update the spec forbids on this metadata: the same update fails the same way again. */
export class InvalidUpdateError extends PipelineError {
  override readonly name = 'InvalidUpdateError';
  override readonly code = 'ICEBERG_INVALID_UPDATE' as const;
  override readonly retryable = false as const;
  constructor(message: string) {
    super('ICEBERG_INVALID_UPDATE', message, { retryable: false });
  }
}

/**
 * The metadata after the updates, as a new object (the input is not changed). `now` stamps last-updated-ms and
 * the snapshot log of a main-branch change. Rules of the spec it enforces: a new snapshot's sequence number is
 * above the table's, a ref names an existing snapshot, a snapshot a ref points at cannot be removed, and the
 * snapshot log only names snapshots that still exist.
 */
export function applyUpdates(base: TableMetadata, updates: readonly TableUpdate[], now = Date.now()): TableMetadata {
  const m = structuredClone(base);
  for (const u of updates) {
    switch (u.action) {
      case 'add-snapshot': {
        const s = u.snapshot;
        if (snapshotById(m, s['snapshot-id'])) throw new InvalidUpdateError(`snapshot ${s['snapshot-id']} already exists`);
        if (s['sequence-number'] <= m['last-sequence-number'] && m.snapshots.length > 0) {
          throw new InvalidUpdateError(`snapshot sequence number ${s['sequence-number']} is not above the table's ${m['last-sequence-number']}`);
        }
        m.snapshots.push(structuredClone(s));
        m['last-sequence-number'] = Math.max(m['last-sequence-number'], s['sequence-number']);
        break;
      }
      case 'set-snapshot-ref': {
        const s = snapshotById(m, u['snapshot-id']);
        if (!s) throw new InvalidUpdateError(`ref ${u['ref-name']} cannot point at snapshot ${u['snapshot-id']}: the table has no such snapshot`);
        m.refs[u['ref-name']] = { ...m.refs[u['ref-name']], 'snapshot-id': u['snapshot-id'], type: u.type };
        if (u['ref-name'] === 'main') {
          m['current-snapshot-id'] = u['snapshot-id'];
          m['snapshot-log'].push({ 'snapshot-id': u['snapshot-id'], 'timestamp-ms': now });
        }
        break;
      }
      case 'remove-snapshot-ref': {
        delete m.refs[u['ref-name']];
        if (u['ref-name'] === 'main') m['current-snapshot-id'] = null;
        break;
      }
      case 'remove-snapshots': {
        const gone = new Set(u['snapshot-ids']);
        for (const [name, r] of Object.entries(m.refs)) {
          if (gone.has(r['snapshot-id'])) throw new InvalidUpdateError(`snapshot ${r['snapshot-id']} cannot be removed: ref ${name} points at it`);
        }
        m.snapshots = m.snapshots.filter((s) => !gone.has(s['snapshot-id']));
        // The log must only name live snapshots: drop its entries up to the last removed one (as Iceberg Java).
        const lastGone = m['snapshot-log'].reduce((acc, e, i) => (gone.has(e['snapshot-id']) || !snapshotById(m, e['snapshot-id']) ? i : acc), -1);
        m['snapshot-log'] = m['snapshot-log'].slice(lastGone + 1);
        break;
      }
      case 'set-properties':
        m.properties = { ...m.properties, ...u.updates };
        break;
      case 'remove-properties':
        for (const k of u.removals) delete m.properties[k];
        break;
    }
  }
  m['last-updated-ms'] = Math.max(now, base['last-updated-ms']);
  return m;
}

export interface RetentionPolicy {
  /** Snapshots older than this are expired (the current one and any a ref names never are). */
  maxSnapshotAgeMs: number;
  /** At least this many of the newest snapshots are kept whatever their age. */
  minSnapshotsToKeep: number;
  /** Older metadata files beyond this many are deleted. */
  maxMetadataFiles: number;
}

/** The snapshots a retention policy expires (pure): old ones beyond the newest `minSnapshotsToKeep`, never a ref's. */
export function snapshotsToExpire(m: TableMetadata, policy: Pick<RetentionPolicy, 'maxSnapshotAgeMs' | 'minSnapshotsToKeep'>, now = Date.now()): SnapshotId[] {
  const refd = new Set(Object.values(m.refs).map((r) => r['snapshot-id']));
  if (m['current-snapshot-id'] !== null) refd.add(m['current-snapshot-id']);
  const newestFirst = [...m.snapshots].sort((a, b) => b['sequence-number'] - a['sequence-number'] || b['timestamp-ms'] - a['timestamp-ms']);
  return newestFirst
    .filter((s, i) => i >= policy.minSnapshotsToKeep && now - s['timestamp-ms'] > policy.maxSnapshotAgeMs && !refd.has(s['snapshot-id']))
    .map((s) => s['snapshot-id']);
}
