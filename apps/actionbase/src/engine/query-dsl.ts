/**
 * Actionbase's query DSL, `POST /graph/v3/query` (docs/api.md, "Query DSL"): steps run in order, each a
 * read through the QueryService (SELF and GET as `edges/get` or `multi-edges/ids`, COUNT as `edges/counts`,
 * SCAN as `edges/scan`, CACHE as `edges/seek`), fed by constant values or a column of an earlier step, then
 * post-processed (JSON_OBJECT, SPLIT_EXPLODE) and aggregated (FLATTEN, COUNT, SUM) as Actionbase's
 * ActionbaseQueryExecutor does; the included steps come back as NamedQueryResult items.
 *
 * Everything that can be checked without reading is checked first (tables, indexes, caches, the columns
 * every REF, post-processor and aggregator names, the regexes), so such a request reads nothing.
 */
import { randomUUID } from 'node:crypto';
import { RE2JS } from 're2js';
import type { ZodError } from 'zod';
import { parseJson, stringifyJson } from '@pipeline/events';
import {
  QUERY_DSL_LIMITS,
  queryDslRequestSchema,
  type NamedQueryResult,
  type QueryAggregator,
  type QueryDslResponse,
  type QueryStep,
  type QueryVertex,
} from '@pipeline/core-api';
import type { Catalog, ResolvedTable } from '../catalog/catalog';
import { ApiError, badRequest, formatPath } from '../errors';
import { yieldToEventLoop } from './limits';
import type { EdgePage, QueryService } from './query-service';

export { QUERY_DSL_LIMITS };

/** Actionbase's column of a COUNT step (DataFrame.COUNT_FIELD). */
export const COUNT_COLUMN = 'COUNT(1)';

type Row = Record<string, unknown>;
interface Frame {
  rows: Row[];
  offset: string | null;
  hasNext: boolean;
}

/** A step checked against the catalog: its table, the columns it answers, and its nested steps' plans. */
interface Plan {
  step: QueryStep;
  name: string;
  path: string;
  table: ResolvedTable;
  columns: string[];
  source: VertexPlan;
  target?: VertexPlan;
  regexes: Map<number, RE2JS>;
}
type VertexPlan =
  | { kind: 'VALUE'; values: QueryVertex & { type: 'VALUE' }; path: string }
  | { kind: 'REF'; ref: string; field: string; path: string }
  | { kind: 'STEP'; plan: Plan; field: string; path: string };

/**
 * The first zod issue as a 400 naming the field. An unknown field comes first (a misspelt name also makes
 * a required one missing) and is named itself.
 */
function fromIssue(error: ZodError, body: unknown): ApiError {
  const issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    return badRequest(formatPath('', [...issue.path, key]), `unknown field ${JSON.stringify(key)}; see Actionbase's ActionbaseQuery for the fields of each step`);
  }
  const path = formatPath('', issue.path);
  let at: unknown = body;
  for (const k of issue.path) at = typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[k] : undefined;
  return badRequest(path, at === undefined ? 'required' : issue.message);
}

function edgeColumns(table: ResolvedTable): string[] {
  const props = table.def.fields.map((f) => f.name).filter((n) => n !== '_source' && n !== '_target');
  return table.def.kind === 'MULTI_EDGE' ? ['version', 'id', 'source', 'target', ...props] : ['version', 'source', 'target', ...props];
}

/** The columns after the step's post-processors and aggregators, as Actionbase's executor builds its schemas. */
function shapeColumns(step: QueryStep, read: string[], path: string, regexes: Map<number, RE2JS>): string[] {
  let cols = read;
  const need = (field: string, at: string) => {
    if (!cols.includes(field)) throw badRequest(at, `${JSON.stringify(field)} is not a column of this step's result; its columns are [${cols.join(', ')}]`);
  };
  step.post.forEach((p, j) => {
    const at = `${path}.post[${j}]`;
    need(p.field, `${at}.field`);
    const base = p.drop ? cols.filter((c) => c !== p.field) : cols;
    if (p.type === 'JSON_OBJECT') cols = [...base, ...p.paths.map((x) => x.alias).filter((a) => !base.includes(a))];
    else {
      try {
        regexes.set(j, RE2JS.compile(p.regex));
      } catch (e) {
        throw badRequest(`${at}.regex`, `${(e as Error).message} (patterns run in linear time: no backreferences or lookaround)`);
      }
      cols = base.includes(p.alias) ? base : [...base, p.alias];
    }
  });
  step.aggregators.forEach((a, k) => {
    const at = `${path}.aggregators[${k}]`;
    if (a.type === 'COUNT') {
      need(a.field, `${at}.field`);
      cols = [a.field, 'count'];
    } else if (a.type === 'SUM') {
      a.keyFields.forEach((f, i) => need(f, `${at}.keyFields[${i}]`));
      need(a.valueField, `${at}.valueField`);
      cols = [...a.keyFields, a.valueField];
    }
  });
  return cols;
}

