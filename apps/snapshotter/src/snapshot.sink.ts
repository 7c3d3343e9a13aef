/**
 * The snapshotter's Sink: stages CDC records durably (write()), and commits them periodically as Iceberg
 * snapshots of current state and change-log Parquet files.
 *
 * Exactly once across restarts: every snapshot's summary holds the offsets it covers (`snapshotter.offsets`);
 * at start the sink reads them per table and skips records below them, and staged changes merge by the core's
 * seq, so a record seen twice changes nothing. Several instances (one consumer group) commit to the same
 * tables optimistically: each commit re-reads the latest version and retries when another writer won it.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { CdcRecord } from '@pipeline/events';
import type { DecodedRecord, Sink } from '@pipeline/stream';
import type { Catalog } from '@pipeline/iceberg';
import { adoptFolderTables } from './catalog';
import { changeLogRowOf, currentRowOf, edgeKeyOf, hourOf, orderOf, tableIdOf } from './cdc-row';
import { ChangeLogWriter } from './changelog-writer';
import type { CompactionPolicy, RetentionPolicy } from './iceberg-table';
import { SnapshotTables, type CommitStep } from './snapshot-tables';
import { StagingStore, type Offsets, type StagedRecord } from './staging-store';

export interface SnapshotSinkOptions {
  warehouseDir: string;
  /** Where tables are registered; default the folder catalog at warehouseDir. */
  catalog?: Catalog;
  stagingDir: string;
  commitIntervalMs: number;
  targetFileRows: number;
  compaction: CompactionPolicy;
  retention: RetentionPolicy;
  commitRetries: number;
  changelog: boolean;
  /** Files no snapshot reaches and older than this are deleted at start (crash leftovers). */
  orphanMinAgeMs: number;
  writerId: string;
  logger: Logger;
  /** Fault injection (crash tests): called at each step of a commit. */
  onStep?: (table: string, step: CommitStep | 'changelog-written') => void | Promise<void>;
}

export interface CommitRoundReport {
  tables: { table: string; snapshotId: string; rows: number; changes: number; attempts: number; ms: number }[];
  changelogFiles: number;
}

export class SnapshotSink implements Sink<CdcRecord> {
  private store: StagingStore | undefined;
  private changelog: ChangeLogWriter | undefined;
  private readonly tables: SnapshotTables;
  /** Per table: offsets its current snapshot covers; records below are skipped. */
  private readonly committed = new Map<string, Offsets>();
  private timer: NodeJS.Timeout | undefined;
  private committing: Promise<CommitRoundReport> | undefined;
  private ready = false;
  private readonly log: Logger;

  constructor(private readonly opts: SnapshotSinkOptions) {
    this.log = opts.logger.child({ component: 'snapshot.sink' });
    this.tables = new SnapshotTables({
      warehouseDir: opts.warehouseDir,
      ...(opts.catalog ? { catalog: opts.catalog } : {}),
      targetFileRows: opts.targetFileRows,
      compaction: opts.compaction,
      retention: opts.retention,
      commitRetries: opts.commitRetries,
      writerId: opts.writerId,
      onStep: opts.onStep,
    });
  }

  async start(): Promise<void> {
    this.store = new StagingStore(this.opts.stagingDir);
    this.changelog = new ChangeLogWriter(path.join(this.opts.warehouseDir, '_changelog'), this.store, (f) => this.opts.onStep?.(f, 'changelog-written'));
    await this.changelog.recover();
    await adoptFolderTables(this.tables.catalog, this.opts.warehouseDir, this.log);
    // Housekeeping of the tables in our warehouse. A table the catalog cannot load now (another writer's broken
    // table in a shared catalog, a catalog hiccup) keeps its orphans until the next start: it must not hold up
    // ingestion into every other table.
    for (const table of await this.tables.existing()) {
      try {
        const removed = await this.tables.table(table).removeOrphans(this.opts.orphanMinAgeMs, this.opts.warehouseDir);
        if (removed.length) this.log.info({ table, removed: removed.length }, 'removed orphan files of crashed or lost commits');
      } catch (err) {
        this.log.warn({ table, err }, 'could not look for orphan files of this table; left for the next start');
      }
    }
    const staged = this.store.counts();
    this.log.info({ staged }, 'staging opened');
    this.timer = setInterval(() => {
      void this.commitNow().catch((err: unknown) => this.log.error({ err }, 'periodic commit failed; staged records stay for the next round'));
    }, this.opts.commitIntervalMs);
    this.ready = true;
  }

