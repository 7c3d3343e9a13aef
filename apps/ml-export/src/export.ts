/**
 * The export: pick the cut (an Iceberg snapshot of the table, or none), read the change log hour by hour, sort
 * each hour into event-time order, fold it, write the examples, check the final state against the snapshot, and
 * only then move the finished dataset to its place.
 *
 * The cut: a snapshot's summary holds the CDC offsets it covers (`snapshotter.offsets`, per topic:partition).
 * Change-log rows carry their Kafka coordinates, so "the changes the snapshot covers" is exact, and the fold's
 * final active edges must then equal the snapshot's rows, edge by edge, down to the CDC record (seq) each comes
 * from. A dataset whose history disagrees with the table is refused rather than written.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { FolderCatalog, JdbcCatalog, readTable, type Catalog } from '@pipeline/iceberg';
import { PipelineError } from '@pipeline/errors';
import { changeLogHours, readHour, type Change } from './changelog';
import type { Config } from './config';
import { DatasetWriter, type Split, type WrittenFile } from './dataset-writer';
import { eventOrder, PointInTimeFold, type FoldStats } from './fold';

export type ExportOptions = Pick<
  Config,
  'TABLE' | 'OUT_DIR' | 'OVERWRITE' | 'WAREHOUSE_DIR' | 'CATALOG' | 'CATALOG_URL' | 'CATALOG_NAME' | 'CUT' | 'SNAPSHOT_ID' | 'SPLIT_AT' | 'NEGATIVES' | 'SEED' | 'MAX_ROWS_PER_FILE'
>;

export interface ExportReport {
  table: string;
  out: string;
  snapshotId: string | null;
  /** Kafka partition -> first offset beyond the cut; null without a cut. */
  cut: Record<string, string> | null;
  hours: number;
  changesRead: number;
  /** Records the core published twice (same seq; a relay retry) counted once. */
  duplicates: number;
  beyondCut: number;
  fold: FoldStats;
  finalActiveEdges: number;
  checkedAgainstSnapshot: boolean;
  splitAt: string | null;
  negatives: number;
  seed: number;
  rows: Record<Split, number>;
  files: WrittenFile[];
}

/**
 * The export refused to run or to finish (no table, no snapshot, no change log, a destination in the way, a
 * change log that does not add up): nothing was written, and running it again unchanged refuses again.
 */
export class ExportError extends PipelineError {
  override readonly name = 'ExportError';
  override readonly code = 'EXPORT_REFUSED' as const;
  override readonly retryable = false as const;

  constructor(message: string) {
    super('EXPORT_REFUSED', message, { retryable: false });
  }
}

