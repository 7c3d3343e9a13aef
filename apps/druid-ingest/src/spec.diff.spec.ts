import { describe, expect, it } from '@jest/globals';
import { canonicalJson, diffSpecs, formatChanges, projectOnto } from './spec.diff';
import { buildSupervisorSpec } from './supervisor.spec-builder';
import { baseOptions } from './spec-fixtures';
import { CONTEXT_KEY, changesAgainstServed } from './supervisor.apply';

describe('spec diff', () => {
  it('finds nothing between equal specs whatever their key order', () => {
    expect(diffSpecs({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
  });

  it('lists changed, added and removed leaves with their paths', () => {
    const changes = diffSpecs({ g: { q: 'MINUTE' }, d: ['a', 'b'], x: 1 }, { g: { q: 'HOUR' }, d: ['a', 'b', 'c'], y: 2 });
    expect(changes).toEqual([
      { path: 'd[2]', kind: 'added', after: 'c' },
      { path: 'g.q', kind: 'changed', before: 'MINUTE', after: 'HOUR' },
      { path: 'x', kind: 'removed', before: 1 },
      { path: 'y', kind: 'added', after: 2 },
    ]);
    expect(formatChanges(changes)).toBe('+ d[2]: "c"\n~ g.q: "MINUTE" -> "HOUR"\n- x: 1\n+ y: 2');
  });

  it('ignores the defaults the Overlord adds when projecting a served spec', () => {
    expect(projectOnto({ a: 1, b: { c: 2, def: true }, extra: 3 }, { a: 1, b: { c: 2 } })).toEqual({ a: 1, b: { c: 2 } });
  });
});

describe('changes against a served supervisor', () => {
  const desired = buildSupervisorSpec(baseOptions);

  it('compares with the desired spec stored in the supervisor context', () => {
    const served = { ...desired, context: { [CONTEXT_KEY]: canonicalJson(desired) } };
    expect(changesAgainstServed(served, desired)).toEqual([]);
    const changed = buildSupervisorSpec({ ...baseOptions, queryGranularity: 'hour', segmentGranularity: 'day' });
    expect(formatChanges(changesAgainstServed(served, changed))).toBe(
      '~ spec.dataSchema.granularitySpec.queryGranularity: "MINUTE" -> "HOUR"\n~ spec.dataSchema.granularitySpec.segmentGranularity: "HOUR" -> "DAY"',
    );
  });

  it('falls back to the served spec cut to our keys for a supervisor created elsewhere', () => {
    const served = JSON.parse(JSON.stringify(desired));
    served.spec.ioConfig.completionTimeout = 'PT1800S';
    expect(changesAgainstServed(served, desired)).toEqual([]);
    served.spec.ioConfig.topic = 'other';
    expect(changesAgainstServed(served, desired)).toEqual([{ path: 'spec.ioConfig.topic', kind: 'changed', before: 'other', after: 'actionbase.cdc' }]);
  });
});
