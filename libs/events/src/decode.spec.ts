import { describe, it, expect } from '@jest/globals';
import { EventDecodeError, decodeRecord, type CdcRecord, type WalRecord } from './index';
import { edgeCdc, edgeWal } from './spec-helpers';

const nativeWal = (): WalRecord => ({
  version: '3',
  type: 'e',
  processedAt: 1010,
  context: { tenant: 'demo', database: 'shop', table: 'likes', alias: null, request: { actor: 'web', requestId: 'r-1' } },
  event: {
    id: '01KB0ZQ3M4N8RW6T2Y5V9XHJ7C',
    requestId: 'r-1',
    type: 'INSERT',
    version: 1000,
    source: 'u-1',
    target: 7,
    properties: { created_at: 1000 },
  },
  mode: { table: 'SYNC', request: null, queue: false },
});

const nativeCdc = (): CdcRecord => ({
  version: '3',
  type: 'e',
  processedAt: 1020,
  lockAt: 1012,
  seq: 5,
  status: 'CREATED',
  accumulator: 1,
  message: null,
  context: nativeWal().context,
  events: [nativeWal().event],
  before: null,
  after: {
    source: 'u-1',
    target: 7,
    active: true,
    version: 1000,
    createdAt: 1000,
    deletedAt: null,
    properties: { created_at: { value: 1000, version: 1000 } },
  },
});

function thrown(fn: () => unknown): EventDecodeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventDecodeError) return error;
    throw error;
  }
  throw new Error('expected an EventDecodeError');
}

describe('native (v3) decoding', () => {
  it('decodes a WAL record from a Buffer, a string and a parsed object alike', () => {
    const record = nativeWal();
    const text = JSON.stringify(record);
    expect(edgeWal(Buffer.from(text, 'utf8'))).toStrictEqual(record);
    expect(edgeWal(new TextEncoder().encode(text))).toStrictEqual(record);
    expect(edgeWal(text)).toStrictEqual(record);
    expect(edgeWal(JSON.parse(text))).toStrictEqual(record);
  });

  it('decodes a CDC record', () => {
    expect(edgeCdc(JSON.stringify(nativeCdc()))).toStrictEqual(nativeCdc());
  });

  it('decodeRecord dispatches on kind', () => {
    expect(decodeRecord('wal', JSON.stringify(nativeWal()))).toStrictEqual(nativeWal());
    expect(decodeRecord('cdc', JSON.stringify(nativeCdc()))).toStrictEqual(nativeCdc());
  });

  it('accepts a leading byte-order mark', () => {
    expect(edgeWal(`\uFEFF${JSON.stringify(nativeWal())}`)).toStrictEqual(nativeWal());
  });

  it('drops unknown fields at every level (forward compatibility)', () => {
    const base = nativeCdc();
    const input = {
      ...base,
      newTopLevel: { x: 1 },
      context: { ...base.context, region: 'kr', request: { ...base.context.request, ip: '10.0.0.1' } },
      events: [{ ...base.events[0], traceparent: 'abc' }],
      after: {
        ...base.after,
        ttl: 3,
        properties: { created_at: { value: 1000, version: 1000, writer: 'x' } },
      },
    };
    expect(edgeCdc(input)).toStrictEqual(base);
  });

  it('keeps unknown property names: properties are open, the table schema decides them', () => {
    const record = nativeWal();
    record.event.properties = { anything: { nested: [1, 'two', null] } };
    expect(edgeWal(JSON.stringify(record)).event.properties).toStrictEqual({ anything: { nested: [1, 'two', null] } });
  });

  it('keeps optional fields when present: multi-edge id, system mode, force, seq', () => {
    const wal = nativeWal();
    wal.event.edgeId = 'g-1';
    wal.mode = { table: 'ASYNC', request: 'SYNC', system: null, force: true, queue: false };
    expect(edgeWal(JSON.stringify(wal))).toStrictEqual(wal);
  });

  it('accepts CDC ERROR records without state and a PURGED status', () => {
    const error = { ...nativeCdc(), status: 'ERROR' as const, accumulator: 0 as const, message: 'boom', after: null };
    expect(edgeCdc(error)).toStrictEqual(error);
    const purged = { ...nativeCdc(), status: 'PURGED' as const, accumulator: -1 as const, after: null };
    expect(edgeCdc(purged).status).toBe('PURGED');
  });
});