class Planner {
  /** Every step, nested ones included: the bound on the work of one query. */
  count = 0;
  readonly names = new Map<string, Plan>();

  constructor(private readonly catalog: Catalog) {}

  plan(step: QueryStep, path: string, topLevel: boolean): Plan {
    if (++this.count > QUERY_DSL_LIMITS.steps) throw badRequest(path, `more than ${QUERY_DSL_LIMITS.steps} steps (nested STEP vertices included); at most ${QUERY_DSL_LIMITS.steps} per query (limit steps)`);
    const table = this.resolve(step, path);
    const source = this.vertex(step.source, `${path}.source`);
    const target = step.type === 'GET' ? this.vertex(step.target, `${path}.target`) : undefined;
    let read: string[];
    switch (step.type) {
      case 'COUNT':
        read = ['source', COUNT_COLUMN, 'direction'];
        break;
      case 'GET':
        if (table.def.kind === 'MULTI_EDGE') throw badRequest(`${path}.type`, `${table.name} is a MULTI_EDGE table: read multi-edges by id with a SELF step`);
        read = edgeColumns(table);
        break;
      case 'SCAN':
        if (!table.def.indexes.some((i) => i.name === step.index)) throw badRequest(`${path}.index`, `index \`${step.index}\` is not found in table \`${table.name}\``);
        read = edgeColumns(table);
        break;
      case 'CACHE':
        if (!(table.def.caches ?? []).some((c) => c.cache === step.cache)) throw badRequest(`${path}.cache`, `Cache not found: ${step.cache}`);
        read = edgeColumns(table);
        break;
      default:
        read = edgeColumns(table);
    }
    const regexes = new Map<number, RE2JS>();
    const columns = shapeColumns(step, read, path, regexes);
    const name = step.name ?? randomUUID();
    const plan: Plan = { step, name, path, table, columns, source, ...(target ? { target } : {}), regexes };
    if (topLevel) {
      // Actionbase keeps the last of two steps of one name and answers it once: refused here as ambiguous.
      if (this.names.has(name)) throw badRequest(`${path}.name`, `${JSON.stringify(name)} names an earlier step too; give each step its own name`);
      this.names.set(name, plan);
    }
    return plan;
  }

  private resolve(step: QueryStep, path: string): ResolvedTable {
    try {
      return this.catalog.resolve(step.database, step.table);
    } catch (e) {
      throw renamed(e, path);
    }
  }

  private vertex(v: QueryVertex, path: string): VertexPlan {
    if (v.type === 'VALUE') return { kind: 'VALUE', values: v, path };
    if (v.type === 'STEP') {
      const plan = this.plan(v.step, `${path}.step`, false);
      checkColumn(plan, v.field, `${path}.field`);
      return { kind: 'STEP', plan, field: v.field, path };
    }
    // Only the steps before this one have run when it runs (Actionbase reads an unknown name as no values).
    const earlier = this.names.get(v.ref);
    if (!earlier) throw badRequest(`${path}.ref`, `${JSON.stringify(v.ref)} is not the name of an earlier step; a REF reads the result of a step above it`);
    checkColumn(earlier, v.field, `${path}.field`);
    return { kind: 'REF', ref: v.ref, field: v.field, path };
  }
}

function checkColumn(plan: Plan, field: string, at: string): void {
  if (!plan.columns.includes(field)) throw badRequest(at, `${JSON.stringify(field)} is not a column of step ${JSON.stringify(plan.name)}; its columns are [${plan.columns.join(', ')}]`);
}

