export { DruidApiError, DruidClient, type DruidOffsets, type SqlParameter, type SupervisorStatus, type SupervisorTask, type TaskState } from './client';
export {
  ACCUMULATOR_FIELD,
  BEFORE_FIELDS,
  columnsMissingFromSchema,
  DIMENSIONS,
  METRICS,
  MOVED_FROM_DIMENSIONS,
  pathExistsInSchema,
  RECORD_TYPE_FIELD,
  TIMESTAMP_COLUMN,
  type CdcColumn,
} from './columns';
export { ingestedOffsets, recordsBehind, type IngestedOffsets } from './offsets';
export { activeEdgeCounts, countLegs, ident, isUnknownDatasource, type DruidQuery, type EdgeCountRow } from './sql';
