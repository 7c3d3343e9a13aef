/**
 * Druid SQL over a CDC datasource (columns from columns.ts) that more than one project asks. Values are bound
 * as parameters; the datasource name, which SQL cannot bind, is quoted as an identifier.
 */
import { METRICS } from './columns';
import type { SqlParameter } from './client';

/** A Druid SQL identifier: double quotes, inner quotes doubled. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

export interface DruidQuery {
  sql: string;
  parameters: SqlParameter[];
}

export interface EdgeCountRow {
  source: string;
  target: string;
  /** SUM(accumulator) over all time: the number of active edges from source to target (0 or 1 for a unique edge). */
  active: number;
  /** CDC records summed. */
  events: number;
}

/**
 * Per (source, target) of one table, the sum of the count deltas over all time, where it is not 0: what every
 * count Druid answers (IN per target, OUT per source, per table) is summed from. A unique edge sums to 1 when
 * active; multi-edges between the same two endpoints add up.
 */
export function activeEdgeCounts(dataSource: string, database: string, table: string): DruidQuery {
  const acc = ident(METRICS.accumulator);
  return {
    sql:
      `SELECT "source", "target", SUM(${acc}) AS "active", SUM(${ident(METRICS.events)}) AS "events" ` +
      `FROM ${ident(dataSource)} WHERE "database" = ? AND "table" = ? GROUP BY 1, 2 HAVING SUM(${acc}) <> 0`,
    parameters: [
      { type: 'VARCHAR', value: database },
      { type: 'VARCHAR', value: table },
    ],
  };
}

/** Druid's answer before a datasource holds its first row. */
export const isUnknownDatasource = (err: unknown): boolean => /not found|does not exist/i.test(err instanceof Error ? err.message : String(err));
