/**
 * The columns Druid reads from a native (v3) CDC record, derived from the shared zod schema of
 * @pipeline/events: every JSONPath below is checked against CdcRecordSchema when this module loads, so a
 * renamed field in libs/events fails the unit tests (and the app's start) instead of silently ingesting nulls.
 *
 * CDC is ingested as facts (Druid cannot update rows): one row per CDC record, with the count delta
 * (`accumulator`) as a metric that rollup sums (conventions.md, "Druid: ingest each change as a fact").
 */
import { CdcRecordSchema } from '@pipeline/events';
import type { z } from 'zod';

export interface CdcColumn {
  /** Column name in Druid. */
  name: string;
  /** Jayway JSONPath into the CDC record (Druid's flattenSpec `path`). */
  path: string;
  /** Druid column type. */
  type: 'string' | 'long';
  description: string;
}

/** The event time: when the core committed the change (epoch ms). */
export const TIMESTAMP_COLUMN = 'processedAt';

export const DIMENSIONS: readonly CdcColumn[] = [
  { name: 'database', path: '$.context.database', type: 'string', description: 'database (v2: service)' },
  { name: 'table', path: '$.context.table', type: 'string', description: 'table after alias resolution (v2: label)' },
  // `after` is the stored state (a tombstone after a delete); null only for ERROR records, which carry no count.
  { name: 'source', path: '$.after.source', type: 'string', description: 'edge source (multi-edges: _source)' },
  { name: 'target', path: '$.after.target', type: 'string', description: 'edge target (multi-edges: _target)' },
  { name: 'status', path: '$.status', type: 'string', description: 'CREATED | DELETED | UPDATED | IDLE | ERROR | PURGED' },
  // One CDC record merges every event of its key in one request, applied by version; the first one names the
  // operation of the common single-event case. A merged group is still counted exactly by `accumulator`.
  { name: 'operation', path: '$.events[0].type', type: 'string', description: 'mutation type of the first merged event: INSERT | UPDATE | DELETE' },
  { name: 'actor', path: '$.context.request.actor', type: 'string', description: 'X-Actor-ID of the request' },
];

/** Raw input fields the metrics aggregate. */
export const ACCUMULATOR_FIELD = { name: 'accumulator', path: '$.accumulator' } as const;

/**
 * The record type, read only to filter: `e` for edges. Vertex records (`v`, Actionbase's v3) share the topic and
 * carry an accumulator of their own, which must not count in an edge table's sums.
 */
export const RECORD_TYPE_FIELD = { name: 'recordType', path: '$.type', edge: 'e' } as const;

/**
 * The stored state before the record (`$.before`), read only to tell a multi-edge that moved: its id stays, its
 * endpoints change, and the core moves its counts from the old pair to the new one while the record's
 * `accumulator` is the net effect (0 for an active edge that stayed active) and `after` names only the new pair.
 * Not dimensions: the spec's transforms turn them into the moved-from columns below.
 */
export const BEFORE_FIELDS = {
  source: { name: 'beforeSource', path: '$.before.source' },
  target: { name: 'beforeTarget', path: '$.before.target' },
  active: { name: 'beforeActive', path: '$.before.active' },
} as const;

/**
 * Dimensions the spec's transforms compute (no path of their own): the pair a multi-edge moved away from, on
 * the row of the record that moved it, null on every other row.
 */
export const MOVED_FROM_DIMENSIONS: readonly Omit<CdcColumn, 'path'>[] = [
  { name: 'movedFromSource', type: 'string', description: 'a moved multi-edge: its source before the record (else null)' },
  { name: 'movedFromTarget', type: 'string', description: 'a moved multi-edge: its target before the record (else null)' },
];

/** Metric column names in the datasource. */
export const METRICS = {
  /**
   * SUM of the count delta at (`source`, `target`): +1 created, -1 deleted; for a record that moved a multi-edge,
   * whether it is active at its new pair (the record's `accumulator` minus `movedFromAccumulator`).
   */
  accumulator: 'accumulator',
  /** SUM of the count delta at (`movedFromSource`, `movedFromTarget`): -1 when an active multi-edge left that pair, else 0. */
  movedFromAccumulator: 'movedFromAccumulator',
  /** Number of CDC records rolled up into the row. */
  events: 'events',
} as const;

type AnySchema = z.ZodType;

/** The part of zod 4's internal definition the walk below reads. */
interface ZodNode {
  _zod?: { def?: { type?: string; innerType?: ZodNode; in?: ZodNode; element?: ZodNode; shape?: Record<string, ZodNode> } };
}

/** Peels optional/nullable/default wrappers off a zod 4 schema. */
function unwrap(schema: ZodNode | undefined): ZodNode | undefined {
  let s = schema;
  for (let i = 0; i < 10 && s; i++) {
    const def = s._zod?.def;
    const t = def?.type;
    if (t === 'optional' || t === 'nullable' || t === 'default' || t === 'readonly' || t === 'nonoptional') s = def?.innerType;
    else if (t === 'pipe') s = def?.in;
    else break;
  }
  return s;
}

/**
 * Whether a simple JSONPath (`$.a.b`, `$.a[0].b`) names a field of the schema. Only the forms used
 * above are supported; anything else is reported as unknown.
 */
export function pathExistsInSchema(schema: AnySchema, jsonPath: string): boolean {
  if (!jsonPath.startsWith('$.')) return false;
  const tokens = jsonPath
    .slice(2)
    .split('.')
    .flatMap((seg) => {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/.exec(seg);
      if (!m) return [null];
      const idx = (m[2] ?? '').match(/\[\d+\]/g) ?? [];
      return [m[1]!, ...idx.map(() => '[]')];
    });
  let s = unwrap(schema as unknown as ZodNode);
  for (const tok of tokens) {
    const def = s?._zod?.def;
    if (tok === null || !def) return false;
    if (tok === '[]') {
      if (def.type !== 'array') return false;
      s = unwrap(def.element);
      continue;
    }
    const next = def.type === 'object' ? def.shape?.[tok] : undefined;
    if (!next) return false;
    s = unwrap(next);
  }
  return true;
}

/** Paths of the columns that the CDC schema does not define (empty when they all line up). */
export function columnsMissingFromSchema(columns: readonly { path: string }[] = [...DIMENSIONS, ACCUMULATOR_FIELD, RECORD_TYPE_FIELD, ...Object.values(BEFORE_FIELDS)]): string[] {
  return columns.filter((c) => !pathExistsInSchema(CdcRecordSchema, c.path)).map((c) => c.path);
}
