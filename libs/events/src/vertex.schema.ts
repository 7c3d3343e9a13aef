import { z } from 'zod';
import { RecordContextSchema } from './context.schema';
import { CdcStatusSchema, PropertyCellSchema } from './cdc.schema';
import { EdgeEndpointSchema, MutationTypeSchema, PropertiesSchema, VersionSchema } from './edge-event.schema';
import { WalModeSchema } from './wal.schema';

/*
 * Vertex records (`type: "v"`): Actionbase's v3 format has them (WALV3Vertex, CDCV3Vertex) beside edge
 * records on the same topics. Our core keeps no vertex tables, so no consumer acts on them yet: they decode
 * to a variant of their own, and every consumer skips them with a metric (never the dead-letter topic). The
 * decoded shape mirrors the edge records', with `key` where an edge has source and target.
 */

export const VertexEventSchema = z.object({
  id: z.string().min(1).describe('Event id'),
  requestId: z.string().describe('Request id of the request that carried this event; empty when Actionbase wrote null'),
  type: MutationTypeSchema.describe('Mutation type'),
  version: VersionSchema.describe('Ordering stamp supplied by the client (ms or ns since epoch, 64-bit integer)'),
  key: EdgeEndpointSchema.describe('Vertex key'),
  properties: PropertiesSchema.describe('Properties as sent'),
});
export type VertexEventRecord = z.infer<typeof VertexEventSchema>;

export const VertexStateSchema = z.object({
  key: EdgeEndpointSchema.describe('Vertex key'),
  active: z.boolean().describe('createdAt is set and newer than deletedAt'),
  version: VersionSchema.describe('Highest event version applied to this vertex'),
  createdAt: VersionSchema.nullable().describe('Version of the INSERT that (re)created the vertex; null if none'),
  deletedAt: VersionSchema.nullable().describe('Version of the DELETE that tombstoned the vertex; null if none'),
  properties: z.record(z.string(), PropertyCellSchema).describe('Every schema field, last-write-wins per field by version'),
});
export type VertexState = z.infer<typeof VertexStateSchema>;

export const WalVertexRecordSchema = z
  .object({
    version: z.literal('3').describe('Record format version'),
    type: z.literal('v').describe('Record type; "v" = vertex'),
    processedAt: z.number().int().nonnegative().describe('When the server wrote the record (epoch ms)'),
    context: RecordContextSchema,
    event: VertexEventSchema.describe('The request item, before it is applied'),
    mode: WalModeSchema.describe('How the item was (or will be) processed'),
  })
  .describe('WAL record of a vertex mutation (Actionbase v3); consumers skip it');
export type WalVertexRecord = z.infer<typeof WalVertexRecordSchema>;

export const CdcVertexRecordSchema = z
  .object({
    version: z.literal('3').describe('Record format version'),
    type: z.literal('v').describe('Record type; "v" = vertex'),
    processedAt: z.number().int().nonnegative().describe('When the server committed the change (epoch ms)'),
    lockAt: z.number().int().nonnegative().describe('When the server took the key lock (epoch ms)'),
    status: CdcStatusSchema.describe('Outcome for the key'),
    accumulator: z.literal([-1, 0, 1]).describe('Count delta: +1 created, -1 deleted, 0 otherwise'),
    message: z.string().nullable().describe('Why the key failed (status ERROR); null otherwise'),
    context: RecordContextSchema,
    events: z.array(VertexEventSchema).min(1).describe('Every event merged for this key, in the order applied'),
    before: VertexStateSchema.nullable().describe('State before the change; null if none'),
    after: VertexStateSchema.nullable().describe('State after the change; null if none'),
  })
  .describe('CDC record of a vertex mutation (Actionbase v3); consumers skip it');
export type CdcVertexRecord = z.infer<typeof CdcVertexRecordSchema>;
