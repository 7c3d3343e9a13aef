import { describe, expect, it } from '@jest/globals';
import { ident } from '@pipeline/druid';
import { likesPerTargetPerMinute, netChangePerTable, topTargetsLastHour } from './dashboard.queries';
import { buildBackfillSpec, segmentAlignedInterval } from './backfill.spec-builder';
import { baseOptions } from './spec-fixtures';

describe('dashboard queries', () => {
  it('quotes the datasource and binds values as parameters', () => {
    expect(ident('a"b')).toBe('"a""b"');
    const q = likesPerTargetPerMinute('cdc', 'likes', Date.UTC(2026, 0, 1, 12));
    expect(q.sql).toContain(`FROM "cdc" CROSS JOIN UNNEST(CASE WHEN "movedFromAccumulator" <> 0 THEN ARRAY[0, 1] ELSE ARRAY[0] END) AS "legs"("leg") WHERE "table" = ? AND __time >= ?`);
    expect(q.parameters).toEqual([
      { type: 'VARCHAR', value: 'likes' },
      { type: 'TIMESTAMP', value: '2026-01-01 12:00:00.000' },
    ]);
  });

  it('bounds the top targets to the last hour and a limit', () => {
    const q = topTargetsLastHour('cdc', 'likes', 5, Date.UTC(2026, 0, 1, 12));
    expect(q.sql).toMatch(/ORDER BY 2 DESC, 1 LIMIT \?$/);
    expect(q.parameters.map((p) => p.value)).toEqual(['likes', '2026-01-01 11:00:00.000', '2026-01-01 12:01:00.000', 5]);
    expect(netChangePerTable('cdc').sql).toContain('GROUP BY 1, 2');
  });
});

describe('backfill spec', () => {
  it('widens the range to segment boundaries', () => {
    expect(segmentAlignedInterval(Date.UTC(2026, 0, 1, 10, 30), Date.UTC(2026, 0, 1, 11, 5), 'hour')).toBe('2026-01-01T10:00:00.000Z/2026-01-01T12:00:00.000Z');
  });

  it('reads local NDJSON files with the streaming columns, and replaces or appends', () => {
    const b = buildBackfillSpec({ ...baseOptions, dataSource: 'bf', fromMs: 0, toMs: 3_600_000, baseDir: '/x', filter: 'a.json', replace: true });
    expect(b.spec.ioConfig).toMatchObject({ type: 'index_parallel', inputSource: { type: 'local', baseDir: '/x', filter: 'a.json' }, appendToExisting: false, dropExisting: true });
    expect(b.spec.dataSchema.metricsSpec).toHaveLength(3);
    const append = buildBackfillSpec({ ...baseOptions, fromMs: 0, toMs: 1, baseDir: '/x', filter: 'a.json', replace: false });
    expect(append.spec.ioConfig.appendToExisting).toBe(true);
  });
});
