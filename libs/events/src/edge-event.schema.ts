import { z } from 'zod';
import { BigLongSchema, LongSchema } from './long';

export const MutationTypeSchema = z.enum(['INSERT', 'UPDATE', 'DELETE']);
export type MutationType = z.infer<typeof MutationTypeSchema>;

/**
 * An edge endpoint or multi-edge id: a string or a LONG (long.ts: a safe integer number, a bigint beyond).
 * Decoding is lossless, so two ids that differ beyond 2^53 stay two ids (and two Kafka keys).
 */
export const EdgeEndpointSchema = z.union([z.string(), z.number().int(), BigLongSchema]);

/** Client-supplied ordering stamp (ms or ns since the epoch): a LONG, exact (ns stamps exceed 2^53). */
export const VersionSchema = LongSchema;

/**
 * Property maps are open: the table schema, not this library, decides the fields. Zod drops a
 * `__proto__` key from records so a hostile payload cannot swap the object's prototype.
 */
export const PropertiesSchema = z.record(z.string(), z.unknown());

export const EdgeEventSchema = z.object({
  id: z.string().min(1).describe('Event id (ULID) assigned by the core when the request item was validated'),
  requestId: z.string().describe('Request id of the request that carried this event; may be empty'),
  type: MutationTypeSchema.describe('Mutation type'),
  version: VersionSchema.describe('Ordering stamp supplied by the client (ms or ns since epoch, 64-bit integer)'),
  source: EdgeEndpointSchema.describe('Edge source; for multi-edges the _source property'),
  target: EdgeEndpointSchema.describe('Edge target; for multi-edges the _target property'),
  edgeId: EdgeEndpointSchema.optional().describe('Multi-edge id; absent for unique edges'),
  properties: PropertiesSchema.describe('Properties as sent, cast to the table schema; for UPDATE, null unsets a field'),
});

export type EdgeEventRecord = z.infer<typeof EdgeEventSchema>;
