import { describe, expect, it } from '@jest/globals';
import { columnsMissingFromSchema, DIMENSIONS, pathExistsInSchema } from '@pipeline/druid';
import { CdcRecordSchema } from '@pipeline/events';
import { buildSupervisorSpec } from './supervisor.spec-builder';
import { baseOptions } from './spec-fixtures';
import { validateSupervisorSpec } from './spec.validation';


describe('supervisor spec builder', () => {
  const spec = buildSupervisorSpec(baseOptions);
  const ds = spec.spec.dataSchema;

  it('takes the event time from processedAt in epoch milliseconds', () => {
    expect(ds.timestampSpec).toEqual({ column: 'processedAt', format: 'millis' });
  });

  it('declares the CDC dimensions and sums the accumulator plus an event count', () => {
    expect(ds.dimensionsSpec.dimensions.map((d) => d.name)).toEqual(['database', 'table', 'source', 'target', 'status', 'operation', 'actor', 'movedFromSource', 'movedFromTarget']);
    expect(ds.metricsSpec).toEqual([
      { type: 'longSum', name: 'accumulator', fieldName: 'accumulator' },
      { type: 'longSum', name: 'movedFromAccumulator', fieldName: 'movedFromAccumulator' },
      { type: 'count', name: 'events' },
    ]);
  });

  it('flattens exactly the nested fields it needs, every one of them a field of the shared CDC schema', () => {
    const fields = spec.spec.ioConfig.inputFormat.flattenSpec.fields;
    expect(spec.spec.ioConfig.inputFormat.flattenSpec.useFieldDiscovery).toBe(false);
    expect(fields.map((f) => f.name)).toEqual(['processedAt', ...DIMENSIONS.map((d) => d.name), 'accumulator', 'recordType', 'beforeSource', 'beforeTarget', 'beforeActive']);
    expect(fields.find((f) => f.name === 'beforeActive')?.expr).toBe('$.before.active');
    expect(fields.find((f) => f.name === 'actor')?.expr).toBe('$.context.request.actor');
    expect(columnsMissingFromSchema()).toEqual([]);
  });

  it('splits the count delta of a moved multi-edge over the pair it left and the pair it reached', () => {
    const t = Object.fromEntries(ds.transformSpec.transforms.map((x) => [x.name, x.expression]));
    const moved = '(notnull(beforeSource) && notnull(source) && (beforeSource != source || beforeTarget != target))';
    expect(t).toEqual({
      movedFromSource: `if(${moved}, beforeSource, null)`,
      movedFromTarget: `if(${moved}, beforeTarget, null)`,
      movedFromAccumulator: `if(${moved} && beforeActive, -1, 0)`,
      accumulator: `accumulator - if(${moved} && beforeActive, -1, 0)`,
    });
  });

  it('rolls up at the configured granularity', () => {
    const s = buildSupervisorSpec({ ...baseOptions, queryGranularity: 'fifteen_minute', segmentGranularity: 'day', rollup: true });
    expect(s.spec.dataSchema.granularitySpec).toEqual({ type: 'uniform', segmentGranularity: 'DAY', queryGranularity: 'FIFTEEN_MINUTE', rollup: true });
  });

  it('keeps edge records only in the transformSpec: no vertex records, no system records (database sys, v2 labels sys.*)', () => {
    expect(ds.transformSpec.filter).toEqual({
      type: 'and',
      fields: [
        { type: 'selector', dimension: 'recordType', value: 'e' },
        {
          type: 'not',
          field: {
            type: 'or',
            fields: [
              { type: 'selector', dimension: 'database', value: 'sys' },
              { type: 'like', dimension: 'table', pattern: 'sys.%' },
            ],
          },
        },
      ],
    });
    expect(spec.spec.ioConfig.inputFormat.flattenSpec.fields).toContainEqual({ type: 'path', name: 'recordType', expr: '$.type' });
  });

  it('reads the configured topic from the configured brokers and passes validation', () => {
    expect(spec.spec.ioConfig).toMatchObject({ type: 'kafka', topic: 'actionbase.cdc', consumerProperties: { 'bootstrap.servers': '127.0.0.1:9092' }, taskDuration: 'PT1H' });
    expect(() => validateSupervisorSpec(spec)).not.toThrow();
  });

  it('checks JSONPaths against the zod schema', () => {
    expect(pathExistsInSchema(CdcRecordSchema, '$.after.source')).toBe(true);
    expect(pathExistsInSchema(CdcRecordSchema, '$.events[0].type')).toBe(true);
    expect(pathExistsInSchema(CdcRecordSchema, '$.context.request.actor')).toBe(true);
    expect(pathExistsInSchema(CdcRecordSchema, '$.context.actor')).toBe(false);
    expect(pathExistsInSchema(CdcRecordSchema, '$.events.type')).toBe(false);
    expect(pathExistsInSchema(CdcRecordSchema, 'context.table')).toBe(false);
    expect(columnsMissingFromSchema([{ path: '$.acc' }])).toEqual(['$.acc']);
  });
});
