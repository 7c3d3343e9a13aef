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

/** What the WAL records of one request share: all but the event. */
export type WalShared = Omit<WalRecord, 'event'>;

/**
 * encodeWal for the records of one request, which differ only in their event: the same text as
 * `encodeWal({ ...shared, event })` for every event (encode.spec.ts), with the shared part serialized once.
 * A record the fast checker takes as it is (keys in schema order, nothing to drop) serializes as its parts
 * do, so only its event is serialized per record; any other record goes through encodeWal whole (and is
 * rejected there with zod's error).
 */
export function walEncoder(shared: WalShared): (event: WalRecord['event']) => string {
  let head: string | undefined;
  let tail = '';
  return (event) => {
    const record: WalRecord = {
      version: shared.version,
      type: shared.type,
      processedAt: shared.processedAt,
      context: shared.context,
      event,
      mode: shared.mode,
    };
    if (fastWal(record) !== record) return encodeWal(record);
    if (head === undefined) {
      head = `{"version":${JSON.stringify(shared.version)},"type":${JSON.stringify(shared.type)},"processedAt":${JSON.stringify(shared.processedAt)},"context":${JSON.stringify(shared.context)},"event":`;
      tail = `,"mode":${JSON.stringify(shared.mode)}}`;
    }
    return head + stringify(event, 'WAL record') + tail;
  };
}
