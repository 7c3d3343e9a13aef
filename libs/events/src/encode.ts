import type { z } from 'zod';
import { EventEncodeError, describePath, summarizeZodError } from './errors';
import { CdcRecordSchema, type CdcRecord } from './cdc.schema';
import { WalRecordSchema, type WalRecord } from './wal.schema';
import { fastCdc, fastWal } from './fast-decode';
import { stringifyJson } from './json';

/**
 * Validate before publishing: a record that reached Kafka is read by every consumer, so a bad one must
 * fail in the producer that made it, where the bug is. The parsed (not the given) object is serialized,
 * so fields outside the schema never leak onto the topic.
 */
function encode<S extends z.ZodType>(schema: S, record: unknown, what: string, fast: (r: unknown) => unknown): string {
  // The hand-compiled checker accepts exactly what zod accepts, with the same output (fast-decode.ts);
  // the core encodes every WAL and CDC record on its hot path. zod runs only to explain a rejection.
  const checked = fast(record);
  if (checked !== undefined) return stringify(checked, what);
  const result = schema.safeParse(record);
  if (!result.success) {
    const { path, detail } = summarizeZodError(result.error, record);
    throw new EventEncodeError({
      path,
      message: `cannot encode ${what}: invalid at ${describePath(path)}: ${detail}`,
      cause: result.error,
    });
  }
  return stringify(result.data, what);
}

function stringify(data: unknown, what: string): string {
  try {
    return stringifyJson(data);
  } catch (cause) {
    // Property values are open (unknown); a cycle among them only shows up here.
    throw new EventEncodeError({
      path: '',
      message: `cannot encode ${what}: not serializable to JSON (${(cause as Error).message})`,
      cause,
    });
  }
}

export function encodeWal(record: WalRecord): string {
  return encode(WalRecordSchema, record, 'WAL record', fastWal);
}

export function encodeCdc(record: CdcRecord): string {
  return encode(CdcRecordSchema, record, 'CDC record', fastCdc);
}
