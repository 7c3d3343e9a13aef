/**
 * Which WAL records are the processor's: queued by the core (mode.queue=true), in the mode the core resolved.
 * Turning a record back into its request item is libs/core-api's walToMutation.
 */
import type { WalRecord } from '@pipeline/events';

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
