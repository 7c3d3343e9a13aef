/**
 * A WAL record back into the request item that produced it. The WAL is the request as-is (docs/records.md,
 * "WAL record"), so sending the item again through `/sync?force=true` applies exactly what was asked, and
 * sending it twice is harmless: the transition is idempotent (an applied event leaves the state as it is).
 */
import type { Long, WalRecord } from '@pipeline/events';
import type { MutationItem, MutationResult } from './types';

const ENDS = new Set(['_source', '_target']);

export const isMultiEdgeRecord = (r: WalRecord): boolean => r.event.edgeId !== undefined;

/**
 * The request item of a WAL record. A multi-edge event carries its id in `edgeId` and the ends its request named
 * in the `_source`/`_target` properties (see endOf); the item takes them from there and leaves them out of its
 * properties.
 * LONGs beyond 2^53 stay bigints: the client writes them as bare JSON integers.
 */
export function walToMutation(r: WalRecord): MutationItem {
  const e = r.event;
  const version = e.version;
  if (e.edgeId === undefined) {
    return { type: e.type, edge: { version, source: e.source, target: e.target, properties: { ...e.properties } } };
  }
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.properties)) if (!ENDS.has(k)) properties[k] = v;
  const edge: MutationItem['edge'] = { version, id: e.edgeId, properties };
  const source = endOf(e, '_source', e.source);
  const target = endOf(e, '_target', e.target);
  if (source !== undefined) edge.source = source;
  if (target !== undefined) edge.target = target;
  return { type: e.type, edge };
}

/**
 * A multi-edge end as the request carried it. The core writes `_source`/`_target` only when the request named
 * them; an UPDATE or DELETE without them leaves the edge where it is, even though the event's source/target then
 * hold the stored ends (the core routes the record by them). Actionbase's own v2 records carry the ends in
 * src/tgt only: an INSERT, which must name them, takes them from there.
 */
function endOf(e: WalRecord['event'], name: '_source' | '_target', routed: string | Long): string | Long | undefined {
  if (name in e.properties) {
    const v = e.properties[name];
    return v === null || v === undefined ? undefined : (v as string | Long);
  }
  return e.type === 'INSERT' && routed !== '' ? routed : undefined;
}

/** The key that matches a core result to the WAL records of its edge (results carry typed ids: compare as strings). */
export function resultKeyOfRecord(r: WalRecord): string {
  return r.event.edgeId !== undefined ? `id:${String(r.event.edgeId)}` : `st:${JSON.stringify([String(r.event.source), String(r.event.target)])}`;
}

export function resultKey(res: Pick<MutationResult, 'source' | 'target' | 'id'>): string {
  return res.id !== undefined ? `id:${String(res.id)}` : `st:${JSON.stringify([String(res.source), String(res.target)])}`;
}
