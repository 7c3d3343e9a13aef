import { EventDecodeError, parseOrThrow } from './errors';
import type { CdcRecord, CdcState } from './cdc.schema';
import type { EdgeEventRecord } from './edge-event.schema';
import type { RecordContext } from './context.schema';
import type { WalRecord } from './wal.schema';
import { isLong, type Long } from './long';
import { V2CdcSchema, V2WalSchema, type V2Cdc, type V2State, type V2Wal } from './v2-wire.schema';

/*
 * Actionbase v2 wire format -> native (v3) records. Field lists from docs/records.md, sections
 * "Actionbase's v2 wire format" and "Names"; we map rather than expose v2 so that every consumer has one
 * shape to handle, whichever server produced the topic.
 *
 * Absent optional fields take Actionbase's defaults (v2-wire.schema.ts): alias, before, after, message ->
 * null; mode -> {l: SYNC, r: null, queue: false}; audit.actor -> "default"; requestId -> ""; props -> {}.
 *
 *   tenant                       -> context.tenant
 *   label "svc.name"             -> context.database "svc", context.table "name" (split at the first dot)
 *   alias "svc.a" | null         -> context.alias "a" | null (the database prefix is dropped)
 *   audit.actor                  -> context.request.actor
 *   requestId                    -> context.request.requestId and event.requestId
 *   ts                           -> processedAt (CDC: also lockAt; v2 has a single timestamp)
 *   edge.traceId                 -> event.id
 *   edge.ts                      -> event.version
 *   edge.src / edge.tgt          -> event.source / event.target (multi-edges: already _source/_target)
 *   edge.props._id (multi-edge)  -> event.edgeId, removed from properties. A multi-edge item without
 *                                   _source/_target (a DELETE by id) has src/tgt "0": Actionbase's
 *                                   placeholder, kept as written (identify such records by edgeId)
 *   op INSERT|UPDATE|DELETE      -> event.type; op PURGE -> DELETE (the CDC keeps status PURGED)
 *   mode {l, r, s, f, queue}     -> mode {table, request, system, force, queue}
 *       l missing  -> table = queue ? ASYNC : SYNC. The resolved outcome (queue) is the only part
 *                     consumers act on; this is the table mode that alone would give that outcome.
 *       r missing  -> request null; s and f missing -> system/force left out (unknown, not false).
 *   CDC status, message          -> status, message (PURGED and ERROR included)
 *   CDC acc                      -> accumulator
 *   CDC edge (last event only)   -> events = [that one event]; v2 does not carry the rest of the group
 *   CDC before/after {active, ts, src, tgt, props: {name: value}} ->
 *       {source, target, edgeId (from props._id), active, version: ts,
 *        properties: {name: {value, version: ts}},
 *        createdAt: active ? ts : null, deletedAt: active ? null : ts}
 *       APPROXIMATION: v2 keeps one ts per state, so per-field versions and the true createdAt/deletedAt
 *       are lost; the state's ts stands in for all of them. Good for snapshots and counts, not for
 *       re-running the transition against these states.
 *   phase                        -> dropped (deployment phase; no native equivalent)
 *   anything else                -> dropped (forward compatibility)
 */

/** core-java WALV2's default when a record has no mode. */
const DEFAULT_MODE: NonNullable<V2Wal['mode']> = { l: 'SYNC', r: null, queue: false };
/** Actionbase's Audit.default. */
const DEFAULT_ACTOR = 'default';

type Endpoint = string | Long;

const WAL_V2 = 'v2 WAL record';
const CDC_V2 = 'v2 CDC record';

export function walFromV2(input: unknown): WalRecord {
  const v2: V2Wal = parseOrThrow(V2WalSchema, input, WAL_V2);
  const { l, r, s, f, queue } = v2.mode ?? DEFAULT_MODE;
  return {
    version: '3',
    type: 'e',
    processedAt: v2.ts,
    context: contextOf(v2, WAL_V2),
    event: eventOf(v2, WAL_V2),
    mode: {
      table: l ?? (queue ? 'ASYNC' : 'SYNC'),
      request: r ?? null,
      ...(s !== undefined && { system: s }),
      ...(f !== undefined && { force: f }),
      queue,
    },
  };
}

