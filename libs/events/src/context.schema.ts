import { z } from 'zod';

/** Where a record belongs and who asked for it; identical in WAL and CDC records. */
export const RecordContextSchema = z.object({
  tenant: z.string().describe('Deployment tenant the record belongs to'),
  database: z.string().min(1).describe('Database (v2: service). "sys" holds system tables: heartbeats, schema changes'),
  table: z.string().min(1).describe('Table the mutation was applied to, after alias resolution (v2: label)'),
  alias: z.string().nullable().describe('Alias the request used to address the table, without the database prefix; null if none'),
  request: z
    .object({
      actor: z.string().describe('Caller identity (X-Actor-ID header), e.g. "AsyncRequestProcessor" for replayed async work'),
      requestId: z.string().describe('Request id (X-Request-ID header); may be empty'),
    })
    .describe('The request that produced the record'),
});

export type RecordContext = z.infer<typeof RecordContextSchema>;
