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
 * A row's count deltas as legs, for sums per pair, source or target. Leg 0 is the row's own pair (`source`,
 * `target`) with `accumulator`; leg 1, only on a row whose record moved an active multi-edge, is the pair it left
 * (`movedFromSource`, `movedFromTarget`) with `movedFromAccumulator` (-1). Druid SQL cannot UNION ALL two
 * filtered scans of one table, so each row is unnested into its legs instead. `events` counts on leg 0 only.
 */
export function countLegs() {
  const leg = '"leg"';
  const pick = (own: string, moved: string) => `CASE WHEN ${leg} = 0 THEN ${ident(own)} ELSE ${ident(moved)} END`;
  return {
    join: `CROSS JOIN UNNEST(CASE WHEN ${ident(METRICS.movedFromAccumulator)} <> 0 THEN ARRAY[0, 1] ELSE ARRAY[0] END) AS "legs"(${leg})`,
    source: pick('source', 'movedFromSource'),
    target: pick('target', 'movedFromTarget'),
    delta: pick(METRICS.accumulator, METRICS.movedFromAccumulator),
    events: `CASE WHEN ${leg} = 0 THEN ${ident(METRICS.events)} ELSE 0 END`,
  };
}

/**
 * Per (source, target) of one table, the sum of the count deltas over all time, where it is not 0: what every
 * count Druid answers (IN per target, OUT per source, per table) is summed from. A unique edge sums to 1 when
 * active; multi-edges between the same two endpoints add up, and a moved one counts at its new pair only.
 */
export function activeEdgeCounts(dataSource: string, database: string, table: string): DruidQuery {
  const l = countLegs();
  return {
    sql:
      `SELECT ${l.source} AS "source", ${l.target} AS "target", SUM(${l.delta}) AS "active", COALESCE(SUM(${l.events}), 0) AS "events" ` +
      `FROM ${ident(dataSource)} ${l.join} WHERE "database" = ? AND "table" = ? GROUP BY 1, 2 HAVING SUM(${l.delta}) <> 0`,
    parameters: [
      { type: 'VARCHAR', value: database },
      { type: 'VARCHAR', value: table },
    ],
  };
}

/** Druid's answer before a datasource holds its first row. */
export const isUnknownDatasource = (err: unknown): boolean => /not found|does not exist/i.test(err instanceof Error ? err.message : String(err));
