import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import {
  EventEncodeError,
  encodeCdc,
  encodeWal,
  type CdcRecord,
  type CdcState,
  type EdgeEventRecord,
  type WalRecord,
} from './index';
import { edgeCdc, edgeWal } from './spec-helpers';
import { parseJson, stringifyJson } from './json';
import { INT64_MAX, INT64_MIN, longOf } from './long';

// Zod drops a `__proto__` key from property maps on purpose, so it cannot round-trip as a field name.
const name = fc.string({ maxLength: 12 }).filter((key) => key !== '__proto__');
// JSON has no -0 (JSON.stringify writes 0), so values are drawn from what JSON can represent, in the form the
// decoder gives them (an integer beyond 2^53 as a bigint, long.ts).
const jsonValue = fc.jsonValue().map((value) => parseJson(JSON.stringify(value)));
// LONGs: either half, canonical (a bigint only where a number would not be exact).
const long = fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: INT64_MIN, max: INT64_MAX }).map((b) => longOf(String(b))));
const endpoint = fc.oneof(fc.string({ maxLength: 20 }), long);
const version = long;
const epochMs = fc.maxSafeNat();
const mode = fc.constantFrom('SYNC' as const, 'ASYNC' as const, 'IGNORE' as const);
const properties = fc.dictionary(name, jsonValue, { maxKeys: 5, noNullPrototype: true });

const context = fc.record({
  tenant: fc.string(),
  database: fc.string({ minLength: 1 }),
  table: fc.string({ minLength: 1 }),
  alias: fc.option(fc.string(), { nil: null }),
  request: fc.record({ actor: fc.string(), requestId: fc.string() }, { noNullPrototype: true }),
}, { noNullPrototype: true });

const event: fc.Arbitrary<EdgeEventRecord> = fc.record(
  {
    id: fc.string({ minLength: 1, maxLength: 26 }),
    requestId: fc.string(),
    type: fc.constantFrom('INSERT' as const, 'UPDATE' as const, 'DELETE' as const),
    version,
    source: endpoint,
    target: endpoint,
    edgeId: endpoint,
    properties,
  },
  { noNullPrototype: true, requiredKeys: ['id', 'requestId', 'type', 'version', 'source', 'target', 'properties'] },
);

const walRecord: fc.Arbitrary<WalRecord> = fc.record({
  version: fc.constant('3' as const),
  type: fc.constant('e' as const),
  processedAt: epochMs,
  context,
  event,
  mode: fc.record(
    {
      table: mode,
      request: fc.option(mode, { nil: null }),
      system: fc.option(mode, { nil: null }),
      force: fc.boolean(),
      queue: fc.boolean(),
    },
    { noNullPrototype: true, requiredKeys: ['table', 'request', 'queue'] },
  ),
}, { noNullPrototype: true });

const state: fc.Arbitrary<CdcState> = fc.record(
  {
    source: endpoint,
    target: endpoint,
    edgeId: endpoint,
    active: fc.boolean(),
    version,
    createdAt: fc.option(version, { nil: null }),
    deletedAt: fc.option(version, { nil: null }),
    properties: fc.dictionary(name, fc.record({ value: jsonValue, version }, { noNullPrototype: true }), {
      maxKeys: 5,
      noNullPrototype: true,
    }),
  },
  { noNullPrototype: true, requiredKeys: ['source', 'target', 'active', 'version', 'createdAt', 'deletedAt', 'properties'] },
);

const cdcRecord: fc.Arbitrary<CdcRecord> = fc.record(
  {
    version: fc.constant('3' as const),
    type: fc.constant('e' as const),
    processedAt: epochMs,
    lockAt: epochMs,
    seq: fc.maxSafeNat(),
    status: fc.constantFrom(
      'CREATED' as const,
      'DELETED' as const,
      'UPDATED' as const,
      'IDLE' as const,
      'ERROR' as const,
      'PURGED' as const,
    ),
    accumulator: fc.constantFrom(-1 as const, 0 as const, 1 as const),
    message: fc.option(fc.string(), { nil: null }),
    context,
    events: fc.array(event, { minLength: 1, maxLength: 4 }),
    before: fc.option(state, { nil: null }),
    after: fc.option(state, { nil: null }),
  },
  { noNullPrototype: true, requiredKeys: ['version', 'type', 'processedAt', 'lockAt', 'status', 'accumulator', 'message', 'context', 'events', 'before', 'after'] },
);

