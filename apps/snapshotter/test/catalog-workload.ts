/**
 * The workload and reference answers the catalog tests share: inserts and deletes over a small grid of edges,
 * spread over days, and the core's active edges every engine's answers are compared with.
 */
import { expect } from '@jest/globals';
import { api } from '@pipeline/testing';
import { coreActiveEdges } from './helpers';

export const SOURCES = Array.from({ length: 8 }, (_, i) => `u${i}`);
export const TARGETS = Array.from({ length: 12 }, (_, i) => i + 1);
export const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** Inserts and deletes over SOURCES x TARGETS; versions (= created_at) 7 h apart, so edges spread over days. */
export async function workload(url: string, table: string, seed: number, requests: number, deleteShare: number, db = 'shop'): Promise<void> {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < requests; i++) {
    const mutations = Array.from({ length: 10 }, (_, j) => {
      const version = T0 + seed * 40 * DAY + (i * 10 + j) * 7 * 3_600_000;
      const del = rnd() < deleteShare;
      const edge = { version, source: SOURCES[Math.floor(rnd() * SOURCES.length)]!, target: TARGETS[Math.floor(rnd() * TARGETS.length)]!, properties: del ? {} : { created_at: version } };
      return { type: del ? 'DELETE' : 'INSERT', edge };
    });
    const r = await api(url, 'POST', `/graph/v3/databases/${db}/tables/${table}/edges`, { mutations });
    if (r.status !== 200) throw new Error(`workload on ${table}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

export interface Edge {
  source: string;
  target: string;
  version: number;
  createdAt: number;
}

/** The core's active edges of a table with their created_at: the reference every engine must match. */
export async function coreEdges(url: string, table: string, db = 'shop'): Promise<Edge[]> {
  const m = await coreActiveEdges(url, table, SOURCES, TARGETS, db);
  return [...m.entries()].map(([k, v]) => {
    const [source, target] = k.split('|') as [string, string];
    return { source, target, version: v.version, createdAt: Number(v.createdAt) };
  });
}

/** The core's edges in the shape icebergEdges gives pyiceberg's rows. */
export function icebergEdgesOf(edges: Edge[]) {
  return new Map(edges.map((e) => [`${e.source}|${e.target}`, { version: e.version, createdAt: e.createdAt }]));
}

/** The SQL of the ad-hoc queries in an engine's dialect, over `table`. */
export function adhocSql(engine: 'duckdb' | 'trino', table: string) {
  const day =
    engine === 'duckdb'
      ? `strftime(make_timestamp(CAST(json_extract(properties, '$.created_at') AS BIGINT) * 1000), '%Y-%m-%d')`
      : `format_datetime(from_unixtime(CAST(json_extract_scalar(properties, '$.created_at') AS BIGINT) / 1000e0, 'UTC'), 'yyyy-MM-dd')`;
  return {
    top: `SELECT target, count(*) AS n FROM ${table} GROUP BY target ORDER BY n DESC, target LIMIT 5`,
    perDay: `SELECT ${day} AS day, count(*) AS n FROM ${table} GROUP BY 1 ORDER BY 1`,
    user: (u: string) => `SELECT target, version FROM ${table} WHERE source = '${u}' ORDER BY target`,
  };
}

/**
 * The ad-hoc queries (top targets, active edges per day, one user's current edges) through an engine, each equal
 * to the answer computed from the core's edges.
 */
export async function expectAdhocQueriesMatch(edges: Edge[], q: (sql: string) => Promise<unknown[][]>, sql = adhocSql('duckdb', 't')): Promise<void> {
  const perTarget = new Map<string, number>();
  for (const e of edges) perTarget.set(e.target, (perTarget.get(e.target) ?? 0) + 1);
  const top = [...perTarget.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 5);
  expect(await q(sql.top)).toEqual(top);
  const perDay = new Map<string, number>();
  for (const e of edges) {
    const day = new Date(Math.floor(e.createdAt / DAY) * DAY).toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const days = await q(sql.perDay);
  expect(days).toEqual([...perDay.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
  expect(days.length).toBeGreaterThan(3);
  const user = 'u3';
  const mine = edges.filter((e) => e.source === user).map((e) => [e.target, e.version]).sort((x, y) => (x[0]! < y[0]! ? -1 : 1));
  expect(await q(sql.user(user))).toEqual(mine);
}
