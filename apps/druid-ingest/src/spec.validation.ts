/**
 * Rejects a bad ingestion spec before anything reaches the Overlord: a zod schema of the parts of Druid's
 * spec this app writes (shape and types), then semantic checks Druid would only report after the task
 * failed (or never: a dimension whose input field does not exist is silently all-null).
 */
import { CdcRecordSchema } from '@pipeline/events';
import { z } from 'zod';
import { pathExistsInSchema } from '@pipeline/druid';
import { PipelineError } from '@pipeline/errors';

const GRANULARITY_ORDER = ['NONE', 'SECOND', 'MINUTE', 'FIVE_MINUTE', 'TEN_MINUTE', 'FIFTEEN_MINUTE', 'THIRTY_MINUTE', 'HOUR', 'SIX_HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR', 'ALL'];
const GranularitySchema = z
  .string()
  .transform((s) => s.toUpperCase())
  .pipe(z.enum(GRANULARITY_ORDER as [string, ...string[]]));

/** Druid datasource names: no leading dot, no slash, no whitespace other than space, not empty. */
const DataSourceSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^./][^/\t\n\r]*$/, 'must not start with "." or contain "/" or tabs/newlines');

const Iso8601Period = z.string().regex(/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/, 'must be an ISO-8601 period such as PT1H');

const FlattenFieldSchema = z.object({
  type: z.enum(['path', 'root', 'jq', 'tree']),
  name: z.string().min(1),
  expr: z.string().optional(),
});

const InputFormatSchema = z.object({
  type: z.literal('json'),
  flattenSpec: z
    .object({
      useFieldDiscovery: z.boolean().default(true),
      fields: z.array(FlattenFieldSchema),
    })
    .optional(),
});

const DimensionSchema = z.union([
  z.string().min(1),
  z.object({ type: z.enum(['string', 'long', 'float', 'double', 'json', 'auto']), name: z.string().min(1) }),
]);

const MetricSchema = z.object({
  type: z.enum(['count', 'longSum', 'doubleSum', 'floatSum', 'longMin', 'longMax', 'doubleMin', 'doubleMax']),
  name: z.string().min(1),
  fieldName: z.string().min(1).optional(),
});

const FilterSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.object({ type: z.literal('not'), field: FilterSchema }),
    z.object({ type: z.enum(['and', 'or']), fields: z.array(FilterSchema).min(1) }),
    z.object({ type: z.literal('selector'), dimension: z.string().min(1), value: z.string().nullable() }),
    z.object({ type: z.literal('like'), dimension: z.string().min(1), pattern: z.string() }),
    z.object({ type: z.literal('equality'), column: z.string().min(1), matchValueType: z.string(), matchValue: z.unknown() }),
  ]),
);

export const DataSchemaSchema = z.object({
  dataSource: DataSourceSchema,
  timestampSpec: z.object({ column: z.string().min(1), format: z.enum(['millis', 'auto', 'iso', 'posix', 'micro', 'nano']) }),
  dimensionsSpec: z.object({ dimensions: z.array(DimensionSchema).min(1) }),
  metricsSpec: z.array(MetricSchema),
  granularitySpec: z.object({
    type: z.literal('uniform'),
    segmentGranularity: GranularitySchema,
    queryGranularity: GranularitySchema,
    rollup: z.boolean(),
    intervals: z.array(z.string()).optional(),
  }),
  transformSpec: z
    .object({
      transforms: z.array(z.object({ type: z.literal('expression'), name: z.string().min(1), expression: z.string().min(1) })).optional(),
      filter: FilterSchema.optional(),
    })
    .optional(),
});

export const SupervisorSpecSchema = z.object({
  type: z.literal('kafka'),
  spec: z.object({
    dataSchema: DataSchemaSchema,
    ioConfig: z.object({
      type: z.literal('kafka'),
      topic: z.string().min(1).regex(/^[A-Za-z0-9._-]+$/, 'is not a valid Kafka topic name'),
      inputFormat: InputFormatSchema,
      consumerProperties: z.object({ 'bootstrap.servers': z.string().min(1) }).catchall(z.unknown()),
      useEarliestOffset: z.boolean(),
      taskCount: z.number().int().positive(),
      replicas: z.number().int().positive(),
      taskDuration: Iso8601Period,
      offsetFetchPeriod: Iso8601Period.optional(),
      pollTimeout: z.number().int().positive().optional(),
    }),
    tuningConfig: z.object({ type: z.literal('kafka') }).catchall(z.unknown()),
  }),
  context: z.record(z.string(), z.unknown()).optional(),
});

