/**
 * The current-state Iceberg tables, one per Actionbase table, and the commit of staged changes into them.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { IcebergTable, type CommitResult, type CompactionPolicy, type RetentionPolicy } from './iceberg-table';
import { SNAPSHOT_COLUMNS, type SnapshotRow } from './parquet-file';
import type { Offsets, PendingChange } from './staging-store';

/** Snapshot summary property holding the consumed offsets (`topic:partition` -> next offset) the snapshot covers. */
export const OFFSETS_PROPERTY = 'snapshotter.offsets';

export type CommitStep = 'data-written' | 'manifests-written' | 'metadata-linked';

export interface SnapshotTablesOptions {
  warehouseDir: string;
  targetFileRows: number;
  compaction: CompactionPolicy;
  retention: RetentionPolicy;
  commitRetries: number;
  /** Written into every snapshot summary: which instance committed it. */
  writerId: string;
  onStep?: (table: string, step: CommitStep) => void | Promise<void>;
}

export function keyOfRow(r: SnapshotRow): string {
  return r.edge_id !== null ? `id:${r.edge_id}` : `st:${r.source}\u0000${r.target}`;
}

function fromParquet(o: Record<string, unknown>): SnapshotRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const ts = o['updated_at_ms'];
  return {
    source: String(o['source']),
    target: String(o['target']),
    edge_id: o['edge_id'] === null || o['edge_id'] === undefined ? null : String(o['edge_id']),
    active: Boolean(o['active']),
    version: Number(o['version']),
    created_at: num(o['created_at']),
    deleted_at: num(o['deleted_at']),
    seq: Number(o['seq']),
    properties: o['properties'] === null || o['properties'] === undefined ? null : String(o['properties']),
    updated_at_ms: ts instanceof Date ? ts.getTime() : Number(ts) / 1000,
  };
}

export function parseOffsets(summary: Record<string, string> | undefined): Offsets {
  const raw = summary?.[OFFSETS_PROPERTY];
  if (!raw) return {};
  return JSON.parse(raw) as Offsets;
}

function mergeOffsets(a: Offsets, b: Offsets): Offsets {
  const out: Offsets = { ...a };
  for (const [tp, n] of Object.entries(b)) out[tp] = Math.max(out[tp] ?? 0, n);
  return out;
}

/** Actionbase `database.table` -> `<warehouse>/<database>/<table>`. */
export function tableLocation(warehouseDir: string, table: string): string {
  const dot = table.indexOf('.');
  const db = table.slice(0, dot);
  const name = table.slice(dot + 1);
  return path.resolve(warehouseDir, encodeURIComponent(db), encodeURIComponent(name));
}

export class SnapshotTables {
  private readonly tables = new Map<string, IcebergTable<SnapshotRow>>();

  constructor(private readonly opts: SnapshotTablesOptions) {}

  table(name: string): IcebergTable<SnapshotRow> {
    let t = this.tables.get(name);
    if (!t) {
      t = new IcebergTable<SnapshotRow>(tableLocation(this.opts.warehouseDir, name), SNAPSHOT_COLUMNS, {
        targetFileRows: this.opts.targetFileRows,
        compaction: this.opts.compaction,
        retention: this.opts.retention,
        sortFieldIds: [1, 2, 3],
        fromParquet,
        properties: {
          'actionbase.table': name,
          'write.format.default': 'parquet',
          'write.parquet.compression-codec': 'snappy',
          'write.metadata.previous-versions-max': String(this.opts.retention.maxMetadataFiles),
          'history.expire.max-snapshot-age-ms': String(this.opts.retention.maxSnapshotAgeMs),
          'history.expire.min-snapshots-to-keep': String(this.opts.retention.minSnapshotsToKeep),
          // Parquet files carry field ids; the mapping lets engines that prefer names resolve them too.
          'schema.name-mapping.default': JSON.stringify(SNAPSHOT_COLUMNS.map((c) => ({ 'field-id': c.id, names: [c.name] }))),
        },
        onStep: this.opts.onStep ? (step) => this.opts.onStep!(name, step) : undefined,
      });
      this.tables.set(name, t);
    }
    return t;
  }

  /** The Actionbase tables (`database.table`) that have a table folder in the warehouse. */
  async existing(): Promise<string[]> {
    const out: string[] = [];
    const dbs = await readdir(this.opts.warehouseDir, { withFileTypes: true }).catch(() => []);
    for (const db of dbs) {
      if (!db.isDirectory() || db.name.startsWith('_')) continue;
      for (const t of await readdir(path.join(this.opts.warehouseDir, db.name), { withFileTypes: true })) {
        if (t.isDirectory()) out.push(`${decodeURIComponent(db.name)}.${decodeURIComponent(t.name)}`);
      }
    }
    return out;
  }

  /** The offsets the table's current snapshot covers (what a restart skips). */
  async committedOffsets(name: string): Promise<Offsets> {
    const t = this.table(name);
    return parseOffsets(t.currentSnapshot(await t.loadLatest())?.summary);
  }

  /**
   * Commits staged changes on top of the table's current snapshot (whoever wrote it): per edge the higher seq
   * wins, an inactive edge leaves the table, and the offsets are the maximum of both.
   */
  async commit(name: string, changes: PendingChange[], offsets: Offsets): Promise<CommitResult | null> {
    const t = this.table(name);
    return t.commit(
      {
        changes: new Map(changes.map((c) => [c.key, { ord: c.ord, row: c.row }])),
        keyOf: keyOfRow,
        ordOf: (r) => r.seq,
        sortKey: (r) => `${r.source}\u0000${r.target}\u0000${r.edge_id ?? ''}`,
        summary: (current) => ({
          [OFFSETS_PROPERTY]: JSON.stringify(mergeOffsets(parseOffsets(current), offsets)),
          'snapshotter.writer': this.opts.writerId,
          'snapshotter.changes': String(changes.length),
        }),
      },
      this.opts.commitRetries,
    );
  }
}
