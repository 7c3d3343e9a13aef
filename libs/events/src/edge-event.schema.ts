import { z } from 'zod';

export const MutationTypeSchema = z.enum(['INSERT', 'UPDATE', 'DELETE']);
export type MutationType = z.infer<typeof MutationTypeSchema>;

/**
 * Numeric ids must be safe integers: JSON.parse silently rounds larger ones, which would merge two
 * distinct edges under one Kafka key. Failing loudly (to a DLQ) beats corrupting state downstream;
 * producers with 64-bit ids should send them as strings.
 */
export const EdgeEndpointSchema = z.union([z.string(), z.number().int()]);

/** Client-supplied ordering stamp (ms or ns since the epoch); must be exact, hence a safe integer. */
export const VersionSchema = z.number().int();

/**
 * Property maps are open: the table schema, not this library, decides the fields. Zod drops a
 * `__proto__` key from records so a hostile payload cannot swap the object's prototype.
 */
export const PropertiesSchema = z.record(z.string(), z.unknown());

export const EdgeEventSchema = z.object({
  id: z.string().min(1).describe('Event id (ULID) assigned by the core when the request item was validated'),
  requestId: z.string().describe('Request id of the request that carried this event; may be empty'),
  type: MutationTypeSchema.describe('Mutation type'),
  version: VersionSchema.describe('Ordering stamp supplied by the client (ms or ns since epoch, safe integer)'),
  source: EdgeEndpointSchema.describe('Edge source; for multi-edges the _source property'),
  target: EdgeEndpointSchema.describe('Edge target; for multi-edges the _target property'),
  edgeId: EdgeEndpointSchema.optional().describe('Multi-edge id; absent for unique edges'),
  properties: PropertiesSchema.describe('Properties as sent, cast to the table schema; for UPDATE, null unsets a field'),
});

export type EdgeEventRecord = z.infer<typeof EdgeEventSchema>;
