/**
 * Where an edge lives and in which order index rows come: the rules the core stores by and every checker
 * (wal-replay check, reconcile) recomputes, kept here once so that they cannot drift apart.
 */
import { encodeSortKey } from './sort-key';
import type { Endpoint } from './types';

/** A LONG as a bare JSON integer (64-bit ones included), a string as its JSON text. */
const endpointJson = (e: Endpoint): string => (typeof e === 'string' ? JSON.stringify(e) : String(e));

/**
 * The storage key of an edge within its table: the JSON text of `[source, target]`. Endpoints are canonical
 * (a LONG is a number within ±(2^53-1), a bigint beyond), so one edge has one key.
 */
export const storageKeyOf = (source: Endpoint, target: Endpoint): string => `[${endpointJson(source)},${endpointJson(target)}]`;

/** The storage key of a multi-edge: the JSON text of its id. */
export const multiEdgeKeyOf = (id: Endpoint): string => endpointJson(id);

/** An index row as a checker sees it: the storage key, and the values of the index's fields in order. */
export interface IndexedRow {
  key: string;
  values: readonly unknown[];
}

/**
 * The core's index order: the fields' order-preserving encoding (sort-key.ts; DESC reverses a field), then
 * the storage key's UTF-8 bytes breaking ties.
 */
export function compareIndexRows(a: IndexedRow, b: IndexedRow, orders: readonly ('ASC' | 'DESC')[]): number {
  const c = Buffer.compare(encodeSortKey(a.values, orders), encodeSortKey(b.values, orders));
  return c !== 0 ? c : Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8'));
}
