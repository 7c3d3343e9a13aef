import { EventDecodeError, describeValue, parseOrThrow, preview } from './errors';
import { CdcRecordSchema, type CdcRecord } from './cdc.schema';
import { WalRecordSchema, type WalRecord } from './wal.schema';
import { cdcFromV2, walFromV2 } from './v2-decoder';
import { fastCdc, fastWal } from './fast-decode';

export type RecordKind = 'wal' | 'cdc';

/**
 * What a decoder accepts: the raw Kafka value (Buffer/Uint8Array, UTF-8 JSON), a JSON string, or an
 * already parsed value. Typed `unknown` because the parsed case can be anything.
 */
export type RecordInput = unknown;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes a WAL record, native (version "3") or Actionbase v2 wire format (version "2"). */
export function decodeWal(input: RecordInput): WalRecord {
  const raw = toJson(input, 'WAL');
  if (formatOf(raw, 'WAL') !== '3') return walFromV2(raw);
  // The fast checker only sees what JSON.parse made here (see fast-decode.ts); zod has the last word, and the error.
  return (raw !== input && fastWal(raw)) || parseOrThrow(WalRecordSchema, raw, 'WAL record');
}

/** Decodes a CDC record, native (version "3") or Actionbase v2 wire format (version "2"). */
export function decodeCdc(input: RecordInput): CdcRecord {
  const raw = toJson(input, 'CDC');
  if (formatOf(raw, 'CDC') !== '3') return cdcFromV2(raw);
  return (raw !== input && fastCdc(raw)) || parseOrThrow(CdcRecordSchema, raw, 'CDC record');
}

export function decodeRecord(kind: 'wal', input: RecordInput): WalRecord;
export function decodeRecord(kind: 'cdc', input: RecordInput): CdcRecord;
export function decodeRecord(kind: RecordKind, input: RecordInput): WalRecord | CdcRecord;
export function decodeRecord(kind: RecordKind, input: RecordInput): WalRecord | CdcRecord {
  if (kind === 'wal') return decodeWal(input);
  if (kind === 'cdc') return decodeCdc(input);
  throw new TypeError(`decodeRecord: unknown record kind ${JSON.stringify(kind)} (expected "wal" or "cdc")`);
}

function toJson(input: unknown, what: string): unknown {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else if (input instanceof Uint8Array) {
    try {
      text = utf8.decode(input);
    } catch (cause) {
      throw new EventDecodeError({
        code: 'MALFORMED_JSON',
        path: '',
        message: `malformed ${what} record: value is not valid UTF-8`,
        cause,
      });
    }
  } else {
    return input;
  }
  try {
    // Some producers prepend a byte-order mark; JSON.parse rejects it.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (cause) {
    throw new EventDecodeError({
      code: 'MALFORMED_JSON',
      path: '',
      message: `malformed ${what} record: not valid JSON (${(cause as Error).message})`,
      cause,
    });
  }
}

function formatOf(raw: unknown, what: string): '2' | '3' {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new EventDecodeError({
      code: 'INVALID_RECORD',
      path: '',
      message: `invalid ${what} record at (root): expected object, received ${describeValue(raw)}`,
    });
  }
  const version = (raw as { version?: unknown }).version;
  if (version === '3' || version === '2') return version;
  const received = version === undefined ? 'nothing (field missing)' : `${preview(version)} (${describeValue(version)})`;
  throw new EventDecodeError({
    code: 'UNKNOWN_VERSION',
    path: 'version',
    message: `unknown ${what} record version at version: expected "3" (native) or "2" (Actionbase v2), received ${received}`,
  });
}
