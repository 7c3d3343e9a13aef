/**
 * @pipeline/events/stages: the steps of a native record's decode, one by one, so a benchmark can weigh each
 * against the whole (bench/stream-runtime.ts). Apps decode with decodeWal/decodeCdc from the main entry.
 */
export { fastCdc, fastWal } from './fast-decode';
export { parseOrThrow } from './errors';
export { longOf } from './long';
