/**
 * The record schemas describe the edge model's own types (libs/edge-model): a change to either side that
 * makes them disagree fails to compile here, instead of a consumer folding records by other rules than the
 * core applies.
 */
import type { EdgeState, Endpoint, MutationType as ModelMutationType, PropertyCell as ModelPropertyCell, Version } from '@pipeline/edge-model';
import type { CdcState, PropertyCell } from './cdc.schema';
import type { EdgeEndpointSchema, MutationType } from './edge-event.schema';
import type { z } from 'zod';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export type ModelTies = [
  Holds<Same<MutationType, ModelMutationType>>,
  Holds<Same<PropertyCell, ModelPropertyCell>>,
  Holds<Same<PropertyCell['version'], Version>>,
  Holds<Same<z.infer<typeof EdgeEndpointSchema>, Endpoint>>,
  Holds<Same<Omit<CdcState, 'source' | 'target' | 'edgeId'>, EdgeState>>,
];
