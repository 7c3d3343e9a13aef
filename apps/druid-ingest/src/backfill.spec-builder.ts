/**
 * Native batch (index_parallel) specs that (re)load a datasource from CDC records of a time range, with the
 * same columns, filter and rollup as the streaming spec, so backfilled rows and streamed rows aggregate alike.
 * Druid docs: "Native batch ingestion" (index_parallel, local input source, dropExisting).
 */
import { cdcDataSchema, cdcInputFormat, type DataSchemaOptions } from './supervisor.spec-builder';

export interface BackfillOptions extends DataSchemaOptions {
  /** Inclusive start and exclusive end of the CDC time range (processedAt, epoch ms). */
  fromMs: number;
  toMs: number;
  /** Folder (as Druid's indexer sees it) holding the NDJSON files of CDC records. */
  baseDir: string;
  /** Glob of the files in baseDir. */
  filter: string;
  /**
   * Replace the datasource's segments in the range (Druid overwrites whole segment intervals; with
   * dropExisting, intervals the backfill has no data for are dropped too). False appends.
   */
  replace: boolean;
  maxNumConcurrentSubTasks?: number;
}

/**
 * Druid locks and overwrites whole segment-granularity intervals, so the range is widened to segment
 * boundaries. The export step (cdc.export.ts) writes only records inside [fromMs, toMs), so nothing outside
 * the range is loaded; with `replace`, rows already in the widened interval but outside the range are
 * dropped too, hence replace ranges should be segment-aligned (the CLI warns otherwise).
 */
export function segmentAlignedInterval(fromMs: number, toMs: number, segmentGranularity: DataSchemaOptions['segmentGranularity']): string {
  const unit: Record<DataSchemaOptions['segmentGranularity'], number> = {
    second: 1_000,
    minute: 60_000,
    fifteen_minute: 900_000,
    thirty_minute: 1_800_000,
    hour: 3_600_000,
    day: 86_400_000,
  };
  const u = unit[segmentGranularity];
  const start = Math.floor(fromMs / u) * u;
  const end = Math.ceil(toMs / u) * u;
  return `${new Date(start).toISOString()}/${new Date(end === start ? start + u : end).toISOString()}`;
}

export function buildBackfillSpec(o: BackfillOptions) {
  const interval = segmentAlignedInterval(o.fromMs, o.toMs, o.segmentGranularity);
  return {
    type: 'index_parallel' as const,
    spec: {
      dataSchema: cdcDataSchema(o, [interval]),
      ioConfig: {
        type: 'index_parallel' as const,
        inputSource: { type: 'local', baseDir: o.baseDir, filter: o.filter },
        inputFormat: cdcInputFormat(),
        appendToExisting: !o.replace,
        ...(o.replace ? { dropExisting: true } : {}),
      },
      tuningConfig: {
        type: 'index_parallel' as const,
        maxNumConcurrentSubTasks: o.maxNumConcurrentSubTasks ?? 1,
        forceGuaranteedRollup: false,
        maxRowsInMemory: 100_000,
      },
    },
  };
}

export type BackfillSpec = ReturnType<typeof buildBackfillSpec>;
