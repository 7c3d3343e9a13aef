export * from './types';
export { applyEvent, canonicalVersion, compareVersions, foldEvents, initialState, TransitionRejectedError } from './transition';
export type { FoldResult } from './transition';
export { statesEqual, deepEqual } from './equality';
export { classify } from './status';
export type { Classification } from './status';
export { endpointsOf, indexEntriesOf, derivedChanges } from './derived';
export type { DerivedChanges } from './derived';
