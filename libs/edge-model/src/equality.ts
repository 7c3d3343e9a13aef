/**
 * Structural equality of states. "Replaying an already-applied event yields before == after" (docs/model.md,
 * "The transition") is judged by this, so it must not depend on key order: states come back from JSON
 * (WAL, CDC, snapshots) with whatever key order the writer used.
 */
import type { EdgeState, PropertyCell } from './types';

/** Deep equality of JSON-like values; object key order is ignored, array order is not. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keysA = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const keysB = Object.keys(rb).filter((k) => rb[k] !== undefined);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && deepEqual(ra[k], rb[k]));
}

function cellsEqual(a: PropertyCell, b: PropertyCell): boolean {
  return a.version === b.version && deepEqual(a.value ?? null, b.value ?? null);
}

export function statesEqual(a: EdgeState | null, b: EdgeState | null): boolean {
  if (a === null || b === null) return a === b;
  if (
    a.active !== b.active ||
    a.version !== b.version ||
    a.createdAt !== b.createdAt ||
    a.deletedAt !== b.deletedAt
  ) {
    return false;
  }
  const namesA = Object.keys(a.properties);
  if (namesA.length !== Object.keys(b.properties).length) return false;
  return namesA.every((name) => {
    const cellA = a.properties[name];
    const cellB = b.properties[name];
    return cellA !== undefined && cellB !== undefined && cellsEqual(cellA, cellB);
  });
}
