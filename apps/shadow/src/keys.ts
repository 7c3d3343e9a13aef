/**
 * What shadow compares: a key names one thing both cores must answer alike. An edge of a unique-edge table
 * (source, target), a multi-edge (id), or a count (start and direction), read the same way on both sides.
 */
import type { Direction, Endpoint, EdgeView } from '@pipeline/core-api';

export type KeyRef =
  | { kind: 'edge'; db: string; table: string; source: Endpoint; target: Endpoint }
  | { kind: 'multi'; db: string; table: string; id: Endpoint }
  | { kind: 'count'; db: string; table: string; direction: Direction; start: Endpoint };

/**
 * A stable name for a key: the map key, and what the report and logs show. Ends as strings: a LONG end is a
 * number in the WAL and in answers alike, but one table never mixes types, so this loses nothing.
 */
export function keyId(k: KeyRef): string {
  switch (k.kind) {
    case 'edge':
      return `edge ${k.db}.${k.table} ${JSON.stringify([String(k.source), String(k.target)])}`;
    case 'multi':
      return `multi ${k.db}.${k.table} ${JSON.stringify(String(k.id))}`;
    case 'count':
      return `count ${k.db}.${k.table} ${k.direction} ${JSON.stringify(String(k.start))}`;
  }
}

/** One side's answer for a key: the edge as a reader sees it (null when absent), or a count. */
export type Observed = { edge: NormalEdge | null } | { count: number };

export interface NormalEdge {
  /** A LONG: a bigint beyond 2^53 (nanosecond versions). */
  version: number | bigint;
  source: string;
  target: string;
  properties: Record<string, unknown>;
}

/**
 * An edge as a reader sees it. Ends compared as strings (a LONG end comes back as a number either way);
 * properties with a null value left out, since an unset and a null property read the same.
 */
export function normalEdge(e: EdgeView): NormalEdge {
  const properties: Record<string, unknown> = {};
  for (const name of Object.keys(e.properties).sort()) if (e.properties[name] !== null && e.properties[name] !== undefined) properties[name] = e.properties[name];
  return { version: e.version, source: String(e.source), target: String(e.target), properties };
}

/** Deep equality on JSON-shaped values, independent of key order. */
export function sameObserved(a: Observed, b: Observed): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (typeof v === 'bigint') return String(v);
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}