export const BatchSpecSchema = z.object({
  type: z.literal('index_parallel'),
  spec: z.object({
    dataSchema: DataSchemaSchema.extend({
      granularitySpec: DataSchemaSchema.shape.granularitySpec.extend({ intervals: z.array(z.string()).min(1) }),
    }),
    ioConfig: z.object({
      type: z.literal('index_parallel'),
      inputSource: z.object({ type: z.enum(['local', 'inline']) }).catchall(z.unknown()),
      inputFormat: InputFormatSchema,
      appendToExisting: z.boolean(),
      dropExisting: z.boolean().optional(),
    }),
    tuningConfig: z.object({ type: z.literal('index_parallel') }).catchall(z.unknown()),
  }),
});

export interface SpecIssue {
  path: string;
  message: string;
}

/** A spec Druid would refuse or misread: it never becomes valid by waiting, so nothing retries it. */
export class InvalidSpecError extends PipelineError {
  override readonly name = 'InvalidSpecError';
  override readonly code = 'INVALID_SPEC' as const;
  override readonly retryable = false as const;

  constructor(readonly issues: SpecIssue[]) {
    super('INVALID_SPEC', `invalid Druid ingestion spec:\n${issues.map((i) => `  - ${i.path || '(spec)'}: ${i.message}`).join('\n')}`, { retryable: false });
  }
}

type DataSchema = z.output<typeof DataSchemaSchema>;
type InputFormat = z.output<typeof InputFormatSchema>;

const dimName = (d: z.output<typeof DimensionSchema>) => (typeof d === 'string' ? d : d.name);

function filterColumns(f: unknown): string[] {
  if (!f || typeof f !== 'object') return [];
  const o = f as Record<string, unknown>;
  const own = typeof o['dimension'] === 'string' ? [o['dimension']] : typeof o['column'] === 'string' ? [o['column']] : [];
  const nested = [o['field'], ...(Array.isArray(o['fields']) ? o['fields'] : [])].flatMap(filterColumns);
  return [...own, ...nested];
}

/**
 * The input columns a Druid expression reads: identifiers (bare or double-quoted) that are not function names,
 * outside single-quoted string literals. Enough for the expressions this app writes; `null` is a literal.
 */
