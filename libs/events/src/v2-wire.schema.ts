import { z } from 'zod';
import { ModeSchema } from './wal.schema';
import { CdcStatusSchema } from './cdc.schema';
import { EdgeEndpointSchema, PropertiesSchema, VersionSchema } from './edge-event.schema';

/**
 * Actionbase's v2 wire format as documented in docs/records.md ("Actionbase's v2 wire format"), with
 * the optionality of Actionbase's own serializers and deserializers (engine WalLog and CdcContext, core-java
 * MessageV2, WALV2, CDCV2 and their tests). Internal: consumers only ever see the native types.
 *   - alias, before, after, message: @Nullable, so null or absent.
 *   - mode (WAL), audit, requestId: defaulted when absent (mode {l: SYNC, r: null, queue: false}, actor
 *     "default", requestId ""); the mode sub-fields s and f are absent from core-java's MutationContext.
 *   - edge.props, state props: serialized only when non-empty (core-java EdgeModel, JsonInclude NON_EMPTY).
 */

const PropsSchema = PropertiesSchema.optional();

const V2EdgeSchema = z.object({
  ts: VersionSchema,
  src: EdgeEndpointSchema,
  tgt: EdgeEndpointSchema,
  props: PropsSchema,
  traceId: z.string().min(1),
});

const V2HeaderSchema = z.object({
  version: z.literal('2'),
  tenant: z.string(),
  label: z.string(),
  alias: z.string().nullish(),
  edge: V2EdgeSchema,
  op: z.enum(['INSERT', 'UPDATE', 'DELETE', 'PURGE']),
  audit: z.object({ actor: z.string() }).optional(),
  requestId: z.string().optional(),
  ts: z.number().int().nonnegative(),
});

export const V2WalSchema = V2HeaderSchema.extend({
  mode: z
    .object({
      l: ModeSchema.optional(),
      r: ModeSchema.nullable().optional(),
      s: ModeSchema.nullable().optional(),
      f: z.boolean().optional(),
      queue: z.boolean(),
    })
    .optional(),
});
export type V2Wal = z.infer<typeof V2WalSchema>;

const V2StateSchema = z.object({
  active: z.boolean(),
  ts: VersionSchema,
  src: EdgeEndpointSchema,
  tgt: EdgeEndpointSchema,
  props: PropsSchema,
});
export type V2State = z.infer<typeof V2StateSchema>;

export const V2CdcSchema = V2HeaderSchema.extend({
  status: CdcStatusSchema,
  before: V2StateSchema.nullish(),
  after: V2StateSchema.nullish(),
  acc: z.literal([-1, 0, 1]),
  message: z.string().nullish(),
});
export type V2Cdc = z.infer<typeof V2CdcSchema>;
