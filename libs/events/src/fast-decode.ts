/**
 * A hand-compiled checker for native (v3) WAL and CDC records: the same accept set and the same output as
 * WalRecordSchema / CdcRecordSchema (zod), at a fraction of the cost. decode.ts hands it only values it
 * made with the JSON parser (json.ts: plain objects, own enumerable string keys, no undefined, finite numbers, bigints for integers beyond 2^53), which is
 * what keeps the rules below short. encode.ts hands it a producer's record before serializing it: anything
 * outside those rules that matters (undefined or a non-finite number where a value is required) is
 * rejected here and judged by zod; what JSON.stringify drops anyway (an undefined optional) is harmless.
 *
 * It returns undefined for anything it does not accept, and decode.ts then runs zod, so a rejected record
 * always gets zod's error (with the field path). The contract is one-sided by construction: whatever the
 * fast path accepts, zod accepts with an equal output (same keys, same order, same values); fast-decode.spec.ts
 * checks both directions on generated valid and mutated records, and that the key lists below still match
 * the schemas' shapes.
 *
 * Zero-copy: zod builds new objects, but when an input object already is what zod would build (exactly the
 * shape's keys, in shape order; for a record, no `__proto__` key) and so are its children, the input object is
 * returned as it is: equal in every way a reader can see, and ours to hand out (decode.ts made it with
 * JSON.parse and keeps no other reference). Records written by encodeWal/encodeCdc always are.
 *
 * The zod rules mirrored here (zod 4):
 *   z.object     non-null, non-array object; output is a new object with the shape's keys in shape order,
 *                unknown keys dropped, an absent optional key left out, a required key absent -> reject
 *   z.record(z.string(), v)  every own enumerable key but `__proto__`, in the input's key order
 *   z.string().min(1)        typeof string, length >= 1
 *   z.number().int()         a safe integer (Number.isSafeInteger); .nonnegative(): >= 0 (-0 passes, kept)
 *   LongSchema               such a number, or a bigint in the int64 range (isLong, long.ts)
 *   z.literal / z.enum       strict equality with one of the values (z.literal([-1, 0, 1]) also takes -0)
 *   z.unknown()              any value, by reference, but the key must be present
 */
import type { RecordContext } from './context.schema';
import type { CdcRecord, CdcState, PropertyCell } from './cdc.schema';
import type { EdgeEventRecord } from './edge-event.schema';
import type { WalMode, WalRecord } from './wal.schema';
import { isLong, type Long } from './long';

type Obj = Record<string, unknown>;

/** The shape keys each checker below reads, in shape order; fast-decode.spec.ts compares them with the schemas. */
export const FAST_SHAPES = {
  wal: ['version', 'type', 'processedAt', 'context', 'event', 'mode'],
  cdc: ['version', 'type', 'processedAt', 'lockAt', 'seq', 'status', 'accumulator', 'message', 'context', 'events', 'before', 'after'],
  context: ['tenant', 'database', 'table', 'alias', 'request'],
  request: ['actor', 'requestId'],
  event: ['id', 'requestId', 'type', 'version', 'source', 'target', 'edgeId', 'properties'],
  mode: ['table', 'request', 'system', 'force', 'queue'],
  state: ['source', 'target', 'edgeId', 'active', 'version', 'createdAt', 'deletedAt', 'properties'],
  cell: ['value', 'version'],
} as const;

/**
 * `o` has exactly the keys of `shape` that it has a value for, in shape order, and nothing else (validation has
 * already checked that every key missing from `o` is optional).
 */
function inShapeOrder(o: Obj, shape: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    while (i < shape.length && shape[i] !== k) {
      if (o[shape[i]!] !== undefined) return false; // present, but later: another order
      i++;
    }
    if (i === shape.length) return false; // a key the shape does not have
    i++;
  }
  return true;
}

const hasProtoKey = (o: Obj): boolean => Object.prototype.hasOwnProperty.call(o, '__proto__');

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr1 = (v: unknown): v is string => typeof v === 'string' && v.length >= 1;
const isEndpoint = (v: unknown): v is string | Long => typeof v === 'string' || isLong(v);
const isNullableLong = (v: unknown): v is Long | null => v === null || isLong(v);
const isMutationType = (v: unknown): v is EdgeEventRecord['type'] => v === 'INSERT' || v === 'UPDATE' || v === 'DELETE';
const isMode = (v: unknown): v is WalMode['table'] => v === 'SYNC' || v === 'ASYNC' || v === 'IGNORE';
const isStatus = (v: unknown): v is CdcRecord['status'] =>
  v === 'CREATED' || v === 'DELETED' || v === 'UPDATED' || v === 'IDLE' || v === 'ERROR' || v === 'PURGED';
const isAccumulator = (v: unknown): v is CdcRecord['accumulator'] => v === 1 || v === 0 || v === -1;

function context(c: unknown): RecordContext | undefined {
  if (!isObj(c)) return undefined;
  const { tenant, database, table, alias, request } = c;
  if (typeof tenant !== 'string' || !isStr1(database) || !isStr1(table) || !(alias === null || typeof alias === 'string')) return undefined;
  if (!isObj(request)) return undefined;
  const { actor, requestId } = request;
  if (typeof actor !== 'string' || typeof requestId !== 'string') return undefined;
  if (inShapeOrder(c, FAST_SHAPES.context) && inShapeOrder(request, FAST_SHAPES.request)) return c as RecordContext;
  return { tenant, database, table, alias, request: { actor, requestId } };
}

/** z.record(z.string(), z.unknown()): a copy without `__proto__` (values by reference). */
function properties(p: unknown): Obj | undefined {
  if (!isObj(p)) return undefined;
  if (!hasProtoKey(p)) return p;
  const out: Obj = {};
  for (const k in p) {
    if (k !== '__proto__') out[k] = p[k];
  }
  return out;
}

