import { multiEdgeKeyOf, storageKeyOf, type EdgeEvent, type Endpoint, type MutationType } from '@pipeline/edge-model';
import type { ResolvedTable } from '../catalog/catalog';
import { badRequest } from '../errors';
import { castField, castKey, castVersion, checkStringKey } from './cast';
import { LIMITS, SliceClock } from './limits';

/** One validated request item, ready for the WAL and the transition. */
export interface PreparedItem {
  event: EdgeEvent;
  source: Endpoint;
  target: Endpoint;
  /** Multi-edge id. */
  id?: Endpoint;
  /** Storage key within the table (see EdgeStorageKey). */
  key: string;
  /** Position in the request's `mutations`, to name it in an error. */
  index: number;
  /** A multi-edge item that named no endpoints (an UPDATE or DELETE): the engine fills them in. */
  endsMissing?: true;
}

const TYPES = new Set<MutationType>(['INSERT', 'UPDATE', 'DELETE']);
export const MAX_MUTATIONS = LIMITS.mutationsPerRequest;

/** Storage keys are the model's (libs/edge-model storage-key.ts), shared with every checker. */
export { multiEdgeKeyOf, storageKeyOf };

/**
 * Validates and casts a mutation body `{"mutations":[{"type","edge":{...}}]}` (docs/api.md, REST API).
 * Any bad item rejects the whole request before anything is written. Properties not in the schema
 * are dropped (docs/model.md, "Edges").
 */
export async function prepareMutations(body: unknown, table: ResolvedTable, newId: () => string): Promise<PreparedItem[]> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body', 'expected a JSON object {"mutations":[...]}');
  const list = (body as { mutations?: unknown }).mutations;
  if (!Array.isArray(list)) throw badRequest('mutations', 'required: an array of {type, edge}');
  if (list.length === 0) throw badRequest('mutations', 'must not be empty');
  if (list.length > MAX_MUTATIONS) throw badRequest('mutations', `at most ${MAX_MUTATIONS} items per request, got ${list.length}`);
  const multi = table.def.kind === 'MULTI_EDGE';
  const out: PreparedItem[] = [];
  const clock = new SliceClock();
  for (let i = 0; i < list.length; i++) {
    if (clock.due()) await clock.yield();
    out.push(prepareItem(list[i], i, table, multi, newId));
  }
  return out;
}

function prepareItem(m: unknown, i: number, table: ResolvedTable, multi: boolean, newId: () => string): PreparedItem {
  const at = `mutations[${i}]`;
  if (typeof m !== 'object' || m === null) throw badRequest(at, 'expected an object {type, edge}');
  const { type, edge } = m as { type?: unknown; edge?: unknown };
  if (typeof type !== 'string' || !TYPES.has(type as MutationType)) throw badRequest(`${at}.type`, `expected INSERT, UPDATE or DELETE, got ${JSON.stringify(type)}`);
  if (typeof edge !== 'object' || edge === null) throw badRequest(`${at}.edge`, 'required: an object');
  const e = edge as Record<string, unknown>;
  const version = castVersion(e.version, `${at}.edge.version`);
  const properties = castProperties(e.properties, table, `${at}.edge.properties`, type as MutationType);
  if (multi) {
    if (e.id === undefined || e.id === null) throw badRequest(`${at}.edge.id`, 'required for a multi-edge table');
    const id = multiEdgeId(e.id, `${at}.edge.id`);
    // Endpoints live in _source/_target so that an UPDATE can move them (docs/model.md, "Edges").
    const needEnds = type === 'INSERT';
    const source = e.source === undefined && !needEnds ? undefined : castKey(e.source, table.def.source.type, `${at}.edge.source`);
    const target = e.target === undefined && !needEnds ? undefined : castKey(e.target, table.def.target.type, `${at}.edge.target`);
    if (source !== undefined) properties._source = source;
    if (target !== undefined) properties._target = target;
    return {
      event: { id: newId(), type: type as MutationType, version, properties },
      source: source ?? '',
      target: target ?? '',
      id,
      key: multiEdgeKeyOf(id),
    index: i,
      ...(source === undefined || target === undefined ? { endsMissing: true as const } : {}),
    };
  }
  const source = castKey(e.source, table.def.source.type, `${at}.edge.source`);
  const target = castKey(e.target, table.def.target.type, `${at}.edge.target`);
  return { event: { id: newId(), type: type as MutationType, version, properties }, source, target, key: storageKeyOf(source, target), index: i };
}

function castProperties(raw: unknown, table: ResolvedTable, at: string, type: MutationType): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw badRequest(at, 'expected an object of property values');
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    const f = table.fieldsByName.get(name);
    if (!f || name === '_source' || name === '_target') continue;
    if (value === undefined) continue;
    // INSERT treats null as absent; UPDATE keeps an explicit null, which unsets the field.
    if (value === null && type !== 'UPDATE') continue;
    out[name] = castField(value, f.type, `${at}.${name}`);
  }
  return out;
}

/** A multi-edge id: a string under the key rule, or an integer. */
export function multiEdgeId(v: unknown, field: string): Endpoint {
  if (typeof v === 'string') return checkStringKey(v, field);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint') return castKey(v, 'LONG', field);
  throw badRequest(field, `expected a string or an integer id, got ${v === null ? 'null' : typeof v === 'number' ? String(v) : typeof v}`);
}
