/** @pipeline/stream/testing: record builders for tests and benchmarks (WAL/CDC values and keys of the core's shape). */
export { walValue, cdcValue, walHeartbeat, cdcHeartbeat, keyOf, itemOf } from './spec-helpers';
/** The runtime's per-batch path without Kafka (what StreamConsumer drives), for the in-process benchmark. */
export { Pipeline, type PipelineOptions } from './pipeline';
export { StreamMetrics } from './metrics';
/** How the fetch worker hands batches over (for the in-process benchmark of its main thread's path). */
export { packBatch, unpackBatch } from './worker-protocol';
