import { EventDecodeError, describeValue, parseOrThrow, preview } from './errors';
import { CdcRecordSchema, type CdcRecord } from './cdc.schema';
import { WalRecordSchema, type WalRecord } from './wal.schema';
import { cdcFromV2, walFromV2 } from './v2-decoder';
import { fastCdc, fastWal } from './fast-decode';
import { cdcFromActionbaseV3, vertexCdc, vertexWal, walFromActionbaseV3 } from './v3-compat';
import type { CdcVertexRecord, WalVertexRecord } from './vertex.schema';
import { hasLongDigitRun, parseJson } from './json';
import type { CdcState } from './cdc.schema';

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
  const text = textOf(input, 'WAL');
  if (text === undefined) return walOf(input, false);
  const raw = parseText(text, 'WAL');
  // The common case in one parse: a native edge record the fast checker takes, whose every number is exact.
  if (isNativeEdge(raw)) {
    const fast = fastWal(raw);
    if (fast !== undefined && exactProperties(fast.event.properties)) return fast;
  }
  return walOf(hasLongDigitRun(text) ? parseLosslessText(text, 'WAL') : raw, true);
}

/** Decodes a CDC record; the same formats as decodeWal. */
export function decodeCdc(input: RecordInput): DecodedCdc {
  const text = textOf(input, 'CDC');
  if (text === undefined) return cdcOf(input, false);
  const raw = parseText(text, 'CDC');
  if (isNativeEdge(raw)) {
    const fast = fastCdc(raw);
    if (fast !== undefined && exactCdc(fast)) return fast;
  }
  return cdcOf(hasLongDigitRun(text) ? parseLosslessText(text, 'CDC') : raw, true);
}

/**
 * `parsed`: raw came from our JSON parser (json.ts). The fast checker only sees such values (see fast-decode.ts);
 * zod has the last word, and the error.
 */
function walOf(raw: unknown, parsed: boolean): DecodedWal {
  if (formatOf(raw, 'WAL') !== '3') return walFromV2(raw);
  if (isVertex(raw)) return vertexWal(raw);
  return (parsed && fastWal(raw)) || nativeWal(raw);
}

function cdcOf(raw: unknown, parsed: boolean): DecodedCdc {
  if (formatOf(raw, 'CDC') !== '3') return cdcFromV2(raw);
  if (isVertex(raw)) return vertexCdc(raw);
  return (parsed && fastCdc(raw)) || nativeCdc(raw);
}

const isNativeEdge = (raw: unknown): boolean =>
  raw !== null && typeof raw === 'object' && (raw as { version?: unknown }).version === '3' && (raw as { type?: unknown }).type === 'e';

/*
 * JSON.parse first, the question of exactness after (instead of json.ts's scan of the text before): a record
 * the fast checker accepted has every LONG field checked as a safe integer, so JSON.parse was exact for those,
 * and only the property values (z.unknown) are left to look at. JSON.parse rounds an integer beyond 2^53 - 1
 * to a double of magnitude >= 2^53, and a double of that magnitude can come from nothing else but a literal of
 * that magnitude, so "no number of magnitude >= 2^53 anywhere in the values" means "nothing was rounded".
 * Otherwise the text takes the path it took before: the scan, and lossless-json when the scan finds a run.
 */
function exactValue(v: unknown): boolean {
  if (typeof v === 'number') return v < 9007199254740992 && v > -9007199254740992;
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!exactValue(v[i])) return false;
    return true;
  }
  for (const k in v) if (!exactValue((v as Record<string, unknown>)[k])) return false;
  return true;
}

function exactProperties(p: Record<string, unknown>): boolean {
  for (const k in p) if (!exactValue(p[k])) return false;
  return true;
}

function exactCells(s: CdcState | null): boolean {
  if (s === null) return true;
  const p = s.properties;
  for (const k in p) if (!exactValue(p[k]!.value)) return false;
  return true;
}

function exactCdc(r: CdcRecord): boolean {
  for (let i = 0; i < r.events.length; i++) if (!exactProperties(r.events[i]!.properties)) return false;
  return exactCells(r.before) && exactCells(r.after);
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

/** The text of a Kafka value or a JSON string; undefined for an already parsed value. */
function textOf(input: unknown, what: string): string | undefined {
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
    return undefined;
  }
  // Some producers prepend a byte-order mark; JSON.parse rejects it.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function malformed(what: string, cause: unknown): EventDecodeError {
  return new EventDecodeError({
    code: 'MALFORMED_JSON',
    path: '',
    message: `malformed ${what} record: not valid JSON (${(cause as Error).message})`,
    cause,
  });
}

function parseText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw malformed(what, cause);
  }
}

function parseLosslessText(text: string, what: string): unknown {
  try {
    return parseJson(text);
  } catch (cause) {
    throw malformed(what, cause);
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