describe('malformed input', () => {
  it('bad JSON -> MALFORMED_JSON', () => {
    const error = thrown(() => edgeWal('{"version":"3",'));
    expect(error).toMatchObject({ code: 'MALFORMED_JSON', path: '', retryable: false, name: 'EventDecodeError' });
    expect(error.message).toMatch(/^malformed WAL record: not valid JSON/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(error).toBeInstanceOf(Error);
  });

  it('bytes that are not UTF-8 -> MALFORMED_JSON', () => {
    const error = thrown(() => edgeCdc(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    expect(error).toMatchObject({ code: 'MALFORMED_JSON', message: 'malformed CDC record: value is not valid UTF-8' });
  });

  it.each([
    ['"1"', '"1" (string)'],
    ['3', '3 (number)'],
    ['null', 'null (null)'],
  ])('version %s -> UNKNOWN_VERSION', (version, received) => {
    const error = thrown(() => edgeWal(`{"version":${version},"type":"e"}`));
    expect(error).toMatchObject({ code: 'UNKNOWN_VERSION', path: 'version' });
    expect(error.message).toBe(
      `unknown WAL record version at version: expected "3" (native) or "2" (Actionbase v2), received ${received}`,
    );
  });

  it('missing version -> UNKNOWN_VERSION', () => {
    const { version: _version, ...rest } = nativeWal();
    expect(thrown(() => edgeWal(rest)).message).toMatch(/at version: .*received nothing \(field missing\)$/);
  });

  it.each([
    ['null', 'null'],
    ['[1]', 'array'],
    ['"text"', 'string'],
  ])('%s is not a record -> INVALID_RECORD at the root', (json, received) => {
    const error = thrown(() => edgeCdc(json));
    expect(error).toMatchObject({ code: 'INVALID_RECORD', path: '' });
    expect(error.message).toBe(`invalid CDC record at (root): expected object, received ${received}`);
  });

  it('wrong type -> INVALID_RECORD naming the path', () => {
    const input = nativeWal() as unknown as { event: { version: unknown } };
    input.event.version = '1000';
    const error = thrown(() => edgeWal(input));
    expect(error).toMatchObject({ code: 'INVALID_RECORD', path: 'event.version', retryable: false });
    expect(error.message).toBe('invalid WAL record at event.version: expected integer, received string');
    expect(error.cause).toBeDefined();
  });

  it('missing field -> INVALID_RECORD naming the path', () => {
    const input = nativeWal() as unknown as { context: { request: Record<string, unknown> } };
    delete input.context.request['actor'];
    const error = thrown(() => edgeWal(input));
    expect(error).toMatchObject({ code: 'INVALID_RECORD', path: 'context.request.actor' });
    expect(error.message).toBe(
      'invalid WAL record at context.request.actor: expected string, received nothing (field missing)',
    );
  });

  it('paths index into arrays', () => {
    const input = nativeCdc() as unknown as { events: Array<Record<string, unknown>> };
    input.events[0]!['type'] = 'UPSERT';
    const error = thrown(() => edgeCdc(input));
    expect(error.path).toBe('events[0].type');
    expect(error.message).toBe(
      'invalid CDC record at events[0].type: expected "INSERT" | "UPDATE" | "DELETE", received "UPSERT"',
    );
  });

  it('paths quote property names that are not identifiers', () => {
    const input = nativeCdc() as unknown as { after: { properties: Record<string, unknown> } };
    input.after.properties['created-at'] = { version: 1 };
    const error = thrown(() => edgeCdc(input));
    expect(error.path).toBe('after.properties["created-at"].value');
    expect(error.message).toMatch(/expected a value \(null when unset\), received nothing \(field missing\)$/);
  });

  it('source must be a string or a LONG (an inexact number, already rounded by whoever parsed it, is refused)', () => {
    const input = nativeWal() as unknown as { event: Record<string, unknown> };
    input.event['source'] = true;
    expect(thrown(() => edgeWal(input)).message).toBe(
      'invalid WAL record at event.source: expected string or integer, received boolean',
    );
    input.event['source'] = 2 ** 60;
    expect(thrown(() => edgeWal(input))).toMatchObject({ path: 'event.source' });
  });

  it('version must be an integer; a ns stamp beyond 2^53 decodes exactly, as a bigint', () => {
    const input = nativeWal();
    input.event.version = 1.5;
    expect(thrown(() => edgeWal(input)).message).toBe(
      'invalid WAL record at event.version: expected integer, received number',
    );
    const text = JSON.stringify(nativeWal()).replace(/"version":\d+/, '"version":1764115200000000001');
    expect(edgeWal(text).event.version).toBe(1764115200000000001n);
    expect(edgeWal(Buffer.from(text)).event.version).toBe(1764115200000000001n);
  });

  it('a LONG beyond the signed 64-bit range is refused, naming the field', () => {
    const text = JSON.stringify(nativeWal()).replace(/"source":"[^"]*"/, '"source":9223372036854775808');
    expect(thrown(() => edgeWal(text))).toMatchObject({ code: 'INVALID_RECORD', path: 'event.source' });
  });

  it('a CDC record needs at least one event and an accumulator of -1, 0 or 1', () => {
    expect(thrown(() => edgeCdc({ ...nativeCdc(), events: [] })).path).toBe('events');
    expect(thrown(() => edgeCdc({ ...nativeCdc(), accumulator: 2 })).message).toBe(
      'invalid CDC record at accumulator: expected -1 | 0 | 1, received 2',
    );
  });

  it('reports how many more problems there are', () => {
    const input = { ...nativeWal(), type: 'x', processedAt: 'now' };
    expect(thrown(() => edgeWal(input)).message).toBe(
      'invalid WAL record at type: expected "e", received "x" (and 1 more problem)',
    );
  });

  it('a WAL record is not a CDC record', () => {
    expect(thrown(() => edgeCdc(JSON.stringify(nativeWal())))).toMatchObject({ code: 'INVALID_RECORD' });
  });
});
