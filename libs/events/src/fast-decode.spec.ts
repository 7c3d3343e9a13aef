import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import type { z } from 'zod';
import { CdcRecordSchema, CdcStateSchema, PropertyCellSchema } from './cdc.schema';
import { RecordContextSchema } from './context.schema';
import { EdgeEventSchema } from './edge-event.schema';
import { WalModeSchema, WalRecordSchema } from './wal.schema';
import { FAST_SHAPES, fastCdc, fastWal } from './fast-decode';
import { EventDecodeError, parseOrThrow } from './errors';
import { decodeCdc, decodeWal } from './decode';
import { cdcFromActionbaseV3, walFromActionbaseV3 } from './v3-compat';
import { parseJson, stringifyJson } from './json';
import { INT64_MAX, INT64_MIN } from './long';

// The fast path only sees JSON.parse output: every generated value below is JSON-shaped (no undefined, no
// NaN/Infinity, plain objects), -0 included since JSON.parse('-0') gives it.
const name = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '10', 'value', 'version'));
const jsonValue = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
// LONGs as the parser makes them (bigints beyond 2^53), plus bigints the parser never makes (small ones) and
// ones beyond 64 bits, which both sides must judge alike.
const bigLike = fc.oneof(
  fc.bigInt({ min: INT64_MIN - 4n, max: INT64_MAX + 4n }),
  fc.constantFrom(INT64_MIN, INT64_MAX, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 0n),
);
const intLike = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER), bigLike);
const natLike = fc.oneof(fc.maxSafeNat(), fc.constant(-0));
const endpoint = fc.oneof(fc.string({ maxLength: 6 }), fc.maxSafeInteger(), bigLike);
const mode = fc.constantFrom('SYNC', 'ASYNC', 'IGNORE');

