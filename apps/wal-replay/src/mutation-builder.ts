/**
 * A stored state (a CDC `after`) into the request items that reproduce it on a fresh core (migrate). A WAL
 * record back into its item is libs/core-api's walToMutation.
 */
import type { CdcState, Long } from '@pipeline/events';
import type { MutationItem } from '@pipeline/core-api';

/** A multi-edge's ends, which the request carries as source/target, not as properties. */
const ENDS = new Set(['_source', '_target']);

/** A field of the table schema as the loader needs it: a stand-in value for non-nullable fields (see below). */
export interface LoaderField {
  name: string;
  type: string;
  nullable: boolean;
}

export interface StateLoad {
  items: MutationItem[];
  /** Parts of the state the API cannot reproduce; the loaded state differs there (README, "What migrate reproduces"). */
  approximations: string[];
}

/** Versions are canonical LONGs (a bigint only beyond 2^53), so a Map keyed by them holds one entry per value. */
const maxLong = (a: Long, b: Long): Long => (b > a ? b : a);

const placeholderOf = (type: string): unknown =>
  type === 'STRING' ? '' : type === 'BOOLEAN' ? false : type === 'JSON' ? {} : 0;

/**
 * The mutations that rebuild `s` on a core that has no row for the key. Sent in one request, the core folds
 * them in version order (stable for equal versions, docs/model.md "Mutation flow" step 5):
 * - INSERT at createdAt with every field whose cell is at createdAt (cells at newer versions get their value
 *   here too, so that a non-nullable field is present when the INSERT makes the edge active, and are then
 *   overwritten at their own version);
 * - DELETE at deletedAt (it nulls every cell up to deletedAt, exactly as the original DELETE did);
 * - one UPDATE per newer cell version, with those cells' values (null included: an UPDATE null unsets);
 * - an empty UPDATE at state.version when no other event reaches it (the version only moves up).
 * A non-nullable field that the INSERT must carry but whose value the state no longer holds (deleted later)
 * gets a stand-in value, which the DELETE then nulls at deletedAt: the end state is still exact.
 */
export function stateToMutations(state: CdcState, fields: readonly LoaderField[], multi: boolean): StateLoad {
  // LONGs beyond 2^53 stay bigints (versions in ns): compared with < and >, which are exact across number and bigint.
  const s = state;
  const approximations: string[] = [];
  const key = multi ? { id: s.edgeId! } : { source: s.source, target: s.target };
  const cells = s.properties;
  const userFields = fields.filter((f) => !ENDS.has(f.name));
  const item = (type: MutationItem['type'], version: Long, properties: Record<string, unknown>, ends = false): MutationItem => {
    const edge: MutationItem['edge'] = { version, ...key, properties };
    if (multi) {
      delete edge.source;
      delete edge.target;
      if (ends) {
        edge.source = s.source;
        edge.target = s.target;
      }
    }
    return { type, edge };
  };

  const { createdAt, deletedAt } = s;
  const items: MutationItem[] = [];
  let insertAt: Long | null = createdAt;
  if (createdAt !== null && createdAt === deletedAt) {
    // Only reachable through the tie limit of the transition (libs/edge-model transition.ts); an INSERT and a
    // DELETE at one version fold to createdAt = null here.
    approximations.push(`createdAt == deletedAt == ${createdAt}: loaded with createdAt null`);
    insertAt = null;
  }
  if (insertAt !== null) {
    const props: Record<string, unknown> = {};
    for (const f of userFields) {
      const c = cells[f.name];
      if (c && c.version >= insertAt && c.value !== null && c.value !== undefined) props[f.name] = c.value;
      else if (!f.nullable && (deletedAt === null || deletedAt < insertAt)) {
        approximations.push(`field ${f.name} has no value on an active edge`);
      } else if (!f.nullable) props[f.name] = placeholderOf(f.type);
      if (c && c.version < insertAt) approximations.push(`field ${f.name} at ${c.version} is older than createdAt ${insertAt}: loaded at ${insertAt}`);
    }
    items.push(item('INSERT', insertAt, props, true));
  }
  if (deletedAt !== null) items.push(item('DELETE', deletedAt, {}));

  // Cells the INSERT and DELETE above do not leave as stored: one UPDATE per version.
  const updates = new Map<Long, Record<string, unknown>>();
  let endsVersion: Long | null = null;
  for (const f of fields) {
    const c = cells[f.name];
    if (!c) continue;
    const value = c.value ?? null;
    const byInsert = insertAt !== null && c.version === insertAt && value !== null;
    const byInsertNull = insertAt !== null && c.version === insertAt && value === null && (deletedAt === null || deletedAt < insertAt);
    const byDelete = deletedAt !== null && c.version === deletedAt && value === null;
    if (byInsert || byInsertNull || byDelete) continue;
    if (multi && ENDS.has(f.name)) {
      // The endpoints travel as edge.source/target; both move together on an UPDATE that carries them.
      if (value !== null) endsVersion = maxLong(endsVersion ?? c.version, c.version);
      continue;
    }
    const u = updates.get(c.version) ?? {};
    u[f.name] = value;
    updates.set(c.version, u);
  }
  if (endsVersion !== null && !updates.has(endsVersion)) updates.set(endsVersion, {});
  const top = [insertAt ?? -Infinity, deletedAt ?? -Infinity, ...updates.keys()].reduce<Long>((a, b) => maxLong(a, b), -Infinity);
  if (s.version > top) updates.set(s.version, updates.get(s.version) ?? {});
  for (const [version, props] of [...updates].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) items.push(item('UPDATE', version, props, version === endsVersion));
  if (items.length === 0) approximations.push('empty state');
  return { items, approximations };
}
