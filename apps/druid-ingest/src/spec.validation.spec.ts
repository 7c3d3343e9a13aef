import { describe, expect, it } from '@jest/globals';
import { buildBackfillSpec } from './backfill.spec-builder';
import { InvalidSpecError, validateBatchSpec, validateSupervisorSpec } from './spec.validation';
import { buildSupervisorSpec } from './supervisor.spec-builder';
import { baseOptions } from './spec-fixtures';

const good = () => JSON.parse(JSON.stringify(buildSupervisorSpec(baseOptions)));

function rejection(spec: unknown, validate: (s: unknown) => unknown = validateSupervisorSpec): InvalidSpecError {
  try {
    validate(spec);
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error('the spec was accepted');
}

describe('spec validation', () => {
  it('returns a valid spec unchanged (keys zod does not know are kept)', () => {
    const s = { ...good(), extra: 1 };
    expect(validateSupervisorSpec(s)).toBe(s);
  });

  it('names the field of a shape error', () => {
    const s = good();
    s.spec.ioConfig.taskDuration = '1 hour';
    const err = rejection(s);
    expect(err.issues).toEqual([{ path: 'spec.ioConfig.taskDuration', message: 'must be an ISO-8601 period such as PT1H' }]);
    expect(err.message).toContain('spec.ioConfig.taskDuration: must be an ISO-8601 period');
  });

  it('rejects a datasource name Druid refuses', () => {
    const s = good();
    s.spec.dataSchema.dataSource = 'a/b';
    expect(rejection(s).issues[0]?.path).toBe('spec.dataSchema.dataSource');
  });

  it('rejects a dimension the flattenSpec does not produce', () => {
    const s = good();
    s.spec.dataSchema.dimensionsSpec.dimensions.push({ type: 'string', name: 'tenant' });
    expect(rejection(s).issues).toContainEqual({
      path: 'spec.dataSchema.dimensionsSpec.dimensions[9]',
      message: '"tenant" is not produced by the flattenSpec (useFieldDiscovery is off, so it would be null in every row)',
    });
  });

  it('rejects a transform that reads a field the flattenSpec does not produce, or another transform', () => {
    const s = good();
    s.spec.dataSchema.transformSpec.transforms.push(
      { type: 'expression', name: 'x', expression: "if(afterActive, concat('a', \"table\"), movedFromSource)" },
      { type: 'expression', name: 'x', expression: '1' },
    );
    expect(rejection(s).issues).toEqual([
      { path: 'spec.dataSchema.transformSpec.transforms[5].name', message: 'transform "x" is declared twice' },
      { path: 'spec.dataSchema.transformSpec.transforms[4].expression', message: 'reads "afterActive", which the flattenSpec does not produce (it would be null in every row)' },
      { path: 'spec.dataSchema.transformSpec.transforms[4].expression', message: 'reads "movedFromSource", which the flattenSpec does not produce (it would be null in every row)' },
    ]);
  });

  it('rejects a flattenSpec path that is not a field of the CDC schema', () => {
    const s = good();
    s.spec.ioConfig.inputFormat.flattenSpec.fields[1].expr = '$.context.db';
    expect(rejection(s).issues[0]).toEqual({
      path: 'spec.ioConfig.inputFormat.flattenSpec.fields[1].expr',
      message: '$.context.db names no field of the CDC record schema (@pipeline/events CdcRecordSchema)',
    });
  });

  it('rejects duplicate columns, a metric named like a dimension, and a metric without a field', () => {
    const s = good();
    s.spec.dataSchema.dimensionsSpec.dimensions.push({ type: 'string', name: 'table' });
    s.spec.dataSchema.metricsSpec.push({ type: 'longSum', name: 'target', fieldName: 'accumulator' }, { type: 'longSum', name: 'x' });
    const messages = rejection(s).issues.map((i) => i.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'dimension "table" is declared twice',
        'column "target" is both a metric and a dimension (or declared twice)',
        'a longSum metric needs a fieldName',
      ]),
    );
  });

  it('rejects a rollup granularity coarser than the segment granularity', () => {
    const s = good();
    s.spec.dataSchema.granularitySpec.queryGranularity = 'DAY';
    expect(rejection(s).issues[0]?.message).toBe('DAY is coarser than segmentGranularity HOUR; rollup buckets must fit in a segment');
  });

  it('rejects a filter on a column that is neither a dimension nor a flattened field', () => {
    const s = good();
    s.spec.dataSchema.transformSpec.filter = { type: 'selector', dimension: 'label', value: 'x' };
    expect(rejection(s).issues[0]?.message).toBe('filters on "label", which is neither a dimension nor a field the flattenSpec produces');
  });

  it('rejects metrics with rollup off, and a bad topic name', () => {
    const s = good();
    s.spec.dataSchema.granularitySpec.rollup = false;
    expect(rejection(s).issues[0]?.path).toBe('spec.dataSchema.granularitySpec.rollup');
    const t = good();
    t.spec.ioConfig.topic = 'cdc topic';
    expect(rejection(t).issues[0]?.path).toBe('spec.ioConfig.topic');
  });

  it('validates batch specs: intervals required and ordered', () => {
    const b = buildBackfillSpec({ ...baseOptions, fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 1, 2), baseDir: '/tmp', filter: 'x.json', replace: false });
    expect(() => validateBatchSpec(b)).not.toThrow();
    const bad = JSON.parse(JSON.stringify(b));
    bad.spec.dataSchema.granularitySpec.intervals = ['2026-01-02T00:00:00Z/2026-01-01T00:00:00Z'];
    expect(rejection(bad, validateBatchSpec).issues[0]?.message).toContain('ends before it starts');
    delete bad.spec.dataSchema.granularitySpec.intervals;
    expect(rejection(bad, validateBatchSpec).issues[0]?.path).toBe('spec.dataSchema.granularitySpec.intervals');
  });
});
