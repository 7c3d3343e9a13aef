/**
 * What a support answer carries by default: when, which edge, what was asked and what came of it. Property values
 * (emails, notes, anything a table stores), the actor, the WAL mode, merged events and Kafka coordinates stay in
 * Elasticsearch and come out only through an audited reveal (GET /api/records/:id?reason=...).
 */
import type { Long } from '@pipeline/events';
import type { MutationItem, Page } from './lookup.service';

export interface StateSummary {
  active: boolean;
  version: Long;
}

/** A MutationItem less what stays behind the reveal: the actor, the events, properties, mode, message and coordinates. */
export type MinimalItem = Omit<MutationItem, 'actor' | 'events' | 'properties' | 'mode' | 'message' | 'kafka' | 'before' | 'after'> & {
  before?: StateSummary | null;
  after?: StateSummary | null;
};

function summary(s: unknown): StateSummary | null {
  if (!s || typeof s !== 'object') return null;
  const { active, version } = s as { active?: unknown; version?: unknown };
  return { active: active === true, version: typeof version === 'number' || typeof version === 'bigint' ? version : Number(version) };
}

export function minimalItem(i: MutationItem): MinimalItem {
  return {
    id: i.id,
    kind: i.kind,
    at: i.at,
    database: i.database,
    table: i.table,
    source: i.source,
    target: i.target,
    ...(i.edgeId !== undefined ? { edgeId: i.edgeId } : {}),
    ...(i.type !== undefined ? { type: i.type } : {}),
    ...(i.status !== undefined ? { status: i.status } : {}),
    ...(i.version !== undefined ? { version: i.version } : {}),
    ...(i.seq !== undefined ? { seq: i.seq } : {}),
    requestIds: i.requestIds,
    eventIds: i.eventIds,
    types: i.types,
    ...(i.kind === 'cdc' ? { before: summary(i.before), after: summary(i.after) } : {}),
  };
}

export const minimalPage = (p: Page<MutationItem>): Page<MinimalItem> => ({ items: p.items.map(minimalItem), next: p.next });

/** The current-state document without the stored edge's properties. */
export function minimalState(doc: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!doc) return null;
  const keep = ['docId', 'database', 'table', 'source', 'target', 'edgeId', 'active', 'status', 'seq', 'updatedAt'];
  const out: Record<string, unknown> = Object.fromEntries(keep.filter((k) => doc[k] !== undefined).map((k) => [k, doc[k]]));
  const state = doc['state'] as { version?: unknown } | undefined;
  if (state?.version !== undefined) out['version'] = state.version;
  return out;
}
