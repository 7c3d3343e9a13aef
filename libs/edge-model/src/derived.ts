/**
 * Derived data of docs/model.md ("Status and derived data"): one index entry per index per direction and a
 * count per direction, both following the edge's state. derivedChanges gives what one transition changes,
 * so that the core can write state, index and counts in one transaction (ours must be atomic).
 */
import { deepEqual } from './equality';
import type {
  CountDelta,
  Direction,
  EdgeEndpoints,
  EdgeKey,
  Endpoint,
  EdgeState,
  IndexEntry,
  TableShape,
} from './types';

function directionsOf(table: TableShape): Direction[] {
  // BOTH lists an edge under its source (OUT) and its target (IN); OUT or IN only under that one.
  return table.directionType === 'BOTH' ? ['OUT', 'IN'] : [table.directionType];
}

function endpointValue(state: EdgeState | null, name: string): Endpoint | null {
  const value = state?.properties[name]?.value;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? value : null;
}

/**
 * Where an edge counts and is indexed. Unique edges: the key itself (docs/model.md "Edges": identified by
 * (source, target)). Multi-edges: the `_source`/`_target` properties, null while either is absent, so a
 * multi-edge's endpoints follow its state and move when an UPDATE changes them.
 */
export function endpointsOf(state: EdgeState | null, key: EdgeKey, table: TableShape): EdgeEndpoints | null {
  if (table.kind === 'EDGE') {
    if (!('source' in key)) throw new TypeError('a unique edge (EDGE) is keyed by (source, target), not id');
    return { source: key.source, target: key.target };
  }
  if (!('id' in key)) throw new TypeError('a multi-edge (MULTI_EDGE) is keyed by id, not (source, target)');
  const source = endpointValue(state, '_source');
  const target = endpointValue(state, '_target');
  return source === null || target === null ? null : { source, target };
}

/** Index rows of an edge: one per index per direction while it is active, none otherwise. */
export function indexEntriesOf(state: EdgeState | null, key: EdgeKey, table: TableShape): IndexEntry[] {
  // Deletes are soft (docs/model.md "State kept per edge"): a tombstone keeps its row but leaves the indexes,
  // since queries answer active edges only.
  if (state === null || !state.active) return [];
  const endpoints = endpointsOf(state, key, table);
  if (endpoints === null) return [];
  const entries: IndexEntry[] = [];
  for (const index of table.indexes) {
    const values = index.fields.map((field) => state.properties[field.name]?.value ?? null);
    for (const direction of directionsOf(table)) {
      const entry: IndexEntry = {
        index: index.name,
        direction,
        start: direction === 'OUT' ? endpoints.source : endpoints.target,
        values: [...values],
        source: endpoints.source,
        target: endpoints.target,
      };
      if ('id' in key) entry.id = key.id;
      entries.push(entry);
    }
  }
  return entries;
}

/** Count rows an edge contributes to: +1 under its start per direction while active. */
function countsOf(state: EdgeState | null, key: EdgeKey, table: TableShape, sign: 1 | -1): CountDelta[] {
  if (state === null || !state.active) return [];
  const endpoints = endpointsOf(state, key, table);
  if (endpoints === null) return [];
  return directionsOf(table).map((direction) => ({
    direction,
    start: direction === 'OUT' ? endpoints.source : endpoints.target,
    delta: sign,
  }));
}

function mergeCounts(deltas: readonly CountDelta[]): CountDelta[] {
  // Keyed by type too: source 1 (LONG) and "1" (STRING) are different starts. A LONG is a number or a bigint
  // (one kind per value, types.ts), so both count as one kind here.
  const merged = new Map<string, CountDelta>();
  for (const d of deltas) {
    const id = `${d.direction}\u0000${typeof d.start === 'string' ? 's' : 'n'}\u0000${String(d.start)}`;
    const found = merged.get(id);
    if (found) found.delta += d.delta;
    else merged.set(id, { ...d });
  }
  return [...merged.values()].filter((d) => d.delta !== 0);
}

function without(entries: readonly IndexEntry[], others: readonly IndexEntry[]): IndexEntry[] {
  return entries.filter((e) => !others.some((o) => deepEqual(e, o)));
}

export interface DerivedChanges {
  counts: CountDelta[];
  removeIndex: IndexEntry[];
  addIndex: IndexEntry[];
}

/**
 * What a transition from `before` to `after` changes in the derived data. Counts are the difference of
 * "what before contributed" and "what after contributes": CREATED/DELETED come out as +1/-1 per direction,
 * and a multi-edge whose `_source`/`_target` changes moves its count (-1 under the old start, +1 under the
 * new) even though its accumulator is 0 (docs/model.md "Status and derived data").
 */
export function derivedChanges(
  before: EdgeState | null,
  after: EdgeState | null,
  key: EdgeKey,
  table: TableShape,
): DerivedChanges {
  const counts = mergeCounts([...countsOf(before, key, table, -1), ...countsOf(after, key, table, 1)]);
  const oldEntries = indexEntriesOf(before, key, table);
  const newEntries = indexEntriesOf(after, key, table);
  // Entries identical before and after are skipped: a replay or an UPDATE of unindexed fields writes nothing.
  return { counts, removeIndex: without(oldEntries, newEntries), addIndex: without(newEntries, oldEntries) };
}
