import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Direction } from '@pipeline/edge-model';
import { badRequest } from '../errors';
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
const direction = (v: string | string[] | undefined): Direction => {
  if (Array.isArray(v)) throw badRequest('direction', `given ${v.length} times; give it once`);
  const d = (v ?? 'OUT').toUpperCase();
  if (d !== 'OUT' && d !== 'IN') throw badRequest('direction', `expected OUT or IN, got ${JSON.stringify(v)}`);
  return d;
};

/** Data API (domain.md, "REST API"): v3 mutations and queries. */
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
    return deps.queries.get(resolve(req), list(q.source), list(q.target));
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
      direction: direction(q.direction),
    });
  });
  app.get(`${base}/edges/count`, async (req) => {
    const q = req.query as Query;
    return deps.queries.count(resolve(req), one(q, 'start') ?? '', direction(q.direction));
  });
  app.get(`${base}/edges/counts`, async (req) => {
    const q = req.query as Query;
    return deps.queries.counts(resolve(req), list(q.start), direction(q.direction));
  });
  const ids = async (req: FastifyRequest) => {
    const q = req.query as Query;
    const body = req.body as { ids?: unknown } | undefined;
    const fromBody = Array.isArray(body?.ids) ? body.ids.map(String) : [];
    return deps.queries.multiEdgeIds(resolve(req), [...list(q.ids), ...fromBody]);
  };
  app.get(`${base}/multi-edges/ids`, ids);
  app.post(`${base}/multi-edges/ids`, ids);
}
