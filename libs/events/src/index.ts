/**
 * @pipeline/events: the record formats every app shares. The only public entry point; anything not
 * exported here is internal and may change.
 */
export { MutationTypeSchema, EdgeEventSchema, type MutationType, type EdgeEventRecord } from './edge-event.schema';
export { RecordContextSchema, type RecordContext } from './context.schema';
export { ModeSchema, WalModeSchema, WalRecordSchema, type Mode, type WalMode, type WalRecord } from './wal.schema';
export {
  CdcStatusSchema,
  PropertyCellSchema,
  CdcStateSchema,
  CdcRecordSchema,
  type CdcStatus,
  type PropertyCell,
  type CdcState,
  type CdcRecord,
} from './cdc.schema';
export { EventDecodeError, EventEncodeError, type EventDecodeErrorCode } from './errors';
export {
  decodeWal,
  decodeCdc,
  decodeRecord,
  isVertexRecord,
  type RecordKind,
  type RecordInput,
  type DecodedWal,
  type DecodedCdc,
  type AnyRecord,
} from './decode';
export {
  VertexEventSchema,
  VertexStateSchema,
  WalVertexRecordSchema,
  CdcVertexRecordSchema,
  type VertexEventRecord,
  type VertexState,
  type WalVertexRecord,
  type CdcVertexRecord,
} from './vertex.schema';
export { LongSchema, LongRangeError, isLong, safeEndpoint, safeNumber, safeState, type Long, type SafeCdcState } from './long';
export { parseJson, stringifyJson } from './json';
export { encodeWal, encodeCdc } from './encode';
export {
  isSystemRecord,
  heartbeatWal,
  heartbeatCdc,
  SYSTEM_DATABASE,
  HEARTBEAT_TABLE,
  type HeartbeatOptions,
} from './system-records';
export { kafkaKey, keyOfWal, keyOfCdc } from './keys';
export {
  AlertRecordSchema,
  AlertRuleSchema,
  AlertSubjectKindSchema,
  type AlertRecord,
  type AlertRule,
  type AlertSubjectKind,
} from './alert.schema';
export { TOPICS, dlqTopicName, type TopicDefinition, type TopicId } from './topics';
export { toJsonSchemas } from './json-schema';
export type { ModelTies } from './model-ties';
