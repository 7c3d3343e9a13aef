/**
 * The order the core keeps index rows in, recomputed from a state (apps/actionbase storage/sort-key.ts is
 * the reference, not imported: apps never import apps): per index field null < false < true < numbers <
 * strings (UTF-8 bytes; other values as their JSON), DESC reversing a field, then the storage key's bytes
 * (JSON [source, target], or JSON id for multi-edges) breaking ties.
 */
import { stringifyJson } from '@pipeline/events';

const rank = (v: unknown): number =>
  v === null || v === undefined ? 0 : v === false ? 1 : v === true ? 2 : typeof v === 'number' || typeof v === 'bigint' ? 3 : 4;

export function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 3) {
    // number and bigint compare exactly with each other: LONGs one apart beyond 2^53 keep their order
    const x = a as number | bigint;
    const y = b as number | bigint;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ra === 4) {
    const s = (v: unknown) => Buffer.from(typeof v === 'string' ? v : stringifyJson(v), 'utf8');
    return Buffer.compare(s(a), s(b));
  }
  return 0;
}

export interface IndexedRow {
  key: string;
  values: unknown[];
}

export function compareIndexRows(a: IndexedRow, b: IndexedRow, orders: readonly ('ASC' | 'DESC')[]): number {
  for (let i = 0; i < orders.length; i++) {
    const c = compareValues(a.values[i], b.values[i]);
    if (c !== 0) return orders[i] === 'DESC' ? -c : c;
  }
  return Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8'));
}
