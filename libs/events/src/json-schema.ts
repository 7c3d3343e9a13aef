import { z } from 'zod';
import { CdcRecordSchema } from './cdc.schema';
import { WalRecordSchema } from './wal.schema';

function toJsonSchema(schema: z.ZodType, title: string): Record<string, unknown> {
  // io 'input' describes what a reader must accept: without it zod emits additionalProperties:false,
  // which would make consumers in other languages reject records from a newer producer.
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
  return { $schema, title, ...rest };
}

/** JSON Schemas (draft 2020-12) of the native records, for consumers written in other languages. */
export function toJsonSchemas(): { wal: Record<string, unknown>; cdc: Record<string, unknown> } {
  return {
    wal: toJsonSchema(WalRecordSchema, 'Actionbase WAL record, native format v3'),
    cdc: toJsonSchema(CdcRecordSchema, 'Actionbase CDC record, native format v3'),
  };
}

/** File name -> content of the committed schema files (libs/events/json-schema/); one renderer for the script and the drift test. */
export function renderJsonSchemaFiles(): Record<string, string> {
  const { wal, cdc } = toJsonSchemas();
  return {
    'wal.v3.schema.json': `${JSON.stringify(wal, null, 2)}\n`,
    'cdc.v3.schema.json': `${JSON.stringify(cdc, null, 2)}\n`,
  };
}
