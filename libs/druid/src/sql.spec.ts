import { describe, expect, it } from '@jest/globals';
import { activeEdgeCounts, ident, isUnknownDatasource } from './sql';

describe('Druid SQL', () => {
  it('quotes identifiers and binds values', () => {
    expect(ident('a"b')).toBe('"a""b"');
    const q = activeEdgeCounts('cdc.x', 'shop', 'likes');
    expect(q.sql).toBe(
      'SELECT "source", "target", SUM("accumulator") AS "active", SUM("events") AS "events" FROM "cdc.x" WHERE "database" = ? AND "table" = ? GROUP BY 1, 2 HAVING SUM("accumulator") <> 0',
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
