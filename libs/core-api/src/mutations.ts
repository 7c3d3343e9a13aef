/**
 * A WAL record back into the request item that produced it. The WAL is the request as-is (docs/records.md,
 * "WAL record"), so sending the item again through `/sync?force=true` applies exactly what was asked, and
 * sending it twice is harmless: the transition is idempotent (an applied event leaves the state as it is).
 */
import { safeEndpoint, safeNumber, type Long, type WalRecord } from '@pipeline/events';
import type { MutationItem, MutationResult } from './types';

const ENDS = new Set(['_source', '_target']);

export const isMultiEdgeRecord = (r: WalRecord): boolean => r.event.edgeId !== undefined;

/**
 * The request item of a WAL record. A multi-edge event carries its id in `edgeId` and its ends in the
 * `_source`/`_target` properties (and in source/target, empty on an UPDATE that does not move the edge); the
 * item takes the ends from there and leaves them out of its properties.
 * LONGs beyond 2^53 (bigint) are not sent yet: LongRangeError refuses the record instead of rounding it.
 */
export function walToMutation(r: WalRecord): MutationItem {
  const e = r.event;
  const version = safeNumber(e.version, 'event.version');
  if (e.edgeId === undefined) {
    return { type: e.type, edge: { version, source: safeEndpoint(e.source, 'event.source'), target: safeEndpoint(e.target, 'event.target'), properties: { ...e.properties } } };
  }
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.properties)) if (!ENDS.has(k)) properties[k] = v;
  const edge: MutationItem['edge'] = { version, id: safeEndpoint(e.edgeId, 'event.edgeId'), properties };
  const source = e.properties._source ?? (e.source !== '' ? e.source : undefined);
  const target = e.properties._target ?? (e.target !== '' ? e.target : undefined);
  if (source !== undefined && source !== null) edge.source = safeEndpoint(source as string | Long, 'event.properties._source');
  if (target !== undefined && target !== null) edge.target = safeEndpoint(target as string | Long, 'event.properties._target');
  return { type: e.type, edge };
}

/** The key that matches a core result to the WAL records of its edge (results carry typed ids: compare as strings). */
export function resultKeyOfRecord(r: WalRecord): string {
  return r.event.edgeId !== undefined ? `id:${String(r.event.edgeId)}` : `st:${JSON.stringify([String(r.event.source), String(r.event.target)])}`;
}

export function resultKey(res: Pick<MutationResult, 'source' | 'target' | 'id'>): string {
  return res.id !== undefined ? `id:${String(res.id)}` : `st:${JSON.stringify([String(res.source), String(res.target)])}`;
}
