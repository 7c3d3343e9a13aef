/**
 * Druid Kafka supervisor specs (and the parts native batch specs share) for CDC records.
 * Druid docs: "Apache Kafka ingestion" (supervisor spec: dataSchema, ioConfig, tuningConfig) and
 * "Ingestion spec reference" (timestampSpec, dimensionsSpec, metricsSpec, granularitySpec, transformSpec).
 */
import { SYSTEM_DATABASE } from '@pipeline/events';
import { ACCUMULATOR_FIELD, BEFORE_FIELDS, DIMENSIONS, METRICS, MOVED_FROM_DIMENSIONS, RECORD_TYPE_FIELD, TIMESTAMP_COLUMN } from '@pipeline/druid';

export const GRANULARITIES = ['second', 'minute', 'fifteen_minute', 'thirty_minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface DataSchemaOptions {
  dataSource: string;
  /** Rollup granularity (`queryGranularity`): rows of one minute with the same dimensions become one. */
  queryGranularity: Granularity;
  /** Segment granularity: how time is cut into segments. */
  segmentGranularity: Granularity;
  /** Rollup on (facts summed per queryGranularity bucket) or off (one row per CDC record). */
  rollup: boolean;
}

export interface SupervisorOptions extends DataSchemaOptions {
  topic: string;
  /** Kafka bootstrap servers as Druid (not this app) reaches them. */
  bootstrapServers: string;
  /** Start from the earliest offset when the supervisor has no stored offsets. */
  useEarliestOffset: boolean;
  /** ISO-8601 period a task reads before it publishes its segments, e.g. PT1H. */
  taskDuration: string;
  taskCount: number;
  replicas: number;
  /** Kafka consumer group of the supervisor's tasks is managed by Druid; this only sets the client poll timeout. */
  pollTimeoutMs?: number;
  /** Free-form context kept with the supervisor (the apply step stores the desired spec there). */
  context?: Record<string, unknown>;
}

/** The JSON input format with a flattenSpec that lifts the nested CDC fields into columns. */
export function cdcInputFormat() {
  return {
    type: 'json',
    flattenSpec: {
      // Only the declared fields: auto-discovery would add every root field (events, before, after...).
      useFieldDiscovery: false,
      fields: [
        { type: 'path', name: TIMESTAMP_COLUMN, expr: `$.${TIMESTAMP_COLUMN}` },
        ...DIMENSIONS.map((d) => ({ type: 'path', name: d.name, expr: d.path })),
        { type: 'path', name: ACCUMULATOR_FIELD.name, expr: ACCUMULATOR_FIELD.path },
        { type: 'path', name: RECORD_TYPE_FIELD.name, expr: RECORD_TYPE_FIELD.path },
        ...Object.values(BEFORE_FIELDS).map((f) => ({ type: 'path', name: f.name, expr: f.path })),
      ],
    },
  };
}

/**
 * Keeps edge records only, before they reach a segment: drops vertex records (`type` other than `e`: their
 * accumulator counts vertices, not edges) and system records (heartbeats, schema changes: database `sys`,
 * docs/records.md; for v2-style tables named `sys.*`, those too). The record type is a flattened field, not a
 * dimension: Druid's transform filter sees every field of the input row.
 */
export function edgeRecordFilter() {
  return {
    type: 'and',
    fields: [
      { type: 'selector', dimension: RECORD_TYPE_FIELD.name, value: RECORD_TYPE_FIELD.edge },
      {
        type: 'not',
        field: {
          type: 'or',
          fields: [
            { type: 'selector', dimension: 'database', value: SYSTEM_DATABASE },
            { type: 'like', dimension: 'table', pattern: `${SYSTEM_DATABASE}.%` },
          ],
        },
      },
    ],
  };
}