export function cdcFromV2(input: unknown): CdcRecord {
  const v2: V2Cdc = parseOrThrow(V2CdcSchema, input, CDC_V2);
  const event = eventOf(v2, CDC_V2);
  return {
    version: '3',
    type: 'e',
    processedAt: v2.ts,
    lockAt: v2.ts,
    status: v2.status,
    accumulator: v2.acc,
    message: v2.message ?? null,
    context: contextOf(v2, CDC_V2),
    events: [event],
    before: v2.before ? stateOf(v2.before, 'before', event.edgeId) : null,
    after: v2.after ? stateOf(v2.after, 'after', event.edgeId) : null,
  };
}

function contextOf(v2: V2Wal | V2Cdc, what: string): RecordContext {
  const dot = v2.label.indexOf('.');
  if (dot <= 0 || dot === v2.label.length - 1) {
    throw new EventDecodeError({
      code: 'INVALID_RECORD',
      path: 'label',
      message: `invalid ${what} at label: expected "service.label", received ${JSON.stringify(v2.label)}`,
    });
  }
  return {
    tenant: v2.tenant,
    database: v2.label.slice(0, dot),
    table: v2.label.slice(dot + 1),
    // An alias without a prefix is kept whole: it is informational, nothing is routed on it.
    alias: v2.alias == null ? null : v2.alias.slice(v2.alias.indexOf('.') + 1),
    request: { actor: v2.audit?.actor ?? DEFAULT_ACTOR, requestId: v2.requestId ?? '' },
  };
}

function eventOf(v2: V2Wal | V2Cdc, what: string): EdgeEventRecord {
  const { edgeId, properties } = liftId(v2.edge.props ?? {}, 'edge.props', what);
  return {
    id: v2.edge.traceId,
    requestId: v2.requestId ?? '',
    type: v2.op === 'PURGE' ? 'DELETE' : v2.op,
    version: v2.edge.ts,
    source: v2.edge.src,
    target: v2.edge.tgt,
    ...(edgeId !== undefined && { edgeId }),
    properties,
  };
}

function stateOf(state: V2State, at: 'before' | 'after', eventEdgeId: Endpoint | undefined): CdcState {
  const { edgeId, properties } = liftId(state.props ?? {}, `${at}.props`, CDC_V2);
  // A tombstoned multi-edge may carry _id: null; the key group (hence the event) has the same id.
  const id = edgeId ?? eventEdgeId;
  return {
    source: state.src,
    target: state.tgt,
    ...(id !== undefined && { edgeId: id }),
    active: state.active,
    version: state.ts,
    createdAt: state.active ? state.ts : null,
    deletedAt: state.active ? null : state.ts,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, value]) => [name, { value: value ?? null, version: state.ts }]),
    ),
  };
}

/** v2 puts a multi-edge's id among its properties as `_id`; natively it is a field of its own. */
function liftId(
  props: Record<string, unknown>,
  at: string,
  what: string,
): { edgeId: Endpoint | undefined; properties: Record<string, unknown> } {
  if (!Object.prototype.hasOwnProperty.call(props, '_id')) return { edgeId: undefined, properties: props };
  const { _id, ...properties } = props;
  if (_id === null || _id === undefined) return { edgeId: undefined, properties };
  if (typeof _id === 'string' || isLong(_id)) {
    return { edgeId: _id, properties };
  }
  throw new EventDecodeError({
    code: 'INVALID_RECORD',
    path: `${at}._id`,
    message: `invalid ${what} at ${at}._id: expected string or integer (multi-edge id), received ${typeof _id}`,
  });
}
