import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Direction } from '@pipeline/edge-model';
import { badRequest } from '../errors';
import { runQueryDsl } from '../engine/query-dsl';
import { registerQueueRoutes } from './queue.routes';
import type { ServerDeps } from './server';

type TableParams = { db: string; table: string };
type Query = Record<string, string | string[] | undefined>;

/** A list parameter: comma-separated, repeated (`start=a&start=b`), or both. */
const list = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => x.split(',')).map((s) => s.trim()).filter((s) => s !== '');
/** A single-valued parameter: given twice is an error, not a silent pick. */
const one = (q: Query, name: string): string | undefined => {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(name, `given ${v.length} times; give it once`);
  return v;
};
const bool = (v: string | string[] | undefined, field: string): boolean => {
  if (Array.isArray(v)) throw badRequest(field, `given ${v.length} times; give it once`);
  if (v === undefined || v === '' || v === 'true') return v !== undefined;
  if (v === 'false') return false;
  throw badRequest(field, 'expected true or false');
};
/** Required and case-sensitive, as Actionbase binds its Direction enum. */
const direction = (v: string | string[] | undefined): Direction => {
  if (Array.isArray(v)) throw badRequest('direction', `given ${v.length} times; give it once`);
  if (v === undefined || v === '') throw badRequest('direction', 'required: OUT or IN');
  if (v !== 'OUT' && v !== 'IN') throw badRequest('direction', `expected OUT or IN (upper case), got ${JSON.stringify(v)}`);
  return v;
};
/** A list in a JSON body: an array of strings or numbers (Actionbase binds List<String> / List<Any>). */
const bodyList = (body: Record<string, unknown>, name: string): string[] => {
  const v = body[name];
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return list(v);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'bigint'))
    throw badRequest(name, 'expected an array of strings or numbers');
  return v.map(String);
};
const bodyString = (body: Record<string, unknown>, name: string): string | undefined => {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(name, 'expected a string');
  return v;
};
const objectBody = (body: unknown): Record<string, unknown> => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('body', 'expected a JSON object');
  return body as Record<string, unknown>;
};

/**
 * Actionbase's server refuses `ranges`, `filters` and any `features` on count and counts with a 400
 * (QueryService.counts: "`ranges` is not yet supported in count query."), although its docs list
 * `ranges` as optional: the server is followed.
 */
const countRefusals = (q: Query): void => {
  for (const p of ['ranges', 'filters'] as const)
    if (q[p] !== undefined) throw badRequest(p, `\`${p}\` is not yet supported in count query; scan with ${p} instead (features=total gives the count under start)`);
  const features = list(q.features);
  if (features.length) throw badRequest('features', `\`features\` ${features.join(', ')} are not supported in count query`);
};

/** Data API (docs/api.md, "REST API"): v3 mutations and queries. */
export function registerDataRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const base = '/graph/v3/databases/:db/tables/:table';
  const resolve = (req: FastifyRequest) => {
    const p = req.params as TableParams;
    return deps.catalog.resolve(p.db, p.table);
  };
  const mutate = (sync: boolean, multi: boolean) => async (req: FastifyRequest) => {
    const table = resolve(req);
    const q = req.query as Query;
    if (multi !== (table.def.kind === 'MULTI_EDGE'))
      throw badRequest('table', `${table.id} is a ${table.def.kind} table; use ${table.def.kind === 'MULTI_EDGE' ? 'multi-edges' : 'edges'}`);
    bool(q.lock, 'lock'); // accepted for compatibility: every key is always locked here
    return deps.engine.mutate(table, req.body, {
      requestMode: sync ? 'SYNC' : null,
      force: sync && bool(q.force, 'force'),
      actor: req.actor,
      requestId: req.requestId,
    });
  };
  app.post(`${base}/edges`, mutate(false, false));
  app.post(`${base}/edges/sync`, mutate(true, false));
  app.post(`${base}/multi-edges`, mutate(false, true));
  app.post(`${base}/multi-edges/sync`, mutate(true, true));

  app.get(`${base}/edges/get`, async (req) => {
    const q = req.query as Query;
    return deps.queries.get(resolve(req), list(q.source), list(q.target), { filters: one(q, 'filters'), features: list(q.features) });
  });
  // POST: for key lists too long for a URL (Actionbase's EdgeQueryGetRequest as the body).
  app.post(`${base}/edges/get`, async (req) => {
    const b = objectBody(req.body);
    return deps.queries.get(resolve(req), bodyList(b, 'source'), bodyList(b, 'target'), { filters: bodyString(b, 'filters'), features: bodyList(b, 'features') });
  });
  app.get(`${base}/edges/scan/:index`, async (req) => {
    const q = req.query as Query;
    const { index } = req.params as { index: string };
    return deps.queries.scan(resolve(req), index, {
      start: one(q, 'start'),
      limit: one(q, 'limit'),
      offset: one(q, 'offset'),
      ranges: one(q, 'ranges'),
      filters: one(q, 'filters'),
      features: list(q.features),
      direction: direction(q.direction),
    });
  });
  app.get(`${base}/edges/count`, async (req) => {
    const q = req.query as Query;
    countRefusals(q);
    return deps.queries.count(resolve(req), one(q, 'start') ?? '', direction(q.direction));
  });
  app.get(`${base}/edges/counts`, async (req) => {
    const q = req.query as Query;
    countRefusals(q);
    return deps.queries.counts(resolve(req), list(q.start), direction(q.direction));
  });
  app.get(`${base}/edges/seek/:cache`, async (req) => {
    const q = req.query as Query;
    const { cache } = req.params as { cache: string };
    return deps.queries.seek(resolve(req), cache, { start: one(q, 'start'), direction: direction(q.direction), limit: one(q, 'limit'), offset: one(q, 'offset') });
  });
  app.get(`${base}/edges/agg/:group`, async (req) => {
    const q = req.query as Query;
    const { group } = req.params as { group: string };
    return deps.queries.agg(resolve(req), group, {
      starts: list(q.start),
      direction: direction(q.direction),
      ranges: one(q, 'ranges'),
      filters: one(q, 'filters'),
      features: list(q.features),
      ttl: one(q, 'ttl'),
    });
  });
  app.post('/graph/v3/query', async (req) => runQueryDsl(req.body, deps.catalog, deps.queries));
  app.get(`${base}/multi-edges/ids`, async (req) => {
    const q = req.query as Query;
    return deps.queries.multiEdgeIds(resolve(req), list(q.ids), { filters: one(q, 'filters'), features: list(q.features) });
  });
  app.post(`${base}/multi-edges/ids`, async (req) => {
    const b = objectBody(req.body);
    return deps.queries.multiEdgeIds(resolve(req), bodyList(b, 'ids'), { filters: bodyString(b, 'filters'), features: bodyList(b, 'features') });
  });
  registerQueueRoutes(app, deps);
}
