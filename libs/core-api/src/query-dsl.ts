/**
 * Actionbase's query DSL, `POST /graph/v3/query` (its server's ActionbaseQuery and NamedQueryResult): a list
 * of steps run in order, each reading one table (SELF, GET, COUNT, SCAN, CACHE), fed by constant values or by
 * a column of an earlier step, optionally post-processed and aggregated; the steps marked `include` come
 * back as named result sets. The schemas are strict: an unknown field is an error naming it, not ignored.
 */
import { z } from 'zod';
import type { CoreClient } from './client';

/** What one query may ask for (docs/api.md, "Query DSL"): beyond these the core answers 400 naming the limit. */
export const QUERY_DSL_LIMITS = {
  /** Steps of one query, the steps nested in STEP vertices included. */
  steps: 16,
  /** Distinct values of one vertex: a VALUE list, or the column of an earlier step fed into a step. */
  vertexValues: 1_000,
  /** Rows one query may read and make: every step's rows, the rows SPLIT_EXPLODE makes, and the worst case of a SCAN or CACHE (sources × limit) before it reads. */
  rows: 10_000,
  /** Largest `limit` of a SCAN or CACHE step (the REST scan's own limit). */
  scanLimit: 1_000,
  /** Longest SPLIT_EXPLODE `regex`, in characters. */
  regexChars: 1_000,
} as const;

export const QUERY_STEP_TYPES = ['SELF', 'GET', 'COUNT', 'SCAN', 'CACHE'] as const;
/** Actionbase's v2 DataType names that its v3 PrimitiveType also has (DECIMAL and JSON fail there too). */
export const QUERY_DATA_TYPES = ['BYTE', 'SHORT', 'INT', 'LONG', 'BOOLEAN', 'FLOAT', 'DOUBLE', 'STRING'] as const;
/** Actionbase's StatKey: accepted, and, as on Actionbase's server, without effect on the answer. */
export const QUERY_STAT_KEYS = ['WITH_ALL', 'SRC_DEGREE', 'TGT_DEGREE', 'EDGE_ID', 'OFFSET', 'IGNORE_PHASE', 'INVALIDATE_CACHE'] as const;

const direction = z.enum(['OUT', 'IN'], { error: 'expected OUT or IN (upper case)' });
const order = z.enum(['ASC', 'DESC'], { error: 'expected ASC or DESC (upper case)' });
const dataType = z.enum(QUERY_DATA_TYPES, { error: `expected one of ${QUERY_DATA_TYPES.join(', ')}` });
const name = z.string().min(1, 'must not be empty');
const int = z.number().int('expected an integer');
const scalar = z.union([z.string(), z.number(), z.bigint(), z.boolean()], { error: 'expected a string, a number or a boolean' });

const postProcessor = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('JSON_OBJECT'),
      field: name,
      paths: z.array(z.strictObject({ path: name, alias: name, dataType })).min(1, 'give one or more paths'),
      drop: z.boolean().default(true),
    }),
    z.strictObject({
      type: z.literal('SPLIT_EXPLODE'),
      field: name,
      regex: z.string().min(1, 'must not be empty').max(QUERY_DSL_LIMITS.regexChars, `at most ${QUERY_DSL_LIMITS.regexChars} characters`),
      limit: int.default(0),
      alias: name,
      dataType,
      drop: z.boolean().default(true),
    }),
  ],
  { error: 'expected type JSON_OBJECT or SPLIT_EXPLODE' },
);

const aggregator = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('FLATTEN') }),
    z.strictObject({ type: z.literal('COUNT'), field: name, order, limit: int.min(0, 'must not be negative') }),
    z.strictObject({
      type: z.literal('SUM'),
      valueField: name,
      keyFields: z.array(name).min(1, 'give one or more key fields'),
      order,
      limit: int.min(0, 'must not be negative'),
    }),
  ],
  { error: 'expected type FLATTEN, COUNT or SUM' },
);

export type QueryPostProcessor = z.output<typeof postProcessor>;
export type QueryAggregator = z.output<typeof aggregator>;

export type QueryVertex =
  | { type: 'VALUE'; value: (string | number | bigint | boolean)[] }
  | { type: 'REF'; ref: string; field: string }
  | { type: 'STEP'; step: QueryStep; field: string };

