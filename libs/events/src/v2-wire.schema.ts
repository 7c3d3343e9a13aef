import { z } from 'zod';
import { ModeSchema } from './wal.schema';
import { CdcStatusSchema } from './cdc.schema';
import { EdgeEndpointSchema, PropertiesSchema, VersionSchema } from './edge-event.schema';

/**
 * Actionbase's v2 wire format as documented in shared/docs/domain.md ("Actionbase's v2 wire format").
 * Internal: consumers only ever see the native types. Strict to the documented field list, except the
 * mode sub-fields, which real servers omit (see the wal-queued fixture).
 */

const V2EdgeSchema = z.object({
  ts: VersionSchema,
  src: EdgeEndpointSchema,
  tgt: EdgeEndpointSchema,
  props: PropertiesSchema,
  traceId: z.string().min(1),
});

const V2HeaderSchema = z.object({
  version: z.literal('2'),
  tenant: z.string(),
  label: z.string(),
  alias: z.string().nullable(),
  edge: V2EdgeSchema,
  op: z.enum(['INSERT', 'UPDATE', 'DELETE', 'PURGE']),
  audit: z.object({ actor: z.string() }),
  requestId: z.string(),
  ts: z.number().int().nonnegative(),
});

export const V2WalSchema = V2HeaderSchema.extend({
  mode: z.object({
    l: ModeSchema.optional(),
    r: ModeSchema.nullable().optional(),
    s: ModeSchema.nullable().optional(),
    f: z.boolean().optional(),
    queue: z.boolean(),
  }),
});
export type V2Wal = z.infer<typeof V2WalSchema>;

const V2StateSchema = z.object({
  active: z.boolean(),
  ts: VersionSchema,
  src: EdgeEndpointSchema,
  tgt: EdgeEndpointSchema,
  props: PropertiesSchema,
});
export type V2State = z.infer<typeof V2StateSchema>;

export const V2CdcSchema = V2HeaderSchema.extend({
  status: CdcStatusSchema,
  before: V2StateSchema.nullable(),
  after: V2StateSchema.nullable(),
  acc: z.literal([-1, 0, 1]),
  message: z.string().nullable(),
});
export type V2Cdc = z.infer<typeof V2CdcSchema>;
