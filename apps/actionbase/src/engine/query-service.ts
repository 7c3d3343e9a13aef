import { canonicalVersion, type Direction, type Endpoint, type Version } from '@pipeline/edge-model';
import { cacheIndexName, groupIndexName, type ResolvedTable } from '../catalog/catalog';
import { badRequest, notFound } from '../errors';
import type { EdgeRow, EdgeStore } from '../storage/edge-store';
import { encodeComponent, prefixUpperBound } from '@pipeline/edge-model';
import { applyBucket, bucketOf, queryPeriod, type DateBucket } from './buckets';
import { castField, castKey } from './cast';
import { LIMITS, yieldToEventLoop } from './limits';
import { multiEdgeKeyOf, storageKeyOf } from './mutation-request';
import { matches, parsePredicates, type Predicate } from './predicates';

export interface EdgeView {
  version: Version;
  id?: Endpoint;
  source: Endpoint;
  target: Endpoint;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

export interface EdgePage {
  edges: EdgeView[];
  count: number;
  total: number;
  offset: string | null;
  hasNext: boolean;
  context: Record<string, unknown>;
}

export interface AggQuery {
  starts: string[];
  direction: Direction;
  ranges?: string | undefined;
  filters?: string | undefined;
  features: string[];
  ttl?: string | undefined;
}

export interface AggPage {
  groups: { start: string | number | bigint; direction: Direction; value: number; context: Record<string, unknown> }[];
  count: number;
  context: Record<string, unknown>;
}

/** Actionbase's group name for the plain count of each start (Constants.Group.COUNT_SENTINEL). */
export const COUNT_GROUP = '__count__';

/**
 * A group's `ranges`: `field:op:value;...` naming the group's fields in order (a bucketed field by its
 * bucket's name), values cast to the field's type, or to the bucket's period text (`now-1d` resolved).
 */
function parseGroupRanges(raw: string, table: ResolvedTable, fields: { name: string; bucket: DateBucket | null }[], names: string[]): Predicate[] {
  const parts = raw.split(';').filter((x) => x.trim() !== '');
  if (parts.length === 0) throw badRequest('ranges', 'group query requires at least one group predicate, but got none.');
  const keys = parts.map((x) => x.slice(0, x.indexOf(':')).trim());
  if (keys.length > names.length || keys.some((k, i) => k !== names[i]))
    throw badRequest('ranges', `valid \`ranges\` order for the group is [${names.join(', ')}]. input was: [${keys.join(', ')}].`);
  return parts.map((part, i) => {
    const at = `ranges[${i}]`;
    const m = /^([^:]+):([a-z]+):(.*)$/.exec(part.trim());
    if (!m) throw badRequest(at, `expected field:op:value, got ${JSON.stringify(part)}`);
    const op = m[2] as Predicate['op'];
    if (!['eq', 'gt', 'gte', 'lt', 'lte', 'bt', 'in'].includes(op)) throw badRequest(at, `unknown op ${JSON.stringify(op)}`);
    let value = m[3]!.trim();
    if (value.startsWith('(') && value.endsWith(')')) value = value.slice(1, -1);
    const values = op === 'bt' || op === 'in' ? value.split(',').map((v) => v.trim()) : [value];
    if (op === 'bt' && values.length !== 2) throw badRequest(at, 'bt takes two values: bt(low,high)');
    const f = fields[i]!;
    const bucket = f.bucket;
    if (bucket) return { field: names[i]!, op, values: values.map((v, j) => queryPeriod(bucket, v, op === 'bt' && j === 1)) };
    const type = table.fieldsByName.get(f.name)?.type;
    if (!type) throw badRequest(at, `unknown property ${JSON.stringify(f.name)}`);
    return { field: names[i]!, op, values: values.map((v) => castField(v, type, `${at}.${f.name}`)) };
  });
}

/** Actionbase's default scan limit (ScanFilter.defaultLimit). */
export const DEFAULT_LIMIT = 10;
/** `total` of a scan that did not ask for it (Actionbase: -1). */
export const TOTAL_NOT_ASKED = -1;
const FEATURES = new Set(['total']);

export interface LookupOptions {
  filters?: string;
  features?: string[];
}

function checkFeatures(features: string[] | undefined): Set<string> {
  const set = new Set(features ?? []);
  const unknown = [...set].filter((f) => !FEATURES.has(f));
  if (unknown.length) throw badRequest('features', `${unknown.join(', ')} not supported; the supported feature is total`);
  return set;
}
export const MAX_LIMIT = LIMITS.scanLimit;

/** Distinct values in first-seen order, refused past `max` with a 400 naming the limit. */
function distinct(values: string[], max: number, field: string, what: string): string[] {
  const out = [...new Set(values)];
  if (out.length > max) throw badRequest(field, `${out.length} distinct ${what}; at most ${max} per request`);
  return out;
}

/** The query side of the REST API (docs/api.md, "Queries"): get, scan, count, counts, multi-edge ids. */
export class QueryService {
  constructor(readonly store: EdgeStore) {}