/** A 400 of the QueryService, renamed to the step's field (`start` → `query[1].source`). */
function renamed(e: unknown, path: string): unknown {
  if (!(e instanceof ApiError) || e.status !== 400 || !e.field || e.field.startsWith('query')) return e;
  const head = e.field.split(/[.[]/)[0]!;
  const mapped = head === 'start' || head === 'ids' ? 'source' : head;
  const field = `${path}.${mapped}`;
  const message = e.message.startsWith(`${e.field}: `) ? e.message.slice(e.field.length + 2) : e.message;
  return new ApiError(400, e.code, `${field}: ${message}`, field, { cause: e });
}

/** Vertex values as the text the QueryService casts to the table's key type. */
function keyText(v: unknown, at: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw badRequest(at, `cannot be a key: ${JSON.stringify(v)?.slice(0, 60)}`);
}

const identity = (v: unknown): string => (typeof v === 'bigint' ? `n${v}` : `${typeof v}:${typeof v === 'string' ? v : JSON.stringify(v)}`);

class Run {
  readonly context = new Map<string, Frame>();
  rows = 0;

  constructor(private readonly queries: QueryService) {}

  private spend(n: number, at: string, what: string): void {
    this.afford(n, at, what);
    this.rows += n;
  }

  private afford(n: number, at: string, what: string): void {
    if (this.rows + n > QUERY_DSL_LIMITS.rows)
      throw badRequest(at, `${what}: the query reads or makes more than ${QUERY_DSL_LIMITS.rows} rows; at most ${QUERY_DSL_LIMITS.rows} per query (limit rows): narrow the steps or lower their limits`);
  }

  private async values(v: VertexPlan): Promise<string[]> {
    let raw: unknown[];
    if (v.kind === 'VALUE') raw = v.values.value;
    else {
      const frame = v.kind === 'REF' ? this.context.get(v.ref)! : await this.step(v.plan);
      raw = frame.rows.map((r) => r[v.field]).filter((x) => x !== null && x !== undefined);
    }
    // Distinct, as Actionbase's executor takes a vertex as a set (first occurrence kept).
    const seen = new Map<string, unknown>();
    for (const x of raw) if (!seen.has(identity(x))) seen.set(identity(x), x);
    if (seen.size > QUERY_DSL_LIMITS.vertexValues)
      throw badRequest(v.path, `${seen.size} distinct values; at most ${QUERY_DSL_LIMITS.vertexValues} per vertex (limit vertexValues)`);
    return [...seen.values()].map((x, i) => keyText(x, `${v.path}[${i}]`));
  }

  async step(plan: Plan): Promise<Frame> {
    let frame = await this.read(plan);
    frame = this.postProcess(plan, frame);
    frame = this.aggregate(plan, frame);
    return frame;
  }

  private async read(plan: Plan): Promise<Frame> {
    const { step, table, path } = plan;
    const sources = await this.values(plan.source);
    const cols = edgeColumns(table);
    const empty: Frame = { rows: [], offset: null, hasNext: false };
    if (sources.length === 0) return empty;
    const edgeRows = (page: EdgePage, flip: boolean): Row[] =>
      page.edges.map((e) => {
        const row: Row = {};
        for (const c of cols) {
          if (c === 'version') row.version = e.version;
          else if (c === 'id') row.id = e.id ?? null;
          else if (c === 'source') row.source = flip ? e.target : e.source;
          else if (c === 'target') row.target = flip ? e.source : e.target;
          else row[c] = e.properties[c] ?? null;
        }
        return row;
      });
    try {
      switch (step.type) {
        case 'SELF': {
          // A vertex with itself: a multi-edge by its id, or a unique edge from a vertex to itself.
          this.spend(sources.length, `${path}.source`, `SELF of ${sources.length} keys`);
          if (table.def.kind === 'MULTI_EDGE') return { ...empty, rows: edgeRows(await this.queries.multiEdgeIds(table, sources), false) };
          const page = await this.queries.getPairs(
            table,
            sources.map((s) => ({ source: s, target: s })),
          );
          return { ...empty, rows: edgeRows(page, false) };
        }
        case 'GET': {
          const targets = await this.values(plan.target!);
          if (targets.length === 0) return empty;
          this.spend(sources.length * targets.length, `${path}.target`, `GET of ${sources.length} sources × ${targets.length} targets`);
          return { ...empty, rows: edgeRows(await this.queries.get(table, sources, targets), false) };
        }
        case 'COUNT': {
          this.spend(sources.length, `${path}.source`, `COUNT of ${sources.length} keys`);
          const c = await this.queries.counts(table, sources, step.direction);
          return { ...empty, rows: c.counts.map((x) => ({ source: x.start, [COUNT_COLUMN]: x.count, direction: x.direction })) };
        }
        case 'SCAN':
        case 'CACHE': {
          // Worst case before reading: every source fills its page.
          this.afford(sources.length * step.limit, `${path}.limit`, `${step.type} of ${sources.length} sources × limit ${step.limit}`);
          const pages: EdgePage[] = [];
          for (const start of sources) {
            const page =
              step.type === 'SCAN'
                ? await this.queries.scan(table, step.index, {
                    start,
                    direction: step.direction,
                    limit: String(step.limit),
                    ...(step.offset ? { offset: step.offset } : {}),
                    ...(step.ranges ? { ranges: step.ranges } : {}),
                  })
                : await this.queries.seek(table, step.cache, { start, direction: step.direction, limit: String(step.limit) });
            pages.push(page);
            await yieldToEventLoop();
          }
          // Actionbase's scan frame holds an IN edge from its start: the start is the row's source.
          const rows = pages.flatMap((p) => edgeRows(p, step.type === 'SCAN' && step.direction === 'IN'));
          this.spend(rows.length, `${path}.limit`, `${step.type} rows`);
          // One start keeps its page's cursor; the frames of several are concatenated without one (as Actionbase).
          const one = pages.length === 1 ? pages[0]! : undefined;
          return { ...empty, rows, offset: one?.offset ?? null, hasNext: one?.hasNext ?? false };
        }
      }
    } catch (e) {
      throw renamed(e, path);
    }
  }

  postProcess(plan: Plan, input: Frame): Frame {
    let frame = input;
    plan.step.post.forEach((p, j) => {
      const at = `${plan.path}.post[${j}]`;
      const without = (r: Row): Row => {
        if (!p.drop) return { ...r };
        const { [p.field]: _dropped, ...rest } = r;
        return rest;
      };
      if (p.type === 'JSON_OBJECT') {
        const rows = frame.rows.map((r, i) => {
          const raw = r[p.field];
          const doc = raw === null || raw === undefined ? undefined : parseDocument(raw, `${at}.field`, i);
          const out = without(r);
          for (const x of p.paths) out[x.alias] = doc === undefined ? null : extract(doc, x.path);
          return out;
        });
        frame = { rows, offset: null, hasNext: false };
      } else {
        const regex = plan.regexes.get(j)!;
        const rows: Row[] = [];
        for (const r of frame.rows) {
          const raw = r[p.field];
          // Actionbase splits text only: a row whose value is not text, or empty, makes no rows.
          if (typeof raw !== 'string' || raw === '') continue;
          const parts = regex.split(raw, p.limit <= 0 ? 0 : p.limit).filter((s) => s !== '');
          this.spend(parts.length, `${at}.regex`, 'SPLIT_EXPLODE rows');
          for (const part of parts) rows.push({ ...without(r), [p.alias]: castText(part, p.dataType) });
        }
        frame = { rows, offset: null, hasNext: false };
      }
    });
    return frame;
  }

  aggregate(plan: Plan, input: Frame): Frame {
    let frame = input;
    plan.step.aggregators.forEach((a, k) => {
      const at = `${plan.path}.aggregators[${k}]`;
      if (a.type === 'FLATTEN') return;
      frame = { rows: a.type === 'COUNT' ? countBy(frame.rows, a) : sumBy(frame.rows, a, at), offset: null, hasNext: false };
    });
    return frame;
  }
}

function parseDocument(raw: unknown, at: string, row: number): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return parseJson(raw);
  } catch {
    throw badRequest(at, `row ${row}: the value is not JSON text: ${JSON.stringify(raw.slice(0, 60))}`);
  }
}

