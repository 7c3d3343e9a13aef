export { CoreClient, presentProperties, requestIdHeader, type CoreClientOptions } from './client';
export { CoreError } from './errors';
export { isMultiEdgeRecord, resultKey, resultKeyOfRecord, walToMutation } from './mutations';
export type {
  AggPage,
  Direction,
  EdgeView,
  EnqueueAnswer,
  EnqueueMessage,
  Endpoint,
  MutationItem,
  MutationResult,
  PolledMessage,
  PollPage,
  QueueDescriptor,
  QueueSeq,
  ScanPage,
  SchemaDump,
  TableBody,
} from './types';
export * from './query-dsl';
