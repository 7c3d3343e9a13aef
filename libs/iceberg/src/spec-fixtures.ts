/** Fixtures of the unit tests (not exported by the library). */
import type { DataFile } from './manifest';

export const dataFile = (p: string, rows: number): DataFile => ({
  content: 0,
  file_path: p,
  file_format: 'PARQUET',
  partition: {},
  record_count: rows,
  file_size_in_bytes: rows * 10 + 4,
  column_sizes: null,
  value_counts: [{ key: 1, value: rows }],
  null_value_counts: [{ key: 1, value: 0 }],
  nan_value_counts: null,
  lower_bounds: [{ key: 1, value: Buffer.from('a') }],
  upper_bounds: [{ key: 1, value: Buffer.from('z') }],
  key_metadata: null,
  split_offsets: null,
  equality_ids: null,
  sort_order_id: 1,
});
