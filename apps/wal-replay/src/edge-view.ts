/**
 * One comparable form of an edge for every place that holds it (the core's REST answers, CDC `after`
 * states, Elasticsearch's current-state documents, Iceberg rows): version, endpoints and the non-null
 * property values, as the core's reads show them. Endpoints are compared as strings: the Iceberg and
 * Elasticsearch sides keep them as text, and a 64-bit id must not be rounded on the way.
 * An inactive edge has no view (null): the core does not return it, Iceberg drops it, Elasticsearch keeps a
 * tombstone.
 */
import { stringifyJson } from '@pipeline/events';

type Endpoint = string | number | bigint;

interface StateLike {
  source: Endpoint;
  target: Endpoint;
  edgeId?: Endpoint | undefined;
  active?: boolean;
  version: number | bigint;
  properties: Record<string, { value: unknown; version?: number | bigint } | undefined>;
}

const ENDS = new Set(['_source', '_target']);

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Keys sorted, and an integer in one form whatever the reader gave (a bigint only beyond 2^53): never rounded. */
function normal(x: unknown): unknown {
  if (typeof x === 'bigint') return x >= -MAX_SAFE && x <= MAX_SAFE ? Number(x) : x;
  if (Array.isArray(x)) return x.map(normal);
  if (x && typeof x === 'object')
    return Object.fromEntries(
      Object.entries(x as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, normal(v)]),
    );
  return x;
}

/** One text per value, independent of key order; 64-bit integers exact (libs/events json.ts). */
export const canonicalJson = (v: unknown): string => stringifyJson(normal(v));
const canon = canonicalJson;

/** The key of an edge in every sink: `["source","target"]`, or `"id"` for a multi-edge. */
export function edgeKey(s: { source: Endpoint; target: Endpoint; edgeId?: Endpoint | undefined; id?: Endpoint | undefined }, multi: boolean): string {
  const id = s.edgeId ?? s.id;
  return multi && id !== undefined ? JSON.stringify(String(id)) : JSON.stringify([String(s.source), String(s.target)]);
}

function view(version: number | bigint, source: Endpoint, target: Endpoint, values: Record<string, unknown>): string {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined && !ENDS.has(k)) properties[k] = v;
  return canon({ version, source: String(source), target: String(target), properties });
}

/** The view of a stored state (CDC `after`, Elasticsearch `state`, an Iceberg row); null when inactive. */
export function stateView(s: StateLike): string | null {
  if (s.active === false) return null;
  const values: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(s.properties)) values[k] = c?.value;
  return view(s.version, s.source, s.target, values);
}

/** The view of an edge as the core's get / multi-edge ids answer it. */
export function restView(e: { version: number | bigint; source: Endpoint; target: Endpoint; properties: Record<string, unknown> }): string {
  return view(e.version, e.source, e.target, e.properties);
}
