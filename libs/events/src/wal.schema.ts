import { z } from 'zod';
import { RecordContextSchema } from './context.schema';
import { EdgeEventSchema } from './edge-event.schema';

export const ModeSchema = z.enum(['SYNC', 'ASYNC', 'IGNORE']);
export type Mode = z.infer<typeof ModeSchema>;

/**
 * The inputs of mode resolution are kept, not just the outcome, so a replay can tell why an item was
 * queued: force ? request : (system ?? request ?? table); queue = resolved mode is ASYNC or IGNORE.
 */
export const WalModeSchema = z.object({
  table: ModeSchema.describe('Mode configured on the table'),
  request: ModeSchema.nullable().describe('Mode asked for by the request (the /sync endpoints); null if none'),
  system: ModeSchema.nullable().optional().describe('Mode forced by server configuration; null or absent if none'),
  force: z.boolean().optional().describe('force=true on /sync: the request mode wins over the system mode'),
  queue: z
    .boolean()
    .describe('true: the item was queued and NOT applied yet; the async processor must apply it from the WAL'),
});
export type WalMode = z.infer<typeof WalModeSchema>;

export const WalRecordSchema = z
  .object({
    version: z.literal('3').describe('Record format version; "3" is the native format ("2": Actionbase wire format)'),
    type: z.literal('e').describe('Record type; "e" = edge'),
    processedAt: z.number().int().nonnegative().describe('When the core wrote the record (epoch ms)'),
    context: RecordContextSchema,
    event: EdgeEventSchema.describe('The request item, validated and cast, before it is applied'),
    mode: WalModeSchema.describe('How the item was (or will be) processed'),
  })
  .describe('WAL record: one per request item, written before processing, for every mode');

export type WalRecord = z.infer<typeof WalRecordSchema>;