  async get(table: ResolvedTable, sources: string[], targets: string[], opts: LookupOptions = {}): Promise<EdgePage> {
    checkFeatures(opts.features);
    const filters = parsePredicates(opts.filters, table, 'filters');
    if (sources.length === 0) throw badRequest('source', 'required: one or more comma-separated sources');
    if (targets.length === 0) throw badRequest('target', 'required: one or more comma-separated targets');
    sources = [...new Set(sources)];
    targets = [...new Set(targets)];
    if (sources.length * targets.length > LIMITS.getPairs)
      throw badRequest(
        'source',
        `${sources.length} distinct sources × ${targets.length} distinct targets = ${sources.length * targets.length} edges; at most ${LIMITS.getPairs} per request`,
      );
    const pairs = sources.flatMap((s, i) =>
      targets.map((t, j) => ({
        source: castKey(s, table.def.source.type, `source[${i}]`),
        target: castKey(t, table.def.target.type, `target[${j}]`),
      })),
    );
    const keys = pairs.map((p) => storageKeyOf(p.source, p.target));
    return this.lookup(table, keys, filters);
  }

  /**
   * The edges of given (source, target) pairs, in their order (the query DSL's SELF step: each vertex with
   * itself), where `get` takes every source with every target. At most LIMITS.getPairs distinct pairs.
   */
  async getPairs(table: ResolvedTable, pairs: { source: string; target: string }[]): Promise<EdgePage> {
    const seen = new Set<string>();
    const keys: string[] = [];
    pairs.forEach((p, i) => {
      const key = storageKeyOf(castKey(p.source, table.def.source.type, `source[${i}]`), castKey(p.target, table.def.target.type, `target[${i}]`));
      if (!seen.has(key)) keys.push(key);
      seen.add(key);
    });
    if (keys.length > LIMITS.getPairs) throw badRequest('source', `${keys.length} distinct pairs; at most ${LIMITS.getPairs} per request`);
    return this.lookup(table, keys, []);
  }

  /** Active rows of `keys` that pass `filters`; `total` is the number returned, as Actionbase's get. */
  private async lookup(table: ResolvedTable, keys: string[], filters: Predicate[]): Promise<EdgePage> {
    const rows = await this.store.getRows(table.id, keys);
    const edges = keys.flatMap((k) => {
      const r = rows.get(k);
      return r && r.state.active && filters.every((p) => matches(p, r.state.properties[p.field]?.value)) ? [view(table, r)] : [];
    });
    return { edges, count: edges.length, total: edges.length, offset: null, hasNext: false, context: {} };
  }

  async multiEdgeIds(table: ResolvedTable, ids: string[], opts: LookupOptions = {}): Promise<EdgePage> {
    if (table.def.kind !== 'MULTI_EDGE') throw badRequest('table', `${table.id} is not a MULTI_EDGE table`);
    if (ids.length === 0) throw badRequest('ids', 'required: one or more comma-separated ids');
    ids = distinct(ids, LIMITS.multiEdgeIds, 'ids', 'ids');
    checkFeatures(opts.features);
    const filters = parsePredicates(opts.filters, table, 'filters');
    // Ids arrive as text; try them as LONGs too (64-bit, exact), since the request that wrote them may have sent either.
    const keys = ids.flatMap((id) => {
      const long = /^-?\d+$/.test(id) ? longId(id) : undefined;
      return long === undefined ? [multiEdgeKeyOf(id)] : [multiEdgeKeyOf(long), multiEdgeKeyOf(id)];
    });
    return this.lookup(table, keys, filters);
  }