  isReady(): boolean {
    return this.ready;
  }

  /** The offsets a table's snapshot covers, read once per table (then kept current by our own commits). */
  private async committedFor(table: string): Promise<Offsets> {
    let o = this.committed.get(table);
    if (!o) {
      o = await this.tables.committedOffsets(table);
      this.committed.set(table, o);
      if (Object.keys(o).length) this.log.info({ table, offsets: o }, 'resuming after the offsets in the snapshot summary');
    }
    return o;
  }

  async write(batch: DecodedRecord<CdcRecord>[]): Promise<void> {
    const store = this.requireStore();
    const staged: StagedRecord[] = [];
    let skipped = 0;
    for (const d of batch) {
      const r = d.record;
      const table = tableIdOf(r);
      const key = edgeKeyOf(r);
      if (key === undefined || r.status === 'ERROR') continue; // nothing was stored for this key
      const covered = (await this.committedFor(table))[`${d.topic}:${d.partition}`];
      if (covered !== undefined && Number(d.offset) < covered) {
        skipped++;
        continue;
      }
      staged.push({
        table,
        key,
        ord: orderOf(r),
        row: currentRowOf(r),
        topic: d.topic,
        partition: d.partition,
        offset: Number(d.offset),
        ...(this.opts.changelog ? { changelog: { hour: hourOf(r.processedAt), row: changeLogRowOf(r, d.partition, d.offset) } } : {}),
      });
    }
    if (staged.length) store.stage(staged);
    if (skipped) this.log.info({ skipped }, 'skipped records already in the committed snapshots');
  }

  /** Commits every table with staged changes and flushes the change log; one round at a time. */
  commitNow(): Promise<CommitRoundReport> {
    if (!this.committing) {
      this.committing = this.commitRound().finally(() => {
        this.committing = undefined;
      });
    }
    return this.committing;
  }

  private async commitRound(): Promise<CommitRoundReport> {
    const store = this.requireStore();
    const gen = store.gen;
    const report: CommitRoundReport = { tables: [], changelogFiles: 0 };
    for (const table of store.tablesWithPending()) {
      const { changes, offsets } = store.pending(table, gen);
      if (changes.length === 0) continue;
      const t0 = performance.now();
      const result = await this.tables.commit(table, changes, offsets);
      // null: every staged change lost to a newer row of the table (another writer got there first).
      store.clearPending(table, gen);
      if (!result) continue;
      this.committed.set(table, await this.tables.committedOffsets(table));
      const ms = Math.round(performance.now() - t0);
      const rows = result.totalRecords;
      report.tables.push({ table, snapshotId: result.snapshotId.toString(), rows, changes: changes.length, attempts: result.attempts, ms });
      this.log.info(
        {
          table,
          snapshotId: result.snapshotId.toString(),
          version: result.version,
          operation: result.operation,
          rows,
          changes: changes.length,
          files: { added: result.addedFiles, deleted: result.deletedFiles, existing: result.existingFiles, compacted: result.compactedFiles },
          attempts: result.attempts,
          expired: result.expiredSnapshots,
          ms,
        },
        'snapshot committed',
      );
    }
    if (this.opts.changelog && this.changelog) {
      const files = await this.changelog.flush(gen);
      report.changelogFiles = files.length;
      if (files.length) this.log.info({ files: files.length, rows: files.reduce((a, f) => a + f.rows, 0) }, 'change log written');
    }
    return report;
  }

  /** At shutdown, after the last write: commit what is staged. */
  async flush(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.committing?.catch(() => undefined);
    await this.commitNow();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.committing?.catch(() => undefined);
    this.ready = false;
    this.store?.close();
    this.store = undefined;
    await this.tables.catalog.close();
  }

  private requireStore(): StagingStore {
    if (!this.store) throw new Error('the snapshot sink is not started');
    return this.store;
  }
}
