import { z } from 'zod';
import { parseOrThrow } from './errors';
import { RecordContextSchema } from './context.schema';
import { CdcRecordSchema, CdcStateSchema, type CdcRecord } from './cdc.schema';
import { EdgeEventSchema } from './edge-event.schema';
import { WalModeSchema, WalRecordSchema, type WalRecord } from './wal.schema';
import {
  CdcVertexRecordSchema,
  VertexEventSchema,
  VertexStateSchema,
  WalVertexRecordSchema,
  type CdcVertexRecord,
  type WalVertexRecord,
} from './vertex.schema';

/*
 * Version "3" as Actionbase's own serializers write it (core-java WALV3Edge, CDCV3Edge, WALV3Vertex,
 * CDCV3Vertex), which is looser than what our core writes. Read only when the native schema refuses a
 * record, and normalized to the native shape:
 *   context.alias absent                -> null            (@Nullable)
 *   event.requestId null or absent      -> ""              (@Nullable, null by default)
 *   mode.table / mode.request "DROP"    -> "IGNORE"        (v3 MutationMode; DROP is v2's IGNORE)
 *   message, before, after absent       -> null            (@Nullable)
 * The optional fields are those Actionbase's deserializer tests leave out (WALDeserializerTest,
 * CDCDeserializerTest: alias; before, after, message), plus what an absent @Nullable/@Value.Default event
 * field becomes. Not mapped: mode "DENY" (a read-only table; Actionbase's engine refuses the write before
 * any WAL). A property cell keeps its required value (null when unset), as StateValue is written.
 */

const orNull = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? null);
const orEmpty = z.string().nullish().transform((v) => v ?? '');
const V3Mode = z.enum(['SYNC', 'ASYNC', 'IGNORE', 'DROP']).transform((m) => (m === 'DROP' ? 'IGNORE' : m));

const Context = RecordContextSchema.extend({ alias: orNull(z.string()) });
const Mode = WalModeSchema.extend({ table: V3Mode, request: orNull(V3Mode) });

const EdgeEvent = EdgeEventSchema.extend({ requestId: orEmpty });
const EdgeWal = WalRecordSchema.extend({ context: Context, event: EdgeEvent, mode: Mode });
const EdgeCdc = CdcRecordSchema.extend({
  message: orNull(z.string()),
  context: Context,
  events: z.array(EdgeEvent).min(1),
  before: orNull(CdcStateSchema),
  after: orNull(CdcStateSchema),
});

const VertexEvent = VertexEventSchema.extend({ requestId: orEmpty });
const VertexWal = WalVertexRecordSchema.extend({ context: Context, event: VertexEvent, mode: Mode });
const VertexCdc = CdcVertexRecordSchema.extend({
  message: orNull(z.string()),
  context: Context,
  events: z.array(VertexEvent).min(1),
  before: orNull(VertexStateSchema),
  after: orNull(VertexStateSchema),
});

/**
 * An edge record the native schema refused, read as Actionbase writes it; undefined when that fails too (the
 * caller then reports the native schema's error, which names what our own format expects).
 */
export function walFromActionbaseV3(raw: unknown): WalRecord | undefined {
  const r = EdgeWal.safeParse(raw);
  // Re-parsed by the native schema: same key order and the same guarantees as a native record.
  return r.success ? WalRecordSchema.parse(r.data) : undefined;
}

export function cdcFromActionbaseV3(raw: unknown): CdcRecord | undefined {
  const r = EdgeCdc.safeParse(raw);
  return r.success ? CdcRecordSchema.parse(r.data) : undefined;
}

export function vertexWal(raw: unknown): WalVertexRecord {
  return WalVertexRecordSchema.parse(parseOrThrow(VertexWal, raw, 'vertex WAL record'));
}

export function vertexCdc(raw: unknown): CdcVertexRecord {
  return CdcVertexRecordSchema.parse(parseOrThrow(VertexCdc, raw, 'vertex CDC record'));
}
