export { CoreClient, requestIdHeader, type CoreClientOptions } from './client';
export { CoreError } from './errors';
export { isMultiEdgeRecord, resultKey, resultKeyOfRecord, walToMutation } from './mutations';
export type { Direction, EdgeView, Endpoint, MutationItem, MutationResult, ScanPage, SchemaDump, TableBody } from './types';