export function expressionColumns(expression: string): string[] {
  const code = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''");
  const out = new Set<string>();
  for (const m of code.matchAll(/"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*)(\s*\()?/g)) {
    if (m[1] !== undefined) out.add(m[1]);
    else if (m[2] && !m[3] && m[2] !== 'null') out.add(m[2]);
  }
  return [...out];
}

/** Checks that need the whole spec: names line up, every column is fed, granularities nest, paths exist. */
function semanticIssues(ds: DataSchema, inputFormat: InputFormat, base: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const at = (p: string, message: string) => issues.push({ path: `${base}.${p}`, message });
  const dims = ds.dimensionsSpec.dimensions.map(dimName);
  const metrics = ds.metricsSpec.map((m) => m.name);

  const seen = new Set<string>();
  const transformNames = new Set<string>();
  for (const [i, t] of (ds.transformSpec?.transforms ?? []).entries()) {
    if (transformNames.has(t.name)) at(`dataSchema.transformSpec.transforms[${i}].name`, `transform "${t.name}" is declared twice`);
    transformNames.add(t.name);
  }
  for (const [i, n] of dims.entries()) {
    if (seen.has(n)) at(`dataSchema.dimensionsSpec.dimensions[${i}]`, `dimension "${n}" is declared twice`);
    seen.add(n);
  }
  for (const [i, n] of metrics.entries()) {
    if (seen.has(n)) at(`dataSchema.metricsSpec[${i}].name`, `column "${n}" is both a metric and a dimension (or declared twice)`);
    seen.add(n);
  }
  for (const [i, n] of [...dims, ...metrics].entries()) {
    if (n === '__time') at(`dataSchema (column ${i})`, '"__time" is reserved for the timestamp');
  }
  if (ds.timestampSpec.column && dims.includes(ds.timestampSpec.column)) {
    at('dataSchema.timestampSpec.column', `"${ds.timestampSpec.column}" is the timestamp and cannot also be a dimension`);
  }
  for (const [i, m] of ds.metricsSpec.entries()) {
    if (m.type !== 'count' && !m.fieldName) at(`dataSchema.metricsSpec[${i}].fieldName`, `a ${m.type} metric needs a fieldName`);
  }

  const g = ds.granularitySpec;
  if (GRANULARITY_ORDER.indexOf(g.queryGranularity) > GRANULARITY_ORDER.indexOf(g.segmentGranularity)) {
    at('dataSchema.granularitySpec.queryGranularity', `${g.queryGranularity} is coarser than segmentGranularity ${g.segmentGranularity}; rollup buckets must fit in a segment`);
  }
  if (!g.rollup && ds.metricsSpec.length > 0 && g.queryGranularity !== 'NONE') {
    // Allowed by Druid, but the metrics then aggregate nothing: call it out as the likely mistake it is.
    at('dataSchema.granularitySpec.rollup', 'rollup is off but metrics are declared: every CDC record stays its own row (set rollup: true or drop the metrics)');
  }
  for (const [i, interval] of (g.intervals ?? []).entries()) {
    const [from, to] = interval.split('/');
    const a = Date.parse(from ?? '');
    const b = Date.parse(to ?? '');
    if (Number.isNaN(a) || Number.isNaN(b)) at(`dataSchema.granularitySpec.intervals[${i}]`, `"${interval}" is not an ISO-8601 interval start/end`);
    else if (a >= b) at(`dataSchema.granularitySpec.intervals[${i}]`, `"${interval}" ends before it starts`);
  }

  const flatten = inputFormat.flattenSpec;
  const transforms = ds.transformSpec?.transforms ?? [];
  if (flatten && !flatten.useFieldDiscovery) {
    const read = new Set(flatten.fields.map((f) => f.name));
    // Transforms read the input row only, never another transform's output.
    for (const [i, t] of transforms.entries()) {
      for (const col of expressionColumns(t.expression)) {
        if (!read.has(col)) at(`dataSchema.transformSpec.transforms[${i}].expression`, `reads "${col}", which the flattenSpec does not produce (it would be null in every row)`);
      }
    }
    const produced = new Set([...read, ...transforms.map((t) => t.name)]);
    const need: [string, string][] = [
      ['dataSchema.timestampSpec.column', ds.timestampSpec.column],
      ...dims.map((d, i) => [`dataSchema.dimensionsSpec.dimensions[${i}]`, d] as [string, string]),
      ...ds.metricsSpec.flatMap((m, i) => (m.fieldName ? [[`dataSchema.metricsSpec[${i}].fieldName`, m.fieldName] as [string, string]] : [])),
    ];
    for (const [p, col] of need) {
      if (!produced.has(col)) at(p, `"${col}" is not produced by the flattenSpec (useFieldDiscovery is off, so it would be null in every row)`);
    }
    for (const [i, f] of flatten.fields.entries()) {
      if (f.type === 'path' && (!f.expr || !pathExistsInSchema(CdcRecordSchema, f.expr))) {
        at(`ioConfig.inputFormat.flattenSpec.fields[${i}].expr`, `${f.expr ?? '(missing)'} names no field of the CDC record schema (@pipeline/events CdcRecordSchema)`);
      }
    }
  }
  // The transform filter sees the input row: a dimension, or any field the flattenSpec produces.
  const inputFields = new Set([...dims, ...transforms.map((t) => t.name), ...(flatten && !flatten.useFieldDiscovery ? flatten.fields.map((f) => f.name) : [])]);
  const filterCols = filterColumns(ds.transformSpec?.filter);
  for (const col of filterCols) {
    if (!inputFields.has(col)) at('dataSchema.transformSpec.filter', `filters on "${col}", which is neither a dimension nor a field the flattenSpec produces`);
  }
  return issues;
}

function zodIssues(err: z.ZodError): SpecIssue[] {
  return err.issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, ''),
    message: i.message,
  }));
}

/** The spec as Druid will get it, or an InvalidSpecError listing every problem with its path. */
export function validateSupervisorSpec<T>(spec: T): T {
  const parsed = SupervisorSpecSchema.safeParse(spec);
  if (!parsed.success) throw new InvalidSpecError(zodIssues(parsed.error));
  const issues = semanticIssues(parsed.data.spec.dataSchema, parsed.data.spec.ioConfig.inputFormat, 'spec');
  if (issues.length) throw new InvalidSpecError(issues);
  // The input, not zod's output: zod drops keys it does not know, and Druid must get the spec as written.
  return spec;
}

export function validateBatchSpec<T>(spec: T): T {
  const parsed = BatchSpecSchema.safeParse(spec);
  if (!parsed.success) throw new InvalidSpecError(zodIssues(parsed.error));
  const issues = semanticIssues(parsed.data.spec.dataSchema, parsed.data.spec.ioConfig.inputFormat, 'spec');
  if (issues.length) throw new InvalidSpecError(issues);
  return spec;
}