/** A JSON object as JSON.parse makes it: `__proto__` is an own key, not a prototype swap. */
const dict = <T>(value: fc.Arbitrary<T>) =>
  fc.array(fc.tuple(name, value), { maxLength: 4 }).map((pairs) => parseJson(`{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${stringifyJson(v)}`).join(',')}}`) as Record<string, T>);

const context = fc.record(
  {
    tenant: fc.string({ maxLength: 4 }),
    database: fc.string({ maxLength: 4 }),
    table: fc.string({ minLength: 1, maxLength: 4 }),
    alias: fc.option(fc.string({ maxLength: 4 }), { nil: null }),
    request: fc.record({ actor: fc.string({ maxLength: 4 }), requestId: fc.string({ maxLength: 4 }) }, { noNullPrototype: true }),
  },
  { noNullPrototype: true },
);
const event = fc.record(
  {
    id: fc.string({ maxLength: 4 }),
    requestId: fc.string({ maxLength: 4 }),
    type: fc.constantFrom('INSERT', 'UPDATE', 'DELETE'),
    version: intLike,
    source: endpoint,
    target: endpoint,
    edgeId: endpoint,
    properties: dict(jsonValue),
  },
  { noNullPrototype: true, requiredKeys: ['id', 'requestId', 'type', 'version', 'source', 'target', 'properties'] },
);
const state = fc.record(
  {
    source: endpoint,
    target: endpoint,
    edgeId: endpoint,
    active: fc.boolean(),
    version: intLike,
    createdAt: fc.option(intLike, { nil: null }),
    deletedAt: fc.option(intLike, { nil: null }),
    properties: dict(fc.record({ value: jsonValue, version: intLike }, { noNullPrototype: true })),
  },
  { noNullPrototype: true, requiredKeys: ['source', 'target', 'active', 'version', 'createdAt', 'deletedAt', 'properties'] },
);
const wal = fc.record(
  {
    version: fc.constant('3'),
    type: fc.constant('e'),
    processedAt: natLike,
    context,
    event,
    mode: fc.record(
      { table: mode, request: fc.option(mode, { nil: null }), system: fc.option(mode, { nil: null }), force: fc.boolean(), queue: fc.boolean() },
      { noNullPrototype: true, requiredKeys: ['table', 'request', 'queue'] },
    ),
  },
  { noNullPrototype: true },
);
const cdc = fc.record(
  {
    version: fc.constant('3'),
    type: fc.constant('e'),
    processedAt: natLike,
    lockAt: natLike,
    seq: natLike,
    status: fc.constantFrom('CREATED', 'DELETED', 'UPDATED', 'IDLE', 'ERROR', 'PURGED'),
    accumulator: fc.constantFrom(-1, 0, -0, 1),
    message: fc.option(fc.string({ maxLength: 4 }), { nil: null }),
    context,
    events: fc.array(event, { minLength: 1, maxLength: 3 }),
    before: fc.option(state, { nil: null }),
    after: fc.option(state, { nil: null }),
  },
  { noNullPrototype: true, requiredKeys: ['version', 'type', 'processedAt', 'lockAt', 'status', 'accumulator', 'message', 'context', 'events', 'before', 'after'] },
);

/** Values a mutation puts somewhere: each wrong somewhere, right elsewhere. */
const replacement = fc.oneof(
  fc.constantFrom<unknown>(null, '', 'x', '3', '2', 'e', 'INSERT', 'SYNC', 'CREATED', 0, -0, 1, -1, 1.5, -1e-7, 1e300, 2 ** 53, -(2 ** 53), true, false, [], {}, [{}]),
  jsonValue,
);
type Mutation = { at: number; op: 'delete' | 'replace' | 'add' | 'reverse' | 'proto'; key: string; value: unknown };
const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('delete', 'replace', 'replace', 'add', 'reverse', 'proto'),
  key: name,
  value: replacement,
}) as fc.Arbitrary<Mutation>;

/** Every container in the tree (the root included), depth first. */
function containers(value: unknown, out: object[] = []): object[] {
  if (value !== null && typeof value === 'object') {
    out.push(value);
    for (const v of Object.values(value)) containers(v, out);
  }
  return out;
}

/** A deep copy that keeps -0 and own `__proto__` keys, as JSON.parse would have made them. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: clone(v), enumerable: true, writable: true, configurable: true });
  return out;
}

function mutate(record: unknown, mutations: Mutation[]): unknown {
  const copy = clone(record);
  for (const m of mutations) {
    const all = containers(copy);
    const target = all[m.at % all.length] as Record<string, unknown>;
    const keys = Object.keys(target);
    const key = keys.length ? keys[m.at % keys.length]! : m.key;
    if (m.op === 'delete') {
      if (Array.isArray(target)) target.splice(Number(key), 1);
      else delete target[key];
    } else if (m.op === 'replace') {
      // An own property even for `__proto__`, as JSON.parse makes it (an assignment would swap the prototype).
      if (Array.isArray(target)) target[key] = clone(m.value);
      else Object.defineProperty(target, key, { value: clone(m.value), enumerable: true, writable: true, configurable: true });
    } else if (m.op === 'add' && !Array.isArray(target)) {
      target[m.key === '__proto__' ? 'extra' : m.key] = clone(m.value);
    } else if (m.op === 'proto' && !Array.isArray(target)) {
      Object.defineProperty(target, '__proto__', { value: clone(m.value), enumerable: true, writable: true, configurable: true });
    } else if (m.op === 'reverse' && !Array.isArray(target)) {
      const entries = Object.entries(target);
      for (const k of Object.keys(target)) delete target[k];
      for (const [k, v] of entries.reverse()) Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return copy;
}

/**
 * Equal values, keys in the same order, same -0s, same prototypes: what a consumer serialising or iterating
 * the record sees. (Not toStrictEqual: it compares `.constructor`, which an own key "constructor" shadows.)
 */
function expectSameOutput(fast: unknown, slow: unknown): void {
  const shape = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return Object.is(v, -0) ? '-0' : v === undefined ? '<undefined>' : v;
    const kind = Array.isArray(v) ? 'array' : Object.getPrototypeOf(v) === Object.prototype ? 'object' : 'other';
    return [kind, Reflect.ownKeys(v).map((k) => [String(k), shape((v as Record<PropertyKey, unknown>)[k])])];
  };
  expect(shape(fast)).toStrictEqual(shape(slow));
}

function agree(fast: (raw: unknown) => unknown, schema: z.ZodType, raw: unknown): boolean {
  const slow = schema.safeParse(raw);
  const quick = fast(raw);
  expect(quick !== undefined).toBe(slow.success);
  if (slow.success) expectSameOutput(quick, slow.data);
  return slow.success;
}

describe('fast native decoding agrees with the zod schemas', () => {
  it('the fast checkers read exactly the schemas\' keys, in shape order', () => {
    const keys = (s: z.ZodObject) => Object.keys(s.shape);
    expect(FAST_SHAPES.wal).toStrictEqual(keys(WalRecordSchema));
    expect(FAST_SHAPES.cdc).toStrictEqual(keys(CdcRecordSchema));
    expect(FAST_SHAPES.context).toStrictEqual(keys(RecordContextSchema));
    expect(FAST_SHAPES.request).toStrictEqual(keys(RecordContextSchema.shape.request));
    expect(FAST_SHAPES.event).toStrictEqual(keys(EdgeEventSchema));
    expect(FAST_SHAPES.mode).toStrictEqual(keys(WalModeSchema));
    expect(FAST_SHAPES.state).toStrictEqual(keys(CdcStateSchema));
    expect(FAST_SHAPES.cell).toStrictEqual(keys(PropertyCellSchema));
  });

  it('on generated WAL records, valid and mutated: same accept/reject, same output', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(wal, fc.array(mutation, { maxLength: 3 }), (record, mutations) => {
        if (agree(fastWal, WalRecordSchema, mutate(record, mutations))) accepted++;
        else rejected++;
      }),
      { numRuns: 3000 },
    );
    // Both sides of the boundary are exercised, not only one.
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
  });

  it('on generated CDC records, valid and mutated: same accept/reject, same output', () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(cdc, fc.array(mutation, { maxLength: 3 }), (record, mutations) => {
        if (agree(fastCdc, CdcRecordSchema, mutate(record, mutations))) accepted++;
        else rejected++;
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
    expect(rejected).toBeGreaterThan(300);
  });

  it('hands back the parsed object itself when it already is what zod would build, a copy otherwise', () => {
    fc.assert(
      fc.property(cdc, (record) => {
        const raw = clone(record) as Record<string, unknown>;
        if (!CdcRecordSchema.safeParse(raw).success) return; // the generator makes some invalid ones (empty id...)
        const canonical = !stringifyJson(record).includes('"__proto__"');
        if (canonical) expect(fastCdc(raw)).toBe(raw);
        const { version, ...rest } = raw;
        const reordered = { ...rest, version }; // version last: another key order
        const out = fastCdc(reordered);
        expect(out).not.toBe(reordered);
        expectSameOutput(out, CdcRecordSchema.parse(reordered));
      }),
      { numRuns: 300 },
    );
  });

  it('decodeWal/decodeCdc on bytes give the zod output, or the zod error with its field path', () => {
    const check = (
      decode: (input: unknown) => unknown,
      schema: z.ZodType,
      what: string,
      raw: unknown,
      compat: (raw: unknown) => unknown,
    ) => {
      const bytes = Buffer.from(stringifyJson(raw), 'utf8');
      const parsed = parseJson(bytes.toString('utf8'));
      let expected: unknown;
      let error: EventDecodeError | undefined;
      try {
        expected = parseOrThrow(schema, parsed, what);
      } catch (e) {
        // What the native schema refuses may still be a record as Actionbase's own v3 serializers write it.
        expected = compat(parsed);
        if (expected === undefined) error = e as EventDecodeError;
      }
      if (error) {
        expect(() => decode(bytes)).toThrow(error.message);
        try {
          decode(bytes);
        } catch (e) {
          expect((e as EventDecodeError).path).toBe(error.path);
          expect((e as EventDecodeError).code).toBe(error.code);
        }
      } else {
        expectSameOutput(decode(bytes), expected);
      }
    };
    fc.assert(
      fc.property(wal, fc.array(mutation, { maxLength: 2 }), (record, mutations) => {
        const raw = mutate(record, mutations) as { version?: unknown; type?: unknown };
        if (raw?.version === '3' && raw.type !== 'v') check(decodeWal, WalRecordSchema, 'WAL record', raw, walFromActionbaseV3);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(cdc, fc.array(mutation, { maxLength: 2 }), (record, mutations) => {
        const raw = mutate(record, mutations) as { version?: unknown; type?: unknown };
        if (raw?.version === '3' && raw.type !== 'v') check(decodeCdc, CdcRecordSchema, 'CDC record', raw, cdcFromActionbaseV3);
      }),
      { numRuns: 500 },
    );
  });
});