function catalogOf(o: ExportOptions): Catalog {
  return o.CATALOG === 'jdbc' ? new JdbcCatalog({ url: o.CATALOG_URL!, catalogName: o.CATALOG_NAME, warehouse: o.WAREHOUSE_DIR }) : new FolderCatalog(o.WAREHOUSE_DIR);
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

interface Cut {
  snapshotId: bigint;
  offsets: Map<number, bigint>;
  /** Edge key -> seq of the snapshot's row. */
  rows: Map<string, bigint>;
}

async function loadCut(o: ExportOptions): Promise<Cut> {
  const [namespace, name] = o.TABLE.split('.') as [string, string];
  const catalog = catalogOf(o);
  try {
    const read = await readTable(catalog, { namespace, name }, o.SNAPSHOT_ID !== undefined ? { snapshotId: o.SNAPSHOT_ID } : {});
    if (!read) throw new ExportError(`no Iceberg table ${o.TABLE} in the ${o.CATALOG} catalog at ${o.WAREHOUSE_DIR}: check --warehouse/--catalog, or export the change log alone with --cut none`);
    const snap = read.snapshot;
    if (!snap) throw new ExportError(`table ${o.TABLE} has no snapshot yet: wait for the snapshotter's first commit, or use --cut none`);
    const raw = snap.summary['snapshotter.offsets'];
    if (!raw) throw new ExportError(`snapshot ${snap['snapshot-id']} of ${o.TABLE} has no snapshotter.offsets in its summary, so the change log cannot be cut at it: use --cut none`);
    const offsets = new Map<number, bigint>();
    const topics = new Set<string>();
    for (const [tp, next] of Object.entries(JSON.parse(raw) as Record<string, number>)) {
      const at = tp.lastIndexOf(':');
      topics.add(tp.slice(0, at));
      offsets.set(Number(tp.slice(at + 1)), BigInt(next));
    }
    // Change-log rows name their partition, not their topic: two topics would make the cut ambiguous.
    if (topics.size > 1) throw new ExportError(`snapshot ${snap['snapshot-id']} covers several CDC topics (${[...topics].join(', ')}); the change log cannot be cut at it: use --cut none`);
    const rows = new Map<string, bigint>();
    for (const r of read.rows) if (r.active) rows.set(r.edge_id !== null ? `id:${r.edge_id}` : `st:${r.source}\u0000${r.target}`, BigInt(r.seq));
    return { snapshotId: snap['snapshot-id'], offsets, rows };
  } finally {
    await catalog.close();
  }
}

/** Why the fold's final state and the snapshot differ: at most a few keys, for the message. */
function differences(fold: PointInTimeFold, rows: Map<string, bigint>): string[] {
  const out: string[] = [];
  const show = (k: string) => k.replace('\u0000', '->');
  for (const [k, seq] of rows) {
    const f = fold.active.get(k);
    if (!f) out.push(`${show(k)} is in the snapshot (seq ${seq}) but not active in the change log`);
    else if (f.order !== seq) out.push(`${show(k)}: snapshot seq ${seq}, change log seq ${f.order}`);
  }
  for (const k of fold.active.keys()) if (!rows.has(k)) out.push(`${show(k)} is active in the change log but not in the snapshot`);
  return out;
}

export async function runExport(o: ExportOptions, logger: Logger): Promise<ExportReport> {
  const out = path.resolve(o.OUT_DIR);
  if ((await exists(out)) && !o.OVERWRITE) throw new ExportError(`${out} exists: choose another --out, or pass --overwrite true to replace it`);
  const cut = o.CUT === 'snapshot' ? await loadCut(o) : null;
  const hours = await changeLogHours(o.WAREHOUSE_DIR, o.TABLE);
  if (hours.length === 0) {
    throw new ExportError(
      `no change log for ${o.TABLE} under ${path.join(o.WAREHOUSE_DIR, '_changelog')}: check --warehouse and --table, and that the snapshotter runs with CHANGELOG_ENABLED=true (its default)`,
    );
  }

  // Written beside the destination and moved into place at the end, so a failed run never leaves half a dataset there.
  const work = `${out}.partial-${process.pid}`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const fold = new PointInTimeFold({ negatives: o.NEGATIVES, seed: o.SEED });
    const writer = new DatasetWriter(work, o.MAX_ROWS_PER_FILE);
    const rows: Record<Split, number> = { train: 0, validation: 0 };
    let changesRead = 0;
    let duplicates = 0;
    let beyondCut = 0;
    for (const h of hours) {
      const all = await readHour(h.dir);
      changesRead += all.length;
      const seen = new Set<bigint>();
      const changes: Change[] = [];
      for (const c of all) {
        if (cut) {
          const next = cut.offsets.get(c.partition);
          if (next === undefined || c.offset >= next) {
            beyondCut++;
            continue;
          }
        }
        // The core may publish one CDC record twice (a crash between publish and outbox delete): same seq, and
        // the same processedAt, so the same hour. Folding it twice would count the edge twice.
        if (c.seq !== null) {
          if (seen.has(c.seq)) {
            duplicates++;
            continue;
          }
          seen.add(c.seq);
        }
        changes.push(c);
      }
      changes.sort(eventOrder);
      for (const c of changes) {
        for (const e of fold.fold(c)) {
          const split: Split = o.SPLIT_AT !== undefined && e.eventTimeMs >= o.SPLIT_AT ? 'validation' : 'train';
          rows[split]++;
          await writer.add(split, e);
        }
      }
      logger.debug({ hour: h.hour, changes: changes.length }, 'hour folded');
    }
    await writer.flush();

    if (cut) {
      const diff = differences(fold, cut.rows);
      if (diff.length > 0) {
        throw new ExportError(
          `the change log does not add up to snapshot ${cut.snapshotId} of ${o.TABLE} (${diff.length} edges differ, e.g. ${diff.slice(0, 5).join('; ')}). ` +
            'The snapshotter may not have flushed that round\'s change log yet (run again after its next commit), or the change log lost files; nothing was written',
        );
      }
    }

    const report: ExportReport = {
      table: o.TABLE,
      out,
      snapshotId: cut ? cut.snapshotId.toString() : null,
      cut: cut ? Object.fromEntries([...cut.offsets].map(([p, n]) => [String(p), n.toString()])) : null,
      hours: hours.length,
      changesRead,
      duplicates,
      beyondCut,
      fold: fold.stats,
      finalActiveEdges: fold.active.size,
      checkedAgainstSnapshot: cut !== null,
      splitAt: o.SPLIT_AT !== undefined ? new Date(o.SPLIT_AT).toISOString() : null,
      negatives: o.NEGATIVES,
      seed: o.SEED,
      rows,
      files: writer.files,
    };
    // `_`-prefixed: pyarrow datasets, DuckDB globs of *.parquet and Spark all skip it.
    await writeFile(path.join(work, '_export.json'), `${JSON.stringify(report, null, 2)}\n`);
    await rm(out, { recursive: true, force: true });
    await rename(work, out);
    return report;
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}