  async count(
    table: ResolvedTable,
    start: string,
    direction: Direction,
  ): Promise<{ start: string | number | bigint; direction: Direction; count: number; context: Record<string, unknown> }> {
    const s = this.castStart(table, start, direction, 'start');
    return { start: s, direction, count: await this.countOf(table, direction, s), context: {} };
  }

  private async countOf(table: ResolvedTable, direction: Direction, start: string | number | bigint): Promise<number> {
    return this.store.count(table.id, direction, start);
  }

  async counts(table: ResolvedTable, starts: string[], direction: Direction) {
    if (starts.length === 0) throw badRequest('start', 'required: one or more comma-separated values');
    starts = distinct(starts, LIMITS.countsStarts, 'start', 'start values');
    const cast = starts.map((raw, i) => this.castStart(table, raw, direction, `start[${i}]`));
    // One storage call for every start.
    const found = await this.store.counts(table.id, direction, cast);
    const counts = cast.map((s, i) => ({ start: s, direction, count: found[i]!, context: {} }));
    return { counts, count: counts.length, context: {} };
  }

  async scan(
    table: ResolvedTable,
    indexName: string,
    q: { start?: string; direction: Direction; limit?: string; offset?: string; ranges?: string; filters?: string; features?: string[] },
    internal = false,
  ): Promise<EdgePage> {
    // The rows serving caches and groups are not indexes a client can name (seek and agg read them).
    const index = indexName.startsWith('~') && !internal ? undefined : table.def.indexes.find((i) => i.name === indexName);
    if (!index) throw notFound(`index ${indexName} of table ${table.id}`);
    if (q.start === undefined || q.start === '') throw badRequest('start', 'required');
    if (q.direction === 'IN' && table.def.directionType === 'OUT') throw badRequest('direction', `table ${table.id} is OUT-only`);
    if (q.direction === 'OUT' && table.def.directionType === 'IN') throw badRequest('direction', `table ${table.id} is IN-only`);
    const start = this.castStart(table, q.start, q.direction, 'start');
    const limit = q.limit === undefined ? DEFAULT_LIMIT : /^\d+$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badRequest('limit', `expected an integer in 1..${MAX_LIMIT}`);
    const features = checkFeatures(q.features);
    if (features.has('total') && (q.ranges || q.filters)) throw badRequest('features', 'total cannot be combined with ranges or filters');
    const ranges = parsePredicates(q.ranges, table, 'ranges');
    // As Actionbase: ranges name the index's fields in the index's order, from its first field.
    const order = index.fields.map((f) => f.name);
    if (ranges.length > order.length || ranges.some((r, i) => r.field !== order[i]))
      throw badRequest('ranges', `valid ranges order for the index ${index.name} is [${order.join(', ')}], got [${ranges.map((r) => r.field).join(', ')}]; filter other fields with filters`);
    const filters = parsePredicates(q.filters, table, 'filters');
    const bounds = boundsOf(index.fields, ranges);
    let after = q.offset ? decodeCursor(q.offset) : undefined;

    // Ranges narrow the scan on the index; every predicate is also checked per row, so partial
    // bounds stay correct. Fetch past the page until limit+1 rows match, to answer hasNext.
    const predicates = [...ranges, ...filters];
    const out: { row: EdgeRow; sortKey: Buffer; key: string }[] = [];
    const chunk = Math.min(MAX_LIMIT, predicates.length ? limit * 4 : limit + 1);
    let examined = 0;
    let stoppedAt: { sortKey: Buffer; key: string } | undefined;
    for (;;) {
      const hits = await this.store.scanIndex({ table: table.id, index: index.name, direction: q.direction, start, ...bounds, after, limit: chunk });
      examined += hits.length;
      for (const h of hits) if (predicates.every((p) => matches(p, h.row.state.properties[p.field]?.value))) out.push(h);
      if (out.length > limit || hits.length < chunk) break;
      const last = hits[hits.length - 1]!;
      after = { sortKey: last.sortKey, key: last.key };
      if (examined >= LIMITS.scanExamined) {
        // Bounded work: end this page here; the cursor goes on after the last row examined.
        stoppedAt = after;
        break;
      }
      await yieldToEventLoop();
    }
    const page = out.slice(0, limit);
    const last = page[page.length - 1];
    const hasNext = out.length > limit || stoppedAt !== undefined;
    const resumeAt = out.length > limit ? last : stoppedAt;
    return {
      edges: page.map((h) => view(table, h.row)),
      count: page.length,
      total: features.has('total') ? await this.countOf(table, q.direction, start) : TOTAL_NOT_ASKED,
      offset: hasNext && resumeAt ? encodeCursor(resumeAt.sortKey, resumeAt.key) : null,
      hasNext,
      context: {},
    };
  }

