/**
 * @pipeline/abuse-detector/testing: the record builders of this app's tests that other projects use too (the
 * benchmark builds its workload with them). Not reachable from main.ts, so not in the build.
 */
export { cdc, seededRandom, type CdcOptions } from './spec-helpers';