interface StepCommon {
  /** Absent: the core names the step with a random UUID, as Actionbase does. */
  name?: string | undefined;
  database: string;
  table: string;
  source: QueryVertex;
  include: boolean;
  memoize: boolean;
  post: QueryPostProcessor[];
  aggregators: QueryAggregator[];
}
export type QueryStep =
  | (StepCommon & { type: 'SELF' })
  | (StepCommon & { type: 'GET'; target: QueryVertex })
  | (StepCommon & { type: 'COUNT'; direction: 'OUT' | 'IN' })
  | (StepCommon & { type: 'SCAN'; direction: 'OUT' | 'IN'; index: string; limit: number; offset?: string | null | undefined; ranges?: string | null | undefined })
  | (StepCommon & { type: 'CACHE'; direction: 'OUT' | 'IN'; cache: string; limit: number });

const vertex: z.ZodType<QueryVertex> = z.lazy(() =>
  z.discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('VALUE'),
        value: z.array(scalar).max(QUERY_DSL_LIMITS.vertexValues, `at most ${QUERY_DSL_LIMITS.vertexValues} values per vertex (limit vertexValues)`),
      }),
      z.strictObject({ type: z.literal('REF'), ref: name, field: name }),
      z.strictObject({ type: z.literal('STEP'), step, field: name }),
    ],
    { error: 'expected type VALUE, REF or STEP' },
  ),
);

const common = {
  // Actionbase names an unnamed step with a random UUID, which is then its result set's name.
  name: name.optional(),
  database: name,
  table: name,
  source: vertex,
  include: z.boolean().default(false),
  // An execution hint on Actionbase's server (the step's result is cached for re-subscription); results are the same.
  memoize: z.boolean().default(false),
  post: z.array(postProcessor).default([]),
  aggregators: z.array(aggregator).default([]),
};
const limit = int.min(1, 'must be at least 1').max(QUERY_DSL_LIMITS.scanLimit, `at most ${QUERY_DSL_LIMITS.scanLimit} (limit scanLimit)`);

const stepSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('SELF'), ...common }),
    z.strictObject({ type: z.literal('GET'), ...common, target: vertex }),
    z.strictObject({ type: z.literal('COUNT'), ...common, direction }),
    z.strictObject({
      type: z.literal('SCAN'),
      ...common,
      direction,
      index: name,
      // Actionbase's default scan limit.
      limit: limit.default(10),
      offset: z.string().nullable().optional(),
      ranges: z.string().nullable().optional(),
    }),
    // Actionbase's CACHE step has no default limit: it is required.
    z.strictObject({ type: z.literal('CACHE'), ...common, direction, cache: name, limit }),
  ],
  { error: `expected type ${QUERY_STEP_TYPES.join(', ')}` },
);
const step: z.ZodType<QueryStep> = z.lazy(() => stepSchema);

export const queryDslRequestSchema = z.strictObject({
  query: z
    .array(step)
    .min(1, 'give one or more steps')
    .max(QUERY_DSL_LIMITS.steps, `at most ${QUERY_DSL_LIMITS.steps} steps per query (limit steps)`),
  stats: z.array(z.enum(QUERY_STAT_KEYS, { error: `expected one of ${QUERY_STAT_KEYS.join(', ')}` })).default([]),
});
export type QueryDslRequest = z.input<typeof queryDslRequestSchema>;
export type QueryDslParsed = z.output<typeof queryDslRequestSchema>;

/** One result set: Actionbase's QueryResult.NamedJsonFormat as its server writes it (meta and statistics are not written). */
export const namedQueryResultSchema = z.strictObject({
  name: z.string(),
  data: z.array(z.record(z.string(), z.unknown())),
  rows: z.number().int(),
  stats: z.array(z.unknown()),
  offset: z.string().nullable(),
  hasNext: z.boolean(),
});
export const queryDslResponseSchema = z.strictObject({ items: z.array(namedQueryResultSchema) });
export type NamedQueryResult = z.output<typeof namedQueryResultSchema>;
export type QueryDslResponse = z.output<typeof queryDslResponseSchema>;

/** `POST /graph/v3/query`: the included steps' result sets, in the order of the steps. */
export async function queryDsl(client: CoreClient, request: QueryDslRequest): Promise<QueryDslResponse> {
  const r = await client.call<unknown>('POST', '/graph/v3/query', request);
  return queryDslResponseSchema.parse(r.body);
}
