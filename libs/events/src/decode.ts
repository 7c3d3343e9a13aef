import { EventDecodeError, describeValue, parseOrThrow, preview } from './errors';
import { CdcRecordSchema, type CdcRecord } from './cdc.schema';
import { WalRecordSchema, type WalRecord } from './wal.schema';
import { cdcFromV2, walFromV2 } from './v2-decoder';
import { fastCdc, fastWal } from './fast-decode';
import { cdcFromActionbaseV3, vertexCdc, vertexWal, walFromActionbaseV3 } from './v3-compat';
import type { CdcVertexRecord, WalVertexRecord } from './vertex.schema';
import { parseJson } from './json';

export type RecordKind = 'wal' | 'cdc';

/**
 * What the WAL topic holds: edge records (`type: "e"`, WalRecord) and vertex records (`type: "v"`). No
 * consumer acts on vertex records yet; each skips them (isVertexRecord) and counts them.
 */
export type DecodedWal = WalRecord | WalVertexRecord;
/** What the CDC topic holds: edge records (CdcRecord) and vertex records. */
export type DecodedCdc = CdcRecord | CdcVertexRecord;
export type AnyRecord = DecodedWal | DecodedCdc;

export function isVertexRecord(record: DecodedWal): record is WalVertexRecord;
export function isVertexRecord(record: DecodedCdc): record is CdcVertexRecord;
export function isVertexRecord(record: AnyRecord): record is WalVertexRecord | CdcVertexRecord;
export function isVertexRecord(record: AnyRecord): boolean {
  return record.type === 'v';
}

/**
 * What a decoder accepts: the raw Kafka value (Buffer/Uint8Array, UTF-8 JSON), a JSON string, or an
 * already parsed value. Typed `unknown` because the parsed case can be anything.
 */
export type RecordInput = unknown;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a WAL record: native (version "3"), Actionbase's own version "3" (looser, see v3-compat.ts), or
 * Actionbase's v2 wire format (version "2"). Vertex records decode to their own variant.
 */
export function decodeWal(input: RecordInput): DecodedWal {
  const raw = toJson(input, 'WAL');
  if (formatOf(raw, 'WAL') !== '3') return walFromV2(raw);
  if (isVertex(raw)) return vertexWal(raw);
  // The fast checker only sees what the JSON parser made here (see fast-decode.ts); zod has the last word, and the error.
  return (raw !== input && fastWal(raw)) || nativeWal(raw);
}

/** Decodes a CDC record; the same formats as decodeWal. */
export function decodeCdc(input: RecordInput): DecodedCdc {
  const raw = toJson(input, 'CDC');
  if (formatOf(raw, 'CDC') !== '3') return cdcFromV2(raw);
  if (isVertex(raw)) return vertexCdc(raw);
  return (raw !== input && fastCdc(raw)) || nativeCdc(raw);
}

/** formatOf has already checked that raw is an object. */
const isVertex = (raw: unknown): boolean => (raw as { type?: unknown }).type === 'v';

/** The native schema's result; failing that, Actionbase's looser v3; failing both, the native schema's error. */
function nativeWal(raw: unknown): WalRecord {
  const result = WalRecordSchema.safeParse(raw);
  if (result.success) return result.data;
  return walFromActionbaseV3(raw) ?? parseOrThrow(WalRecordSchema, raw, 'WAL record');
}

function nativeCdc(raw: unknown): CdcRecord {
  const result = CdcRecordSchema.safeParse(raw);
  if (result.success) return result.data;
  return cdcFromActionbaseV3(raw) ?? parseOrThrow(CdcRecordSchema, raw, 'CDC record');
}

export function decodeRecord(kind: 'wal', input: RecordInput): DecodedWal;
export function decodeRecord(kind: 'cdc', input: RecordInput): DecodedCdc;
export function decodeRecord(kind: RecordKind, input: RecordInput): AnyRecord;
export function decodeRecord(kind: RecordKind, input: RecordInput): AnyRecord {
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
    return parseJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
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