  /**
   * `edges/seek/{cache}` (Actionbase's cache seek): the edges under `start`, in the order of the
   * cache's fields (then by key), page by page with an opaque `offset`, as a scan of the cache's rows.
   */
  async seek(table: ResolvedTable, cacheName: string, q: { start?: string; direction: Direction; limit?: string; offset?: string }): Promise<EdgePage> {
    const cache = (table.def.caches ?? []).find((c) => c.cache === cacheName);
    if (!cache) throw badRequest('cache', `Cache not found: ${cacheName}`);
    const page = await this.scan(table, cacheIndexName(cache.cache), { ...q, features: [] }, true);
    // A multi-edge's cache entry is keyed by its id: Actionbase answers the id as the target. Its `_id`
    // property reads null there: the cache's edge is decoded against the v3 schema, which has no `_id`
    // (HBaseIndexedLabel.cache, V3TableDescriptor), and the answer's columns are the v2 label's.
    if (table.def.kind === 'MULTI_EDGE') page.edges = page.edges.map((e) => (e.id === undefined ? e : { ...e, target: e.id, properties: { ...e.properties, _id: null } }));
    return page;
  }

  /**
   * `edges/agg/{group}` (Actionbase's group aggregation): per start, the COUNT of the edges whose group
   * values match `ranges`, or the SUM of their `valueField`; a bucketed field matches by its period
   * text. Actionbase keeps a counter per group value; here the group's index rows are read (their
   * leading unbucketed fields narrow the read), so the work is bounded by LIMITS.scanExamined edges per
   * request. The group `__count__` is the start's count (Actionbase's count sentinel).
   */
  async agg(table: ResolvedTable, groupName: string, q: AggQuery): Promise<AggPage> {
    if (q.starts.length === 0) throw badRequest('start', 'required: one or more start values');
    const starts = distinct(q.starts, LIMITS.countsStarts, 'start', 'start values');
    // `ttl` (ms) lets Actionbase answer from its in-memory copy of the group's rows when that copy is at most
    // `ttl` old (HBaseHashLabel.hbaseGet, HBaseRecordCache; without `ttl` it reads storage). It only bounds how
    // stale an answer may be; the core reads the group's rows on every request, so each answer is current,
    // within any bound. Bound as Spring binds a Long: an integer in the signed 64-bit range, else 400 (empty: absent).
    if (q.ttl !== undefined && q.ttl !== '' && !(/^-?\d{1,19}$/.test(q.ttl) && BigInt(q.ttl) >= -(2n ** 63n) && BigInt(q.ttl) < 2n ** 63n))
      throw badRequest('ttl', `expected an integer of milliseconds (a 64-bit Long), got ${JSON.stringify(q.ttl.slice(0, 40))}`);
    if (groupName === COUNT_GROUP) {
      if (q.ranges !== undefined) throw badRequest('ranges', `\`ranges\` is not supported for group \`${COUNT_GROUP}\``);
      if (q.filters !== undefined) throw badRequest('filters', '`filters` is not yet supported in count query.');
      if (q.features.length) throw badRequest('features', `\`features\` ${q.features.join(', ')} are not supported in count query`);
      const c = await this.counts(table, starts, q.direction);
      const groups = c.counts.map((x) => ({ start: x.start, direction: x.direction, value: x.count, context: {} }));
      return { groups, count: groups.length, context: {} };
    }
    const group = (table.def.groups ?? []).find((g) => g.group === groupName);
    if (!group) throw badRequest('group', `group \`${groupName}\` is not found in table \`${table.name}\``);
    if (q.filters !== undefined) throw badRequest('filters', '`filters` is not yet supported in count query.');
    const unknownFeatures = q.features.filter((f) => !['accumulators', 'trends', 'cachedRecords'].includes(f));
    if (unknownFeatures.length)
      throw badRequest('features', `\`features\` ${unknownFeatures.join(', ')} are not supported in agg query. only \`accumulators\` and \`trends\` are supported.`);
    if (q.ranges === undefined || q.ranges === '') throw badRequest('ranges', `\`ranges\` is required for group \`${groupName}\``);

    const fields = group.fields.map((f, i) => ({ name: f.name, bucket: bucketOf(f.bucket, `group ${groupName}.fields[${i}].bucket`) }));
    const names = fields.map((f) => f.bucket?.name ?? f.name);
    const ranges = parseGroupRanges(q.ranges, table, fields, names);
    const last = ranges.length - 1;
    ranges.forEach((r, i) => {
      if (i < last && r.op !== 'eq') throw badRequest(`ranges[${i}]`, `only \`Eq\` predicate is allowed for the first ${last} group fields, but got ${r.op}`);
      if (i === last && r.op !== 'eq' && r.op !== 'bt') throw badRequest(`ranges[${i}]`, `only \`Eq\` or \`Between\` predicate is allowed for group query, but got ${r.op}`);
    });
    const cast = starts.map((raw, i) => this.castStart(table, raw, q.direction, `start[${i}]`));
    // A group counts the directions it declares only (Actionbase writes no record for the others).
    const directions: Direction[] = group.directionType === 'BOTH' ? ['OUT', 'IN'] : [group.directionType as Direction];
    const accumulate = q.features.includes('accumulators');
    // The index rows are ordered by the raw field values: the predicates before the first bucketed
    // field narrow the read; the rest are checked per edge on its group values.
    const firstBucket = fields.findIndex((f) => f.bucket !== null);
    const narrowing = ranges.slice(0, firstBucket < 0 ? ranges.length : firstBucket).map((r, i) => ({ ...r, field: fields[i]!.name }));
    const bounds = boundsOf(
      fields.map((f) => ({ name: f.name, order: 'ASC' as const })),
      narrowing,
    );
    const groups: AggPage['groups'] = [];
    let examined = 0;
    for (const start of cast) {
      if (!directions.includes(q.direction) || typeof start === 'bigint') continue;
      let value = 0;
      let hits = 0;
      const perValues = new Map<string, { groupValues: unknown[]; value: number }>();
      let after: { sortKey: Buffer; key: string } | undefined;
      for (;;) {
        const page = await this.store.scanIndex({ table: table.id, index: groupIndexName(group.group), direction: q.direction, start, ...bounds, after, limit: MAX_LIMIT });
        examined += page.length;
        if (examined > LIMITS.scanExamined)
          throw badRequest('start', `the group's ranges select more than ${LIMITS.scanExamined} edges; at most ${LIMITS.scanExamined} are read per agg request: narrow the ranges or ask for fewer starts`);
        for (const h of page) {
          const props = h.row.state.properties;
          const groupValues = fields.map((f) => {
            const raw = props[f.name]?.value ?? null;
            return f.bucket ? applyBucket(f.bucket, raw) : raw;
          });
          if (!ranges.every((p, i) => matches(p, groupValues[i]))) continue;
          const v = group.type === 'COUNT' ? 1 : Number(props[group.valueField]?.value ?? NaN);
          if (!Number.isFinite(v)) continue; // Actionbase refuses to write such an edge into a SUM group
          hits++;
          value += v;
          if (accumulate) {
            const k = JSON.stringify(groupValues, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
            const acc = perValues.get(k) ?? perValues.set(k, { groupValues, value: 0 }).get(k)!;
            acc.value += v;
          }
        }
        if (page.length < MAX_LIMIT) break;
        const lastHit = page[page.length - 1]!;
        after = { sortKey: lastHit.sortKey, key: lastHit.key };
        await yieldToEventLoop();
      }
      if (hits > 0) groups.push({ start, direction: q.direction, value, context: accumulate ? { accumulators: [...perValues.values()] } : {} });
    }
    // `cachedRecords`: how many starts Actionbase answered from its copy (see `ttl` above); none here.
    return { groups, count: groups.length, context: q.features.includes('cachedRecords') ? { cachedRecords: 0 } : {} };
  }

  private castStart(table: ResolvedTable, raw: string, direction: Direction, field: string): string | number | bigint {
    if (direction !== 'OUT' && direction !== 'IN') throw badRequest('direction', 'expected OUT or IN');
    return castKey(raw, direction === 'OUT' ? table.def.source.type : table.def.target.type, field);
  }
}

/** A multi-edge id given as decimal text, as the LONG it would have been written as; undefined beyond 64 bits. */
function longId(text: string): Version | undefined {
  return canonicalVersion(BigInt(text));
}

/**
 * An edge as Actionbase answers it: every property of the table's schema, in schema order, `null` when
 * the edge has no value for it (Actionbase's server builds the answer from a row of every schema column,
 * V2DataFrame.toV3, so a property never written and one written as null both read `null`). A
 * multi-edge's implicit `_source`/`_target` are its ends, answered as `source`/`target`; its id is also
 * the first property, `_id`, as Actionbase's server stores the id as the first column of a multi-edge's
 * row (TableCreateRequest.toV2EdgeSchema) and answers it among the properties.
 */
function view(table: ResolvedTable, r: EdgeRow): EdgeView {
  const properties: Record<string, unknown> = {};
  if (table.def.kind === 'MULTI_EDGE') properties._id = r.id ?? null;
  for (const f of table.def.fields) {
    if (f.name !== '_source' && f.name !== '_target' && f.name !== '_id') properties[f.name] = r.state.properties[f.name]?.value ?? null;
  }
  return { version: r.state.version, ...(r.id !== undefined ? { id: r.id } : {}), source: r.source, target: r.target, properties, context: {} };
}

/**
 * Turns leading `eq` ranges plus one bounded range into sort-key bounds (see libs/edge-model sort-key.ts for why
 * DESC flips the comparison).
 */
function boundsOf(fields: readonly { name: string; order: 'ASC' | 'DESC' }[], ranges: Predicate[]): { lower?: Buffer; upper?: Buffer } {
  let prefix = Buffer.alloc(0);
  for (const f of fields) {
    const r = ranges.find((p) => p.field === f.name);
    if (!r || r.op === 'in') break;
    const enc = (v: unknown) => {
      const c = encodeComponent(v);
      return f.order === 'DESC' ? Buffer.from(c.map((b) => ~b & 0xff)) : c;
    };
    if (r.op === 'eq') {
      prefix = Buffer.concat([prefix, enc(r.values[0])]);
      continue;
    }
    const lowV = r.op === 'bt' ? r.values[0] : r.op === 'gt' || r.op === 'gte' ? r.values[0] : undefined;
    const highV = r.op === 'bt' ? r.values[1] : r.op === 'lt' || r.op === 'lte' ? r.values[0] : undefined;
    const lowInclusive = r.op !== 'gt';
    const highInclusive = r.op !== 'lt';
    // In byte space an ASC value bound keeps its side; a DESC one swaps sides.
    const at = (v: unknown, inclusiveBelow: boolean) => {
      const k = Buffer.concat([prefix, enc(v)]);
      return inclusiveBelow ? k : prefixUpperBound(k);
    };
    let lower: Buffer | undefined = prefix.length ? prefix : undefined;
    let upper: Buffer | undefined = prefix.length ? prefixUpperBound(prefix) : undefined;
    if (f.order === 'ASC') {
      if (lowV !== undefined) lower = at(lowV, lowInclusive);
      if (highV !== undefined) upper = at(highV, !highInclusive);
    } else {
      if (lowV !== undefined) upper = at(lowV, !lowInclusive);
      if (highV !== undefined) lower = at(highV, highInclusive);
    }
    return { ...(lower ? { lower } : {}), ...(upper ? { upper } : {}) };
  }
  return prefix.length ? { lower: prefix, upper: prefixUpperBound(prefix) } : {};
}

export function encodeCursor(sortKey: Buffer, key: string): string {
  return Buffer.from(JSON.stringify([sortKey.toString('base64'), key])).toString('base64url');
}

export function decodeCursor(cursor: string): { sortKey: Buffer; key: string } {
  try {
    const [k, e] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    if (typeof k !== 'string' || typeof e !== 'string') throw new Error('shape');
    return { sortKey: Buffer.from(k, 'base64'), key: e };
  } catch {
    throw badRequest('offset', 'not a cursor returned by a previous scan');
  }
}
