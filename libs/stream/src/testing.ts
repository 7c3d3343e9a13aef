/** @pipeline/stream/testing: record builders for tests and benchmarks (WAL/CDC values and keys of the core's shape). */
export { walValue, cdcValue, walHeartbeat, cdcHeartbeat, keyOf, itemOf } from './spec-helpers';
