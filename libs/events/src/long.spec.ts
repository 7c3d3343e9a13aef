/**
 * LONG convention (long.ts): integers within ±(2^53 - 1) are numbers, larger ones bigints in memory and plain
 * JSON integers on the wire, through every decoder (zod, the fast path, v2, Actionbase v3) and encoder.
 */
import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { encodeCdc, encodeWal } from './index';
import { hasLongDigitRun, parseJson, stringifyJson } from './json';
import { INT64_MAX, INT64_MIN, LongRangeError, longOf, safeEndpoint, safeNumber, safeState } from './long';
import { edgeCdc, edgeWal, readSample } from './spec-helpers';
import { fastCdc, fastWal } from './fast-decode';
import { CdcRecordSchema } from './cdc.schema';
import { WalRecordSchema } from './wal.schema';

const BIG = 9007199254740993n; // 2^53 + 1: JSON.parse reads 9007199254740992

const nativeWal = () => edgeWal(readSample('v3/wal-insert.json'));
const nativeCdc = () => edgeCdc(readSample('v3/cdc-created.json'));

describe('JSON with LONGs', () => {
  it('parses integers beyond 2^53 as exact bigints, everything else as JSON.parse does', () => {
    expect(parseJson('{"a":9007199254740993,"b":9007199254740991,"c":-9223372036854775808,"d":1.5,"e":"9007199254740993"}')).toEqual({
      a: BIG,
      b: 9007199254740991,
      c: INT64_MIN,
      d: 1.5,
      e: '9007199254740993',
    });
    expect(parseJson('{"id":"01KB0ZQ3M4N8RW6T2Y5V9XHJ7C","n":1234567890123456}')).toEqual({ id: '01KB0ZQ3M4N8RW6T2Y5V9XHJ7C', n: 1234567890123456 });
    // Same duplicate-key and __proto__ behaviour as JSON.parse on both paths.
    for (const pad of ['', ',"x":12345678901234567']) {
      const parsed = parseJson(`{"k":1,"k":2,"__proto__":{"p":1}${pad}}`) as Record<string, unknown>;
      expect(parsed['k']).toBe(2);
      expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(parsed, '__proto__')).toBe(true);
    }
  });

  it('writes bigints as unquoted integers', () => {
    expect(stringifyJson({ a: BIG, b: [INT64_MAX], c: 'x', d: 1 })).toBe('{"a":9007199254740993,"b":[9223372036854775807],"c":"x","d":1}');
    expect(stringifyJson({ a: 1 })).toBe('{"a":1}');
  });

  it('any int64 survives stringify -> parse, in canonical form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (b) => {
        const back = (parseJson(stringifyJson({ v: b })) as { v: unknown }).v;
        expect(back).toBe(longOf(String(b)));
        expect(BigInt(back as number | bigint)).toBe(b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('records with LONGs', () => {
  it('9007199254740993 in properties, source/target and version survives decode -> encode exactly', () => {
    const wal = nativeWal();
    const text = encodeWal({ ...wal, event: { ...wal.event, source: BIG, target: -BIG, version: BIG, properties: { n: BIG } } });
    expect(text).toContain('"version":9007199254740993,"source":9007199254740993,"target":-9007199254740993');
    expect(text).toContain('"properties":{"n":9007199254740993}');
    const back = edgeWal(text);
    expect(back.event).toMatchObject({ source: BIG, target: -BIG, version: BIG, properties: { n: BIG } });
    expect(encodeWal(back)).toBe(text);
    expect(edgeWal(Buffer.from(text))).toStrictEqual(back);
  });

  it('the v2 fixtures with 64-bit ids and a ns version decode exactly', () => {
    const wal = edgeWal(readSample('v2/wal-long-ids.json'));
    expect(wal.event).toMatchObject({
      version: 1764115200000000001n,
      source: BIG,
      target: INT64_MIN,
      properties: { weight: INT64_MAX, created_at: 1764115200000 },
    });
    const cdc = edgeCdc(readSample('v2/cdc-long-ids.json'));
    expect(cdc.after).toMatchObject({ source: BIG, target: INT64_MIN, version: 1764115200000000001n, createdAt: 1764115200000000001n });
    expect(cdc.after!.properties['weight']).toEqual({ value: INT64_MAX, version: 1764115200000000001n });
    expect(encodeCdc(cdc)).toContain('"source":9007199254740993,"target":-9223372036854775808');
  });

  it('any LONG in source, target, edgeId, version, state and properties round-trips through encode/decode', () => {
    const long = fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((b) => longOf(String(b)));
    fc.assert(
      fc.property(long, long, long, long, long, (source, target, edgeId, version, value) => {
        const base = nativeCdc();
        const event = { ...base.events[0]!, source, target, edgeId, version, properties: { value } };
        const state = { ...base.after!, source, target, edgeId, version, createdAt: version, properties: { value: { value, version } } };
        const record = { ...base, events: [event], after: state };
        const text = encodeCdc(record);
        expect(edgeCdc(text)).toStrictEqual(edgeCdc(encodeCdc(edgeCdc(text))));
        expect(edgeCdc(text).after).toStrictEqual(state);
        expect(edgeCdc(text).events[0]).toStrictEqual(event);
        expect(text).not.toMatch(/"-?\d{16,}"/); // never quoted
      }),
      { numRuns: 300 },
    );
  });

  it('parses first and asks about exactness after: the same records as scanning the text first, numbers anywhere in the properties', () => {
    // The path decode took before: the scan, then JSON.parse or lossless-json, then the checker (zod for the rest).
    const before = (text: string, kind: 'wal' | 'cdc') => {
      const raw = parseJson(text);
      return kind === 'wal' ? (fastWal(raw) ?? WalRecordSchema.parse(raw)) : (fastCdc(raw) ?? CdcRecordSchema.parse(raw));
    };
    // Integers on both sides of 2^53 - 1, fractions, exponents (a double of magnitude >= 2^53 from a literal that is no integer).
    const num = fc.oneof(
      fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }).map((b) => ({ text: String(b) })),
      fc.bigInt({ min: 9007199254740991n - 3n, max: 9007199254740991n + 3n }).map((b) => ({ text: String(b) })),
      fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((b) => ({ text: String(b) })),
      fc.constantFrom('1.5', '-0.25', '1e20', '9007199254740991.9', '1.0000000000000000001', '1e300', '-0', '12345678901234567.5').map((text) => ({ text })),
    );
    const value = fc.oneof(num.map((n) => n.text), fc.array(num.map((n) => n.text), { maxLength: 3 }).map((xs) => `[${xs.join(',')}]`), num.map((n) => `{"n":${n.text}}`));
    const spot = fc.constantFrom('event', 'before', 'after');
    fc.assert(
      fc.property(value, spot, (v, where) => {
        const cdc = nativeCdc();
        const state = { ...cdc.after!, properties: { ...cdc.after!.properties, x: { value: 0, version: 1 } } };
        let text = encodeCdc({ ...cdc, events: [{ ...cdc.events[0]!, properties: { ...cdc.events[0]!.properties, x: 0 } }], before: where === 'before' ? state : null, after: state });
        // The marker value 0 at the chosen spot becomes the literal.
        const marker = where === 'event' ? '"x":0' : '"x":{"value":0';
        const at = where === 'after' ? text.lastIndexOf(marker) : text.indexOf(marker);
        text = text.slice(0, at) + marker.replace(/0$/, v) + text.slice(at + marker.length);
        expect(edgeCdc(text)).toStrictEqual(before(text, 'cdc'));
        const wal = nativeWal();
        const walText = encodeWal({ ...wal, event: { ...wal.event, properties: { ...wal.event.properties, x: 0 } } }).replace('"x":0', `"x":${v}`);
        expect(edgeWal(walText)).toStrictEqual(before(walText, 'wal'));
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses what is not a LONG: beyond 64 bits, or a number that is already inexact', () => {
    const text = encodeWal(nativeWal()).replace('"version":1764115200000', '"version":9223372036854775808');
    expect(() => edgeWal(text)).toThrow('invalid WAL record at event.version');
    const wal = nativeWal();
    expect(() => encodeWal({ ...wal, event: { ...wal.event, version: 2 ** 60 } })).toThrow('event.version');
  });
});

describe('the scan that picks the parser', () => {
  // The reference: a maximal run of digits that touches no double quote (a run touching one is inside a string)
  // and is longer than 16 digits or, of 16, beyond Number.MAX_SAFE_INTEGER read as an integer (JSON.parse may
  // round it). Runs longer than 16 count whatever their value: a JSON integer has no leading zeros.
  const MAX = BigInt(Number.MAX_SAFE_INTEGER);
  const reference = (t: string) => [...t.matchAll(/(?<![\d"])\d{16,}(?![\d"])/g)].some(([run]) => run.length > 16 || BigInt(run) > MAX);
  const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
  it('agrees with a reference for maximal digit runs outside quotes beyond 2^53 - 1, wherever the runs fall', () => {
    // 16-digit runs near the bound on either side, runs of every length, and the characters around them.
    const near = fc.bigInt({ min: 9007199254740991n - 10n ** 6n, max: 9007199254740991n + 10n ** 6n }).map(String);
    const piece = fc.oneof(digits(1, 20), digits(16, 16), near, fc.string({ maxLength: 5 }), fc.constantFrom('"', ',', ':', '-', '.', '٣'));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join('');
        expect(hasLongDigitRun(text)).toBe(reference(text));
      }),
      { numRuns: 3_000 },
    );
    for (let len = 0; len < 70; len++) {
      for (const at of [0, 1, 7, 15, 16, 17, 31]) {
        const text = 'x'.repeat(at) + '9'.repeat(len) + 'y';
        expect(hasLongDigitRun(text)).toBe(len >= 16);
        const ones = 'x'.repeat(at) + '1'.repeat(len) + 'y';
        expect(hasLongDigitRun(ones)).toBe(len >= 17);
      }
    }
  });

  it('keeps JSON.parse for 16-digit integers up to 2^53 - 1 (the CDC seq), and is exact on both sides of the bound', () => {
    for (const v of ['1764115200000000', '9007199254740991', '-9007199254740991', '0000000000000001']) expect(hasLongDigitRun(`{"seq":${v}}`)).toBe(false);
    for (const v of ['9007199254740992', '9007199254740993', '9999999999999999', '-9007199254740992', '10000000000000000']) expect(hasLongDigitRun(`{"seq":${v}}`)).toBe(true);
    fc.assert(
      fc.property(fc.bigInt({ min: 10n ** 15n, max: 10n ** 16n - 1n }), fc.boolean(), (v, negative) => {
        const text = `{"seq":${negative ? -v : v},"at":1764115200000}`;
        const parsed = (parseJson(text) as { seq: unknown }).seq;
        expect(BigInt(parsed as number | bigint)).toBe(negative ? -v : v);
        expect(typeof parsed).toBe(v <= BigInt(Number.MAX_SAFE_INTEGER) ? 'number' : 'bigint');
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves digit runs inside strings to JSON.parse, and parses the same either way', () => {
    const bulkAnswer = '{"items":[{"index":{"_id":"cdc:shop.likes:3549123456789012","_version":3549123456789012}}]}';
    const bulkAnswerLong = '{"items":[{"index":{"_id":"cdc:shop.likes:9007199254740993","_version":9007199254740993}}]}';
    expect(hasLongDigitRun('{"_id":"cdc:shop.likes:3549123456789012"}')).toBe(false);
    expect(hasLongDigitRun('{"k":"12345678901234567890"}')).toBe(false);
    expect(hasLongDigitRun(bulkAnswer)).toBe(false); // the _version is a number, exact under JSON.parse
    expect(hasLongDigitRun(bulkAnswerLong)).toBe(true); // this one is not
    expect(parseJson('{"_id":"cdc:shop.likes:3549123456789012345"}')).toEqual({ _id: 'cdc:shop.likes:3549123456789012345' });
    expect(parseJson('{"v":9007199254740993,"id":"9007199254740993"}')).toEqual({ v: 9007199254740993n, id: '9007199254740993' });
  });
});

describe('narrowing for consumers that do not handle bigint yet', () => {
  it('passes numbers and strings through; a bigint is a non-retryable LongRangeError naming the field', () => {
    expect(safeNumber(5, 'version')).toBe(5);
    expect(safeEndpoint('u-1', 'source')).toBe('u-1');
    let error: unknown;
    try {
      safeEndpoint(BIG, 'source');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LongRangeError);
    expect(error).toMatchObject({ code: 'LONG_BEYOND_SAFE_INTEGER', retryable: false });
    expect((error as Error).message).toContain('source is 9007199254740993');
    expect(() => safeState(edgeCdc(readSample('v2/cdc-long-ids.json')).after!)).toThrow(LongRangeError);
    expect(safeState(nativeCdc().after!)).toEqual(nativeCdc().after);
  });
});
