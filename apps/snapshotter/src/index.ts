/**
 * @pipeline/snapshotter: the snapshot tables and their Parquet writer, for use without the consumer (the
 * benchmarks time the commit and the writer against pyarrow). The service itself starts from main.ts.
 */
export { writeSnapshotParquet, columnStats, compareStrings, SNAPSHOT_COLUMNS, type ColumnSpec, type ColumnStats, type IcebergType, type ParquetCodec, type SnapshotRow } from './parquet-file';
export { SnapshotTables, type SnapshotTablesOptions } from './snapshot-tables';
export type { PendingChange } from './staging-store';