describe('encode -> decode round trip', () => {
  it('any valid native WAL record round-trips unchanged', () => {
    fc.assert(
      fc.property(walRecord, (record) => {
        expect(edgeWal(encodeWal(record))).toStrictEqual(record);
        expect(edgeWal(Buffer.from(encodeWal(record), 'utf8'))).toStrictEqual(record);
      }),
      { numRuns: 300 },
    );
  });

  it('any valid native CDC record round-trips unchanged', () => {
    fc.assert(
      fc.property(cdcRecord, (record) => {
        expect(edgeCdc(encodeCdc(record))).toStrictEqual(record);
      }),
      { numRuns: 300 },
    );
  });

  it('any well-formed v2 WAL record decodes to a native record that round-trips', () => {
    const v2 = fc.record({
      version: fc.constant('2'),
      tenant: fc.string(),
      phase: fc.string(),
      label: fc.tuple(fc.stringMatching(/^[a-z]+$/), fc.string({ minLength: 1 })).map(([s, l]) => `${s}.${l}`),
      alias: fc.option(fc.string(), { nil: null }),
      edge: fc.record({
        ts: version,
        src: endpoint,
        tgt: endpoint,
        // _id is the multi-edge id and must be a string or integer; covered by its own tests.
        props: fc.dictionary(
          name.filter((key) => key !== '_id'),
          jsonValue,
          { maxKeys: 4, noNullPrototype: true },
        ),
        traceId: fc.string({ minLength: 1 }),
      }),
      op: fc.constantFrom('INSERT', 'UPDATE', 'DELETE', 'PURGE'),
      mode: fc.record(
        { l: mode, r: fc.option(mode, { nil: null }), s: fc.option(mode, { nil: null }), f: fc.boolean(), queue: fc.boolean() },
        { noNullPrototype: true, requiredKeys: ['queue'] },
      ),
      audit: fc.record({ actor: fc.string() }, { noNullPrototype: true }),
      requestId: fc.string(),
      ts: epochMs,
    }, { noNullPrototype: true });
    fc.assert(
      fc.property(v2, (input) => {
        const record = edgeWal(stringifyJson(input));
        expect(edgeWal(encodeWal(record))).toStrictEqual(record);
        expect(record.event.properties).not.toHaveProperty('_id');
      }),
      { numRuns: 200 },
    );
  });

  it('a decoded v2 record re-encodes as native v3', () => {
    const v2 = {
      version: '2',
      tenant: 't',
      phase: 'prod',
      label: 'svc.tbl',
      alias: null,
      edge: { ts: 1, src: 'a', tgt: 'b', props: {}, traceId: 'T' },
      op: 'INSERT',
      mode: { l: 'SYNC', r: null, s: null, f: false, queue: false },
      audit: { actor: 'x' },
      requestId: 'r',
      ts: 2,
    };
    expect(JSON.parse(encodeWal(edgeWal(v2)))).toMatchObject({ version: '3', context: { database: 'svc', table: 'tbl' } });
  });
});

describe('encoders validate what is published', () => {
  const valid = (): WalRecord => ({
    version: '3',
    type: 'e',
    processedAt: 1,
    context: { tenant: 't', database: 'd', table: 'x', alias: null, request: { actor: 'a', requestId: 'r' } },
    event: { id: 'E', requestId: 'r', type: 'INSERT', version: 1, source: 's', target: 't', properties: {} },
    mode: { table: 'SYNC', request: null, queue: false },
  });

  it('throws EventEncodeError naming the bad field', () => {
    const record = valid() as unknown as { event: { version: unknown } };
    record.event.version = '1';
    let error: unknown;
    try {
      encodeWal(record as unknown as WalRecord);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EventEncodeError);
    expect(error).toMatchObject({ code: 'INVALID_RECORD', path: 'event.version', retryable: false });
    expect((error as Error).message).toBe(
      'cannot encode WAL record: invalid at event.version: expected integer, received string',
    );
  });

  it('does not publish fields outside the schema', () => {
    const record = { ...valid(), secret: 'do-not-leak' };
    expect(encodeWal(record)).not.toContain('do-not-leak');
  });

  it('turns unserializable property values into an EventEncodeError', () => {
    const record = valid();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    record.event.properties = { cyclic };
    expect(() => encodeWal(record)).toThrow(EventEncodeError);
  });

  it('rejects a CDC record with an out-of-range accumulator', () => {
    const record = {
      version: '3',
      type: 'e',
      processedAt: 1,
      lockAt: 1,
      status: 'IDLE',
      accumulator: 5,
      message: null,
      context: valid().context,
      events: [valid().event],
      before: null,
      after: null,
    } as unknown as CdcRecord;
    expect(() => encodeCdc(record)).toThrow(expect.objectContaining({ path: 'accumulator' }));
  });
});