/**
 * Druid expressions (Druid docs: "Expressions") that split the count delta of a record that moved a multi-edge
 * over the two pairs, as the core moves its counts: -1 at the pair an active edge left (`movedFromAccumulator`,
 * with that pair as `movedFromSource`/`movedFromTarget`), and the rest of the record's `accumulator` at its new
 * pair, i.e. 1 when it is active there. The record's net effect stays `accumulator` (what per-table sums read).
 * Transforms read the input row only, never each other, so the move test is written out in each. `source` and
 * `target` here are the flattened `after` endpoints; a record without `before` (a new edge) or without `after`
 * (ERROR) moved nothing. JSON booleans reach expressions as 1/0.
 */
export function moveTransforms() {
  const b = BEFORE_FIELDS;
  const moved = `(notnull(${b.source.name}) && notnull(source) && (${b.source.name} != source || ${b.target.name} != target))`;
  const left = `if(${moved} && ${b.active.name}, -1, 0)`;
  return [
    { type: 'expression', name: MOVED_FROM_DIMENSIONS[0]!.name, expression: `if(${moved}, ${b.source.name}, null)` },
    { type: 'expression', name: MOVED_FROM_DIMENSIONS[1]!.name, expression: `if(${moved}, ${b.target.name}, null)` },
    { type: 'expression', name: METRICS.movedFromAccumulator, expression: left },
    // Shadows the input field of the same name (Druid lets a transform replace an input column).
    { type: 'expression', name: ACCUMULATOR_FIELD.name, expression: `${ACCUMULATOR_FIELD.name} - ${left}` },
  ];
}

export function cdcDataSchema(o: DataSchemaOptions, intervals?: string[]) {
  return {
    dataSource: o.dataSource,
    timestampSpec: { column: TIMESTAMP_COLUMN, format: 'millis' },
    dimensionsSpec: { dimensions: [...DIMENSIONS, ...MOVED_FROM_DIMENSIONS].map((d) => ({ type: d.type, name: d.name })) },
    metricsSpec: [
      { type: 'longSum', name: METRICS.accumulator, fieldName: ACCUMULATOR_FIELD.name },
      { type: 'longSum', name: METRICS.movedFromAccumulator, fieldName: METRICS.movedFromAccumulator },
      { type: 'count', name: METRICS.events },
    ],
    granularitySpec: {
      type: 'uniform',
      segmentGranularity: o.segmentGranularity.toUpperCase(),
      queryGranularity: o.queryGranularity.toUpperCase(),
      rollup: o.rollup,
      ...(intervals ? { intervals } : {}),
    },
    transformSpec: { transforms: moveTransforms(), filter: edgeRecordFilter() },
  };
}

export type SupervisorSpec = ReturnType<typeof buildSupervisorSpec>;

/** The Kafka supervisor spec of one datasource fed by the CDC topic. */
export function buildSupervisorSpec(o: SupervisorOptions) {
  return {
    type: 'kafka' as const,
    spec: {
      dataSchema: cdcDataSchema(o),
      ioConfig: {
        type: 'kafka' as const,
        topic: o.topic,
        inputFormat: cdcInputFormat(),
        consumerProperties: {
          'bootstrap.servers': o.bootstrapServers,
          // The core writes with a transactional-free idempotent producer; read_committed costs nothing and is safe.
          'isolation.level': 'read_committed',
        },
        useEarliestOffset: o.useEarliestOffset,
        taskCount: o.taskCount,
        replicas: o.replicas,
        taskDuration: o.taskDuration,
        // How often the supervisor asks its tasks for their offsets (Druid's default PT30S, its minimum PT5S):
        // the offsets reported in the status are what `wal-replay reconcile` waits on before comparing.
        offsetFetchPeriod: 'PT5S',
        ...(o.pollTimeoutMs !== undefined ? { pollTimeout: o.pollTimeoutMs } : {}),
      },
      tuningConfig: {
        type: 'kafka' as const,
        // Nano-quickstart sized: hand rows over to a segment early rather than holding them on the heap.
        maxRowsInMemory: 100_000,
        maxRowsPerSegment: 5_000_000,
        // A task whose segments are never loaded (e.g. the datasource was dropped meanwhile) gives its slot
        // back after 15 minutes instead of waiting for the handoff forever.
        handoffConditionTimeout: 900_000,
      },
    },
    ...(o.context ? { context: o.context } : {}),
  };
}