/** A dotted path through objects; arrays and objects found come back as JSON text, as Actionbase's. */
function extract(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, key)) return null;
    cur = (cur as Record<string, unknown>)[key];
  }
  if (cur === undefined) return null;
  if (typeof cur === 'object' && cur !== null) return stringifyJson(cur);
  return cur;
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  BYTE: [-128n, 127n],
  SHORT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  LONG: [-9223372036854775808n, 9223372036854775807n],
};
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$/;

/** A split part cast as Actionbase's v2 DataType.cast: text that does not parse becomes null. */
export function castText(s: string, type: string): unknown {
  const range = INTEGER_RANGES[type];
  if (range) {
    if (!/^[+-]?\d+$/.test(s)) return null;
    const n = BigInt(s);
    if (n < range[0] || n > range[1]) return null;
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (type === 'FLOAT' || type === 'DOUBLE') {
    const t = s.trim();
    if (!DECIMAL.test(t)) return null;
    const n = Number(t.replace(/[fFdD]$/, ''));
    return Number.isFinite(n) ? (type === 'FLOAT' ? Math.fround(n) : n) : null;
  }
  if (type === 'BOOLEAN') return s.toLowerCase() === 'true';
  return s;
}

function sorted<T extends { value: number }>(groups: T[], order: 'ASC' | 'DESC', limit: number): T[] {
  // Array.prototype.sort is stable: ties keep the order of first appearance, as Kotlin's sortedBy.
  return [...groups].sort((x, y) => (order === 'ASC' ? x.value - y.value : y.value - x.value)).slice(0, limit);
}

function countBy(rows: Row[], a: Extract<QueryAggregator, { type: 'COUNT' }>): Row[] {
  const groups = new Map<string, { key: unknown; value: number }>();
  for (const r of rows) {
    const key = r[a.field] ?? null;
    const id = identity(key);
    const g = groups.get(id) ?? groups.set(id, { key, value: 0 }).get(id)!;
    g.value++;
  }
  return sorted([...groups.values()], a.order, a.limit).map((g) => ({ [a.field]: g.key, count: g.value }));
}

function sumBy(rows: Row[], a: Extract<QueryAggregator, { type: 'SUM' }>, at: string): Row[] {
  const groups = new Map<string, { keys: unknown[]; value: number }>();
  rows.forEach((r, i) => {
    const v = r[a.valueField];
    if (typeof v !== 'number' && typeof v !== 'bigint') throw badRequest(`${at}.valueField`, `row ${i}: ${a.valueField} is ${JSON.stringify(v ?? null)}, not a number; SUM adds numbers`);
    const keys = a.keyFields.map((f) => r[f] ?? null);
    const id = keys.map(identity).join('\u0000');
    const g = groups.get(id) ?? groups.set(id, { keys, value: 0 }).get(id)!;
    g.value += Number(v);
  });
  return sorted([...groups.values()], a.order, a.limit).map((g) => ({ ...Object.fromEntries(a.keyFields.map((f, i) => [f, g.keys[i]])), [a.valueField]: g.value }));
}

/**
 * A step's post-processors and aggregators over given rows with the given columns (the part of a step
 * after its read), checked as a request is.
 */
export function shapeRows(step: Pick<QueryStep, 'post' | 'aggregators'>, columns: string[], rows: Row[]): Row[] {
  const regexes = new Map<number, RE2JS>();
  const full = { ...step, type: 'SELF' } as QueryStep;
  shapeColumns(full, columns, 'query[0]', regexes);
  const plan = { step: full, path: 'query[0]', regexes } as Plan;
  const run = new Run(undefined as unknown as QueryService);
  return run.aggregate(plan, run.postProcess(plan, { rows, offset: null, hasNext: false })).rows;
}

/** Runs one `POST /graph/v3/query` body: `{items}` of the included steps, in the order of the steps. */
export async function runQueryDsl(body: unknown, catalog: Catalog, queries: QueryService): Promise<QueryDslResponse> {
  const parsed = queryDslRequestSchema.safeParse(body);
  if (!parsed.success) throw fromIssue(parsed.error, body);
  const planner = new Planner(catalog);
  const plans = parsed.data.query.map((s, i) => planner.plan(s, `query[${i}]`, true));
  const run = new Run(queries);
  const items: NamedQueryResult[] = [];
  for (const plan of plans) {
    const frame = await run.step(plan);
    run.context.set(plan.name, frame);
    if (plan.step.include) items.push({ name: plan.name, data: frame.rows, rows: frame.rows.length, stats: [], offset: frame.offset, hasNext: frame.hasNext });
  }
  return { items };
}