function event(e: unknown): EdgeEventRecord | undefined {
  if (!isObj(e)) return undefined;
  const { id, requestId, type, version, source, target, edgeId } = e;
  if (!isStr1(id) || typeof requestId !== 'string' || !isMutationType(type) || !isLong(version)) return undefined;
  if (!isEndpoint(source) || !isEndpoint(target) || !(edgeId === undefined || isEndpoint(edgeId))) return undefined;
  const props = properties(e['properties']);
  if (props === undefined) return undefined;
  if (props === e['properties'] && inShapeOrder(e, FAST_SHAPES.event)) return e as EdgeEventRecord;
  return edgeId === undefined
    ? { id, requestId, type, version, source, target, properties: props }
    : { id, requestId, type, version, source, target, edgeId, properties: props };
}

function cells(p: unknown): Record<string, PropertyCell> | undefined {
  if (!isObj(p)) return undefined;
  let same = !hasProtoKey(p);
  for (const k in p) {
    if (k === '__proto__') continue;
    const cell = p[k];
    if (!isObj(cell)) return undefined;
    const { value, version } = cell;
    if (value === undefined || !isLong(version)) return undefined;
    if (same && !inShapeOrder(cell, FAST_SHAPES.cell)) same = false;
  }
  if (same) return p as Record<string, PropertyCell>;
  const out: Record<string, PropertyCell> = {};
  for (const k in p) {
    if (k === '__proto__') continue;
    const { value, version } = p[k] as PropertyCell;
    out[k] = { value, version };
  }
  return out;
}

function state(s: unknown): CdcState | null | undefined {
  if (s === null) return null;
  if (!isObj(s)) return undefined;
  const { source, target, edgeId, active, version, createdAt, deletedAt } = s;
  if (!isEndpoint(source) || !isEndpoint(target) || !(edgeId === undefined || isEndpoint(edgeId))) return undefined;
  if (typeof active !== 'boolean' || !isLong(version) || !isNullableLong(createdAt) || !isNullableLong(deletedAt)) return undefined;
  const props = cells(s['properties']);
  if (props === undefined) return undefined;
  if (props === s['properties'] && inShapeOrder(s, FAST_SHAPES.state)) return s as CdcState;
  return edgeId === undefined
    ? { source, target, active, version, createdAt, deletedAt, properties: props }
    : { source, target, edgeId, active, version, createdAt, deletedAt, properties: props };
}

function mode(m: unknown): WalMode | undefined {
  if (!isObj(m)) return undefined;
  const { table, request, system, force, queue } = m;
  if (!isMode(table) || !(request === null || isMode(request)) || !(system === undefined || system === null || isMode(system))) return undefined;
  if (!(force === undefined || typeof force === 'boolean') || typeof queue !== 'boolean') return undefined;
  if (inShapeOrder(m, FAST_SHAPES.mode)) return m as WalMode;
  const out: WalMode = { table, request } as WalMode;
  if (system !== undefined) out.system = system;
  if (force !== undefined) out.force = force;
  out.queue = queue;
  return out;
}

/** The record as WalRecordSchema would output it, or undefined if the fast path does not accept it. */
export function fastWal(raw: unknown): WalRecord | undefined {
  if (!isObj(raw)) return undefined;
  const { version, type, processedAt } = raw;
  if (version !== '3' || type !== 'e' || !isNat(processedAt)) return undefined;
  const ctx = context(raw['context']);
  if (ctx === undefined) return undefined;
  const ev = event(raw['event']);
  if (ev === undefined) return undefined;
  const md = mode(raw['mode']);
  if (md === undefined) return undefined;
  if (ctx === raw['context'] && ev === raw['event'] && md === raw['mode'] && inShapeOrder(raw, FAST_SHAPES.wal)) return raw as WalRecord;
  return { version, type, processedAt, context: ctx, event: ev, mode: md };
}

/** The record as CdcRecordSchema would output it, or undefined if the fast path does not accept it. */
export function fastCdc(raw: unknown): CdcRecord | undefined {
  if (!isObj(raw)) return undefined;
  const { version, type, processedAt, lockAt, seq, status, accumulator, message, events } = raw;
  if (version !== '3' || type !== 'e' || !isNat(processedAt) || !isNat(lockAt) || !(seq === undefined || isNat(seq))) return undefined;
  if (!isStatus(status) || !isAccumulator(accumulator) || !(message === null || typeof message === 'string')) return undefined;
  const ctx = context(raw['context']);
  if (ctx === undefined) return undefined;
  if (!Array.isArray(events) || events.length < 1) return undefined;
  let evs: EdgeEventRecord[] = events as EdgeEventRecord[];
  for (let i = 0; i < events.length; i++) {
    const ev = event(events[i]);
    if (ev === undefined) return undefined;
    if (ev !== events[i] && evs === events) evs = events.slice(0, i) as EdgeEventRecord[];
    if (evs !== events) evs.push(ev);
  }
  const before = state(raw['before']);
  if (before === undefined) return undefined;
  const after = state(raw['after']);
  if (after === undefined) return undefined;
  if (ctx === raw['context'] && evs === events && before === raw['before'] && after === raw['after'] && inShapeOrder(raw, FAST_SHAPES.cdc)) return raw as CdcRecord;
  return seq === undefined
    ? { version, type, processedAt, lockAt, status, accumulator, message, context: ctx, events: evs, before, after }
    : { version, type, processedAt, lockAt, seq, status, accumulator, message, context: ctx, events: evs, before, after };
}
