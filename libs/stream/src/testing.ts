/** @pipeline/stream/testing: record builders for tests and benchmarks (WAL/CDC values and keys of the core's shape). */
export { walValue, cdcValue, walHeartbeat, cdcHeartbeat, keyOf, itemOf } from './spec-helpers';
/** The runtime's per-batch path without Kafka (what StreamConsumer drives), for the in-process benchmark. */
export { Pipeline, type PipelineOptions } from './pipeline';
export { StreamMetrics } from './metrics';
