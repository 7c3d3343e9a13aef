import { describe, expect, it } from '@jest/globals';
import { activeEdgeCounts, ident, isUnknownDatasource } from './sql';

describe('Druid SQL', () => {
  it('quotes identifiers and binds values', () => {
    expect(ident('a"b')).toBe('"a""b"');
    const q = activeEdgeCounts('cdc.x', 'shop', 'likes');
    const leg = (own: string, moved: string) => `CASE WHEN "leg" = 0 THEN "${own}" ELSE "${moved}" END`;
    expect(q.sql).toBe(
      `SELECT ${leg('source', 'movedFromSource')} AS "source", ${leg('target', 'movedFromTarget')} AS "target", ` +
        `SUM(${leg('accumulator', 'movedFromAccumulator')}) AS "active", COALESCE(SUM(CASE WHEN "leg" = 0 THEN "events" ELSE 0 END), 0) AS "events" ` +
        `FROM "cdc.x" CROSS JOIN UNNEST(CASE WHEN "movedFromAccumulator" <> 0 THEN ARRAY[0, 1] ELSE ARRAY[0] END) AS "legs"("leg") ` +
        `WHERE "database" = ? AND "table" = ? GROUP BY 1, 2 HAVING SUM(${leg('accumulator', 'movedFromAccumulator')}) <> 0`,
    );
    expect(q.parameters).toEqual([
      { type: 'VARCHAR', value: 'shop' },
      { type: 'VARCHAR', value: 'likes' },
    ]);
  });

  it('recognises the answer for a datasource without rows', () => {
    expect(isUnknownDatasource(new Error('Druid SQL query: HTTP 400: {"errorMessage":"Object \'x\' not found"}'))).toBe(true);
    expect(isUnknownDatasource(new Error('HTTP 500: boom'))).toBe(false);
  });
});
