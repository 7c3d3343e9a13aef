/**
 * A queued WAL record back into the mutation that produced it. The WAL is the request as-is (docs/model.md,
 * "WAL record"), so sending it again through `/sync?force=true` applies exactly what was asked; sending it
 * twice is harmless because the transition is idempotent (an already-applied event leaves the state as is:
 * IDLE, count delta 0).
 */
import { safeEndpoint, safeNumber, type WalRecord } from '@pipeline/events';
import type { Mutation } from './core-client';

export const isMultiEdge = (r: WalRecord): boolean => r.event.edgeId !== undefined;

export function mutationOf(r: WalRecord): Mutation {
  const e = r.event;
  // LONGs beyond 2^53 (bigint) are not sent yet: LongRangeError dead-letters the record instead of rounding it.
  const version = safeNumber(e.version, 'event.version');
  if (e.edgeId !== undefined) {
    // A multi-edge's ends live in _source/_target; an UPDATE may omit them (the core stores '' then).
    const edge: Mutation['edge'] = { version, id: safeEndpoint(e.edgeId, 'event.edgeId'), properties: e.properties };
    if (e.source !== '') edge.source = safeEndpoint(e.source, 'event.source');
    if (e.target !== '') edge.target = safeEndpoint(e.target, 'event.target');
    return { type: e.type, edge };
  }
  return { type: e.type, edge: { version, source: safeEndpoint(e.source, 'event.source'), target: safeEndpoint(e.target, 'event.target'), properties: e.properties } };
}

/** Matches a core result to the WAL records of its key (results carry typed ids; compare as strings). */
export function resultKeyOfRecord(r: WalRecord): string {
  return r.event.edgeId !== undefined ? `id:${String(r.event.edgeId)}` : `st:${JSON.stringify([String(r.event.source), String(r.event.target)])}`;
}

export function resultKey(res: { source?: string | number; target?: string | number; id?: string | number }): string {
  return res.id !== undefined ? `id:${String(res.id)}` : `st:${JSON.stringify([String(res.source), String(res.target)])}`;
}

/** The mode the core resolved for the item (docs/model.md, "Mutation flow" step 4). */
export function resolvedMode(r: WalRecord): 'SYNC' | 'ASYNC' | 'IGNORE' {
  const m = r.mode;
  return m.force && m.request ? m.request : (m.system ?? m.request ?? m.table);
}

/**
 * Records this processor must apply: queued (mode.queue=true, "not applied yet; the async processor must
 * apply it"), not a system table. With `skipIgnored`, items queued because their resolved mode was IGNORE
 * are left alone: Actionbase maps v2 IGNORE to v3 DROP, i.e. a write to keep in the WAL but not apply.
 */
export function isQueued(r: WalRecord, skipIgnored = false): boolean {
  if (r.mode.queue !== true || r.context.database === 'sys') return false;
  return !(skipIgnored && resolvedMode(r) === 'IGNORE');
}
