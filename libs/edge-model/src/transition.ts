/**
 * The transition of docs/model.md ("The transition"): how one event changes the stored state of one edge.
 * Pure and dependency-free: the core applies it under the key's lock, and every WAL consumer (replay,
 * migration, consistency checks) applies it again and must reach the same state.
 */
import { PipelineError } from '@pipeline/errors';
import type { EdgeEvent, EdgeState, FieldSpec, PropertyCell, TransitionSchema, Version } from './types';

/** Why an event was refused. Not retryable: the same event against the same state is refused again. */
export class TransitionRejectedError extends PipelineError {
  override readonly name = 'TransitionRejectedError';
  override readonly code = 'NON_NULLABLE_MISSING' as const;
  override readonly retryable = false as const;

  constructor(readonly field: string) {
    super('NON_NULLABLE_MISSING', `non-nullable field ${field} is missing`, { retryable: false });
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A version in the canonical form of types.ts (Version): a safe integer as a number, a 64-bit one beyond it as
 * a bigint; undefined for anything else (a NaN, a rounded double, a value outside 64 bits).
 */
export function canonicalVersion(v: unknown): Version | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v !== 'bigint' || v < INT64_MIN || v > INT64_MAX) return undefined;
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** Orders two versions exactly, numbers and bigints alike (the relational operators compare across the two). */
export function compareVersions(a: Version, b: Version): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** docs/model.md "State kept per edge": no row = version minus infinity, everything null. */
export function initialState(): EdgeState {
  return { active: false, version: Number.NEGATIVE_INFINITY, createdAt: null, deletedAt: null, properties: {} };
}

function hasValue(cell: PropertyCell | undefined): boolean {
  return cell !== undefined && cell.value !== null && cell.value !== undefined;
}

/** The event's value for a field, or undefined when the event does not carry the field at all. */
function eventValue(event: EdgeEvent, field: string): unknown {
  return Object.prototype.hasOwnProperty.call(event.properties, field) ? event.properties[field] : undefined;
}

/** docs/model.md: active = createdAt is not null and (deletedAt is null or createdAt > deletedAt). */
function isActive(createdAt: Version | null, deletedAt: Version | null): boolean {
  return createdAt !== null && (deletedAt === null || createdAt > deletedAt);
}

function nextProperties(
  current: Readonly<Record<string, PropertyCell>>,
  event: EdgeEvent,
  fields: readonly FieldSpec[],
): Record<string, PropertyCell> {
  // Cells of fields the schema no longer lists are carried over untouched: the transition only decides
  // the schema's fields ("over the schema's fields"), and dropping stored data is not its call.
  const next: Record<string, PropertyCell> = {};
  for (const [name, cell] of Object.entries(current)) next[name] = { value: cell.value, version: cell.version };

  const v = event.version;
  for (const { name } of fields) {
    const cell = next[name];
    const value = eventValue(event, name);
    switch (event.type) {
      case 'INSERT': {
        if (value !== undefined && value !== null) {
          // Newer-or-equal wins so that, at equal versions, the later arrival wins (as for the tie rules).
          if (cell === undefined || v >= cell.version) next[name] = { value, version: v };
        } else {
          // INSERT replaces the whole set: a field it lacks becomes unset at its version, unless the field
          // holds a newer version or the same version with a value. An explicit null counts as lacking the
          // field: it leaves the record without that value, and treating it as a write would make
          // INSERT@v{a:null} vs UPDATE@v{a:1} depend on arrival order.
          const keep = cell !== undefined && (cell.version > v || (cell.version === v && hasValue(cell)));
          if (!keep) next[name] = { value: null, version: v };
        }
        break;
      }
      case 'UPDATE': {
        // UPDATE touches only the fields the event carries; explicit null unsets; an older event loses.
        if (value !== undefined && (cell === undefined || v >= cell.version)) {
          next[name] = { value, version: v };
        }
        break;
      }
      case 'DELETE': {
        // DELETE marks every field deleted at its version unless the field is newer.
        if (cell === undefined || cell.version <= v) next[name] = { value: null, version: v };
        break;
      }
    }
  }
  return next;
}

/**
 * Applies one event to a state (null = no row). Throws TransitionRejectedError when the result is active
 * and a non-nullable field of the schema has no value; the caller keeps the state it had.
 */
export function applyEvent(state: EdgeState | null, event: EdgeEvent, schema: TransitionSchema): EdgeState {
  // types.ts: versions are 64-bit integers in canonical form. A NaN or a rounded ns stamp would silently break
  // max() and ties; a bigint 5n next to a number 5 would break the ties (=== across the two kinds).
  const v = canonicalVersion(event.version);
  if (v === undefined) {
    throw new RangeError(`event ${event.id}: version ${String(event.version)} is not a 64-bit integer`);
  }
  const before = state ?? initialState();
  const tie = v === before.version;
  let { createdAt, deletedAt } = before;

  if (event.type === 'INSERT') {
    if (createdAt === null || v >= createdAt) createdAt = v;
    // Tie rule: an INSERT and a DELETE at the same version, the later arrival wins. Compared with the
    // createdAt just set, so that DELETE@v then INSERT@v revives the edge.
    if (tie && createdAt === deletedAt) deletedAt = null;
  } else if (event.type === 'DELETE') {
    if (deletedAt === null || v >= deletedAt) deletedAt = v;
    // Mirror image of the INSERT tie rule: INSERT@v then DELETE@v ends deleted.
    if (tie && deletedAt === createdAt) createdAt = null;
  }
  // UPDATE never touches createdAt/deletedAt.
  //
  // Known limit of the rule as docs/model.md states it (tie = event.version equals state.version): once a newer
  // event has moved state.version on, a same-version INSERT/DELETE pair is no longer a tie. So replaying
  // DELETE@2, INSERT@2 over the state of DELETE@2, INSERT@2, UPDATE@3 leaves createdAt == deletedAt == 2:
  // the edge ends inactive although it was active. Comparing with the counterpart stamp instead
  // (INSERT: deletedAt === event.version) would make such a replay restore the state; that is a change
  // to docs/model.md, not made here.

  const active = isActive(createdAt, deletedAt);
  const properties = nextProperties(before.properties, v === event.version ? event : { ...event, version: v }, schema.fields);

  if (active) {
    for (const field of schema.fields) {
      if (!field.nullable && !hasValue(properties[field.name])) throw new TransitionRejectedError(field.name);
    }
  }

  return { active, version: v > before.version ? v : before.version, createdAt, deletedAt, properties };
}

export interface FoldResult {
  state: EdgeState | null;
  applied: EdgeEvent[];
  rejected: { event: EdgeEvent; error: TransitionRejectedError }[];
}

/**
 * Folds a key's events in version order (docs/model.md "Mutation flow" step 5). The sort is stable, so for the
 * one order-dependent case, an INSERT and a DELETE with the same version, the later arrival wins.
 * A rejected event is skipped: the state stays what it was before it.
 */
export function foldEvents(
  state: EdgeState | null,
  events: readonly EdgeEvent[],
  schema: TransitionSchema,
): FoldResult {
  const sorted = events
    .map((event, arrival) => ({ event, arrival }))
    .sort((a, b) => compareVersions(a.event.version, b.event.version) || a.arrival - b.arrival)
    .map(({ event }) => event);

  let current = state;
  const applied: EdgeEvent[] = [];
  const rejected: FoldResult['rejected'] = [];
  for (const event of sorted) {
    try {
      current = applyEvent(current, event, schema);
      applied.push(event);
    } catch (error) {
      if (!(error instanceof TransitionRejectedError)) throw error;
      rejected.push({ event, error });
    }
  }
  return { state: current, applied, rejected };
}
