/**
 * Dashboard queries in Druid SQL over a CDC datasource (columns from @pipeline/druid). Values are bound as
 * SQL parameters; the datasource name, which SQL cannot bind, is quoted as an identifier. Per-target figures sum
 * each row's count legs (countLegs): a multi-edge that moved counts -1 at the target it left, +1 at the new one.
 */
import { countLegs, ident, METRICS, type DruidClient, type DruidQuery } from '@pipeline/druid';

const legs = countLegs();

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

export interface LikesPerMinuteRow {
  minute: string;
  target: string;
  net: number;
  events: number;
}

export type DashboardQuery = DruidQuery;

/** Net likes (created minus deleted) per target per minute of one table, since `sinceMs`. */
export function likesPerTargetPerMinute(dataSource: string, table: string, sinceMs: number): DashboardQuery {
  return {
    sql:
      `SELECT TIME_FLOOR(__time, 'PT1M') AS "minute", ${legs.target} AS "target", SUM(${legs.delta}) AS "net", COALESCE(SUM(${legs.events}), 0) AS "events" ` +
      `FROM ${ident(dataSource)} ${legs.join} WHERE "table" = ? AND __time >= ? GROUP BY 1, 2 ORDER BY 1, 2`,
    parameters: [
      { type: 'VARCHAR', value: table },
      { type: 'TIMESTAMP', value: iso(sinceMs) },
    ],
  };
}

/** The targets with the largest net change of one table in the hour before `nowMs`. */
export function topTargetsLastHour(dataSource: string, table: string, limit: number, nowMs: number): DashboardQuery {
  return {
    sql:
      `SELECT ${legs.target} AS "target", SUM(${legs.delta}) AS "net", COALESCE(SUM(${legs.events}), 0) AS "events" ` +
      `FROM ${ident(dataSource)} ${legs.join} WHERE "table" = ? AND __time >= ? AND __time < ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?`,
    parameters: [
      { type: 'VARCHAR', value: table },
      { type: 'TIMESTAMP', value: iso(nowMs - 3_600_000) },
      // Rows are stamped with the minute they fall in (rollup): include the current minute.
      { type: 'TIMESTAMP', value: iso(nowMs + 60_000) },
      { type: 'BIGINT', value: limit },
    ],
  };
}

/** Net change of edge counts and number of changes per table (a move within a table nets 0). */
export function netChangePerTable(dataSource: string): DashboardQuery {
  return {
    sql:
      `SELECT "database", "table", SUM(${ident(METRICS.accumulator)}) + SUM(${ident(METRICS.movedFromAccumulator)}) AS "net", SUM(${ident(METRICS.events)}) AS "events" ` +
      `FROM ${ident(dataSource)} GROUP BY 1, 2 ORDER BY 1, 2`,
    parameters: [],
  };
}

/** Sum of the count deltas per target of one table over all time: equals the IN count of each target. */
export function totalsPerTarget(dataSource: string, table: string): DashboardQuery {
  return {
    sql:
      `SELECT ${legs.target} AS "target", SUM(${legs.delta}) AS "net", COALESCE(SUM(${legs.events}), 0) AS "events" ` +
      `FROM ${ident(dataSource)} ${legs.join} WHERE "table" = ? GROUP BY 1 ORDER BY 1`,
    parameters: [{ type: 'VARCHAR', value: table }],
  };
}

export async function runQuery<T = Record<string, unknown>>(client: DruidClient, q: DashboardQuery): Promise<T[]> {
  return client.sql<T>(q.sql, q.parameters);
}
