/**
 * The support lookup over HTTP (fastify): bearer-token authentication on every /api route (no anonymous access;
 * 401 otherwise), an audit line per accepted lookup, and the support page (static HTML + JS) at /.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditLog } from './audit-log';
import { CursorError, type EdgeRef, type LookupService, type Page } from './lookup.service';

export interface LookupApiOptions {
  lookup: LookupService;
  audit: AuditLog;
  /** token -> user. Empty: every /api request is refused (there is no anonymous access). */
  tokens: Map<string, string>;
  logger: Logger;
  /** Extra routes (health, metrics) registered by the caller. */
  extra?: (app: FastifyInstance) => void;
}

const PUBLIC_DIR = new URL('./public/', import.meta.url);
const STATIC: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** Epoch ms or an ISO-8601 date. */
const instant = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const pageQuery = { size: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().max(2_000).optional() };
const edgeQuery = z
  .object({
    database: z.string().min(1).optional(),
    table: z.string().min(1),
    source: z.string().min(1).optional(),
    target: z.string().min(1).optional(),
    /** Multi-edge id: its history whatever its endpoints were. */
    id: z.string().min(1).optional(),
  })
  .refine((q) => q.id !== undefined || (q.source !== undefined && q.target !== undefined), 'give source and target, or id');
const asEdgeRef = (q: z.output<typeof edgeQuery>): EdgeRef =>
  q.id !== undefined ? { ...q, id: q.id } : { ...q, source: q.source!, target: q.target! };

function findUser(tokens: Map<string, string>, header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const given = Buffer.from(m[1]!);
  let user: string | undefined;
  // Compare against every token in constant time per token, so timing tells nothing about which one is near.
  for (const [token, name] of tokens) {
    const t = Buffer.from(token);
    if (t.length === given.length && timingSafeEqual(t, given)) user = name;
  }
  return user;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: string;
  }
}

export async function buildLookupApi(o: LookupApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: o.logger.child({ component: 'lookup-api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  if (o.tokens.size === 0) o.logger.warn('LOOKUP_TOKENS is empty: every lookup request will be refused (401)');

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/')) return;
    const user = findUser(o.tokens, req.headers.authorization);
    if (!user) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="es-indexer lookup"')
        .send({ status: 401, code: 'UNAUTHENTICATED', message: 'a valid bearer token is required' });
      return reply;
    }
    req.user = user;
  });

  app.setErrorHandler(async (err, req, reply) => {
    const status = err instanceof z.ZodError || err instanceof CursorError ? 400 : ((err as { statusCode?: number }).statusCode ?? 500);
    if (status >= 500) req.log.error({ err }, 'lookup failed');
    const message = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
    await reply.code(status).send({ status, code: status === 400 ? 'BAD_REQUEST' : 'LOOKUP_FAILED', message });
  });

  /** Runs an accepted lookup and writes its audit line before the answer leaves. */
  async function audited<T>(req: FastifyRequest, reply: FastifyReply, action: string, params: Record<string, unknown>, run: () => Promise<T>) {
    const result = await run();
    const results = (result as Page<unknown>)?.items?.length ?? (result === null ? 0 : 1);
    await o.audit.append({ at: new Date().toISOString(), user: req.user!, action, params, ip: req.ip, status: 200, results });
    return reply.send(result);
  }

  app.get('/api/whoami', async (req) => ({ user: req.user }));

  app.get('/api/users/:user/mutations', async (req, reply) => {
    const { user } = z.object({ user: z.string().min(1) }).parse(req.params);
    const q = z.object({ from: instant.optional(), to: instant.optional(), table: z.string().min(1).optional(), ...pageQuery }).parse(req.query);
    return audited(req, reply, 'user-mutations', { user, ...q }, () => o.lookup.byUser(user, { from: q.from, to: q.to }, q.size, q.cursor, q.table));
  });

  app.get('/api/edges/history', async (req, reply) => {
    const q = edgeQuery.parse(req.query);
    const p = z.object(pageQuery).parse(req.query);
    return audited(req, reply, 'edge-history', { ...q, ...p }, () => o.lookup.edgeHistory(asEdgeRef(q), p.size, p.cursor));
  });

  app.get('/api/edges/state', async (req, reply) => {
    const q = edgeQuery.parse(req.query);
    return audited(req, reply, 'edge-state', q, async () => ({ state: await o.lookup.edgeState(asEdgeRef(q)) }));
  });

  app.get('/api/requests/:requestId', async (req, reply) => {
    const { requestId } = z.object({ requestId: z.string().min(1) }).parse(req.params);
    const q = z.object(pageQuery).parse(req.query);
    return audited(req, reply, 'request', { requestId, ...q }, () => o.lookup.byRequestId(requestId, q.size, q.cursor));
  });

  app.get('/api/events/:eventId', async (req, reply) => {
    const { eventId } = z.object({ eventId: z.string().min(1) }).parse(req.params);
    const q = z.object(pageQuery).parse(req.query);
    return audited(req, reply, 'event', { eventId, ...q }, () => o.lookup.byEventId(eventId, q.size, q.cursor));
  });

  for (const [route, file] of Object.entries(STATIC)) {
    app.get(route, async (_req, reply) => {
      const body = await readFile(new URL(file, PUBLIC_DIR));
      return reply.type(TYPES[file.split('.').pop()!] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(body);
    });
  }
  o.extra?.(app);
  return app;
}
