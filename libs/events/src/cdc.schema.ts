import { z } from 'zod';
import { RecordContextSchema } from './context.schema';
import { EdgeEndpointSchema, EdgeEventSchema, VersionSchema } from './edge-event.schema';

export const CdcStatusSchema = z.enum(['CREATED', 'DELETED', 'UPDATED', 'IDLE', 'ERROR', 'PURGED']);
export type CdcStatus = z.infer<typeof CdcStatusSchema>;

export const PropertyCellSchema = z.object({
  // Required even when null: an unset field is a tombstone with a version, not an absent key.
  value: z.unknown().describe('Field value; null when unset or deleted at `version`'),
  version: VersionSchema.describe('Version of the event that last wrote this field'),
});
export type PropertyCell = z.infer<typeof PropertyCellSchema>;

export const CdcStateSchema = z.object({
  source: EdgeEndpointSchema.describe('Edge source; for multi-edges the _source property'),
  target: EdgeEndpointSchema.describe('Edge target; for multi-edges the _target property'),
  edgeId: EdgeEndpointSchema.optional().describe('Multi-edge id; absent for unique edges'),
  active: z.boolean().describe('createdAt is set and newer than deletedAt'),
  version: VersionSchema.describe('Highest event version applied to this edge'),
  createdAt: VersionSchema.nullable().describe('Version of the INSERT that (re)created the edge; null if none'),
  deletedAt: VersionSchema.nullable().describe('Version of the DELETE that tombstoned the edge; null if none'),
  properties: z
    .record(z.string(), PropertyCellSchema)
    .describe('Every schema field, last-write-wins per field by version'),
});
export type CdcState = z.infer<typeof CdcStateSchema>;

export const CdcRecordSchema = z
  .object({
    version: z.literal('3').describe('Record format version; "3" is the native format ("2": Actionbase wire format)'),
    type: z.literal('e').describe('Record type; "e" = edge'),
    processedAt: z.number().int().nonnegative().describe('When the core committed the change (epoch ms)'),
    lockAt: z.number().int().nonnegative().describe('When the core took the key lock (epoch ms)'),
    seq: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe(
        'Monotonic sequence assigned by the core at commit, seeded from the clock (unix ms × 2048) so that a core rebuilt from the WAL supersedes the records of the one it replaces; use it for external versioning, never Kafka offsets (they restart when a topic is recreated or mirrored)',
      ),
    status: CdcStatusSchema.describe('Outcome for the key, from before.active -> after.active'),
    accumulator: z
      .literal([-1, 0, 1])
      .describe('Count delta for the edge: +1 created, -1 deleted, 0 otherwise; sum per direction gives counts'),
    message: z.string().nullable().describe('Why the key failed (status ERROR); null otherwise'),
    context: RecordContextSchema,
    // At least one: a CDC record exists because events were merged for its key, and keyOfCdc relies on it.
    events: z.array(EdgeEventSchema).min(1).describe('Every event merged for this key, in the order applied (by version)'),
    before: CdcStateSchema.nullable().describe('State before the change; null if the edge had never existed'),
    after: CdcStateSchema.nullable().describe('State after the change; null if nothing was stored (e.g. ERROR)'),
  })
  .describe('CDC record: one per key per mutation request, after the state was committed');

export type CdcRecord = z.infer<typeof CdcRecordSchema>;
