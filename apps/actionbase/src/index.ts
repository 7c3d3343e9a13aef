/**
 * @pipeline/actionbase: the core's engine for embedding without its HTTP and Kafka edges (benchmarks measure
 * the engine alone and the CDC relay against the full service). The service itself starts from main.ts.
 */
export { Catalog } from './catalog/catalog';
export { LegacyTableBody, legacySchema } from './catalog/schema-bodies';
export { MutationEngine, type MutationResult, type MutationOptions } from './engine/mutation-engine';
export { KafkaCdcOutlet, SinkCdcOutlet, type CdcOutlet } from './publish/cdc-outlet';
export { CdcRelay, type CdcRelayOptions } from './publish/cdc-relay';
export { KafkaRecordSink, LogRecordSink, type KeyedRecord, type RecordSink } from './publish/record-sink';
export { SqliteEdgeStore } from './storage/sqlite-store';
