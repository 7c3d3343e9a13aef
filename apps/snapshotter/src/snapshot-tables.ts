/**
 * The current-state Iceberg tables, one per Actionbase table, and the commit of staged changes into them.
 */
import {
  FolderCatalog,
  identString,
  keyOfRow,
  nameMapping,
  parseIdent,
  snapshotRowFromParquet,
  sortKeyOfRow,
  SNAPSHOT_SORT_FIELD_IDS,
  type Catalog,
} from '@pipeline/iceberg';
import { IcebergTable, type CommitResult, type CompactionPolicy, type RetentionPolicy } from './iceberg-table';
import { SNAPSHOT_COLUMNS, type SnapshotRow } from './parquet-file';
import type { Offsets, PendingChange } from './staging-store';

export { keyOfRow };

/** Snapshot summary property holding the consumed offsets (`topic:partition` -> next offset) the snapshot covers. */
export const OFFSETS_PROPERTY = 'snapshotter.offsets';

export type CommitStep = 'data-written' | 'manifests-written' | 'metadata-linked';

export interface SnapshotTablesOptions {
  warehouseDir: string;
  /** Where tables are registered; default the folder catalog at warehouseDir. */
  catalog?: Catalog;
  targetFileRows: number;
  compaction: CompactionPolicy;
  retention: RetentionPolicy;
  commitRetries: number;
  /** Written into every snapshot summary: which instance committed it. */
  writerId: string;
  onStep?: (table: string, step: CommitStep) => void | Promise<void>;
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

export class SnapshotTables {
  private readonly tables = new Map<string, IcebergTable<SnapshotRow>>();
  readonly catalog: Catalog;

  constructor(private readonly opts: SnapshotTablesOptions) {
    this.catalog = opts.catalog ?? new FolderCatalog(opts.warehouseDir);
  }

  table(name: string): IcebergTable<SnapshotRow> {
    let t = this.tables.get(name);
    if (!t) {
      t = new IcebergTable<SnapshotRow>(this.catalog, parseIdent(name), SNAPSHOT_COLUMNS, {
        targetFileRows: this.opts.targetFileRows,
        compaction: this.opts.compaction,
        retention: this.opts.retention,
        sortFieldIds: SNAPSHOT_SORT_FIELD_IDS,
        sortKey: sortKeyOfRow,
        fromParquet: snapshotRowFromParquet,
        properties: {
          'actionbase.table': name,
          'write.format.default': 'parquet',
          'write.parquet.compression-codec': 'snappy',
          'write.metadata.previous-versions-max': String(this.opts.retention.maxMetadataFiles),
          'history.expire.max-snapshot-age-ms': String(this.opts.retention.maxSnapshotAgeMs),
          'history.expire.min-snapshots-to-keep': String(this.opts.retention.minSnapshotsToKeep),
          // Parquet files carry field ids; the mapping lets engines that prefer names resolve them too.
          'schema.name-mapping.default': nameMapping(SNAPSHOT_COLUMNS),
        },
        onStep: this.opts.onStep ? (step) => this.opts.onStep!(name, step) : undefined,
      });
      this.tables.set(name, t);
    }
    return t;
  }

  /** The Actionbase tables (`database.table`) the catalog has. */
  async existing(): Promise<string[]> {
    return (await this.catalog.listTables()).map(identString);
  }

  /**
   * Rewrites the table's live files with fewer than `smallFileRows` rows into files of `targetFileRows` (one
   * `replace` snapshot, same rows), on top of whoever committed last. Null when fewer than two files qualify.
   */
  async compact(name: string, smallFileRows: number): Promise<CommitResult | null> {
    return this.table(name).compact(smallFileRows, { 'snapshotter.writer': this.opts.writerId, 'snapshotter.compaction': 'manual' }, this.opts.commitRetries);
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
        sortKey: sortKeyOfRow,
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
