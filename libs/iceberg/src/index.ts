export { readIcebergTable, type IcebergTableRead, type ReadOptions } from './iceberg-snapshot';
