/**
 * The support lookup over HTTP (fastify) and the support page (static HTML + JS) at /.
 *
 * Deny by default: authentication is decided on the route the router matched, not on the URL text. Only the page's
 * static routes (and an empty favicon) are marked public; every other request (any /api route however it is spelled, and anything
 * that matches no route at all) needs a valid bearer token before a handler runs or a 404 is told apart from a
 * 401. The /api routes live in their own plugin scope with their own guard as well, so a route added there cannot
 * escape authentication even if the root hook were removed.
 *
 * Every non-public request, whatever its outcome (401, 400, 404, 500, 200), gets one audit line, written and
 * fsynced in onSend: before any byte of the answer leaves. If the line cannot be written the answer is replaced by
 * a 503 and no data leaves.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditLog } from './audit-log';
import { SECURITY_HEADERS, servePage, type Authenticator } from '@pipeline/web-auth';
import { CursorError, type EdgeRef, type LookupService } from './lookup.service';
import { minimalPage, minimalState } from './minimize';
import { stringifyJson } from '@pipeline/events';

export interface LookupApiOptions {
  lookup: LookupService;
  audit: AuditLog;
  auth: Authenticator;
  logger: Logger;
}

interface AuditInfo {
  action?: string;
  params?: Record<string, unknown>;
  results?: number;
  outcome?: string;
  reason?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user: string | null;
    auditInfo: AuditInfo | null;
  }
}

const PUBLIC_DIR = new URL('./public/', import.meta.url);

/** Epoch ms or an ISO-8601 date. */
const instant = z.union([z.coerce.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);
const pageQuery = { size: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().min(1).max(2_000).optional() };
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
const revealQuery = z.object({ reason: z.string().trim().min(8, 'say why the full record is needed (8+ characters)').max(500) });

/** The request path and query for the audit line, with credential-like query values blanked. */
export function auditUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url.slice(0, 2_048);
  const params = new URLSearchParams(url.slice(q + 1));
  for (const k of [...params.keys()]) if (/token|auth|key|secret|pass/i.test(k)) params.set(k, '[redacted]');
  return `${url.slice(0, q)}?${params.toString()}`.slice(0, 2_048);
}

/** What a failure was, for the operator's log: types and codes only, never the query or Elasticsearch's reason text. */
function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; statusCode?: number; code?: string; body?: { error?: { type?: string; root_cause?: { type?: string }[] } } };
  if (e.body?.error) return { name: e.name, statusCode: e.statusCode, type: e.body.error.type, rootCauses: e.body.error.root_cause?.map((r) => r.type) };
  return { name: e.name, code: e.code, message: (err as Error).message?.slice(0, 300) };
}

export async function buildLookupApi(o: LookupApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger.child({ component: 'lookup-api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A URL that cannot be decoded (`/%zz`) is refused before routing and before any hook: answer it like the rest
    // (generic message, security headers, an audit line) instead of fastify's default, which echoes the URL.
    frameworkErrors: (err, req, rawReply) => {
      const reply = rawReply as FastifyReply;
      const body = { status: 400, code: 'BAD_REQUEST', message: 'the request is malformed' };
      const entry = { at: new Date().toISOString(), user: null, action: 'none', route: null, method: req.method, url: auditUrl(req.url), ip: req.ip, status: 400, outcome: err.code };
      void o.audit.append(entry).then(
        () => reply.code(400).headers({ ...SECURITY_HEADERS, 'cache-control': 'no-store' }).send(body),
        () => reply.code(503).headers(SECURITY_HEADERS).send({ status: 503, code: 'AUDIT_UNAVAILABLE', message: 'the request could not be audited' }),
      );
    },
  });
  // Records and states may hold LONGs beyond 2^53 (bigint, read exactly from Elasticsearch): written as bare integers.
  app.setReplySerializer((payload) => stringifyJson(payload));
  if (o.auth.empty) o.logger.warn('no LOOKUP_TOKENS and no LOOKUP_JWT_* key: every lookup request will be refused (401)');
  app.decorateRequest('user', null);
  app.decorateRequest('auditInfo', null);

  const info = (req: FastifyRequest): AuditInfo => (req.auditInfo ??= {});

  async function guard(req: FastifyRequest, reply: FastifyReply) {
    if (req.user !== null) return;
    const r = await o.auth.authenticate(req.headers.authorization);
    if ('user' in r) {
      req.user = r.user;
      return;
    }
    info(req).outcome = r.refusal;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="es-indexer lookup"')
      .send({ status: 401, code: 'UNAUTHENTICATED', message: 'a valid bearer token is required (Authorization: Bearer <token>)' });
    return reply;
  }

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.public === true) return;
    return guard(req, reply);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (req.routeOptions.config.public === true) return payload;
    reply.header('cache-control', 'no-store');
    const a = info(req);
    try {
      await o.audit.append({
        at: new Date().toISOString(),
        user: req.user,
        // 'none': refused or failed before a handler said what the request was.
        action: a.action ?? 'none',
        route: req.routeOptions.url ?? null,
        method: req.method,
        url: auditUrl(req.url),
        ...(a.params ? { params: a.params } : {}),
        ip: req.ip,
        status: reply.statusCode,
        ...(a.results !== undefined ? { results: a.results } : {}),
        ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
        ...(a.reason !== undefined ? { reason: a.reason } : {}),
      });
    } catch (err) {
      req.log.error({ reqId: req.id, error: describeError(err) }, 'audit log write failed: the answer is withheld');
      reply.code(503).type('application/json; charset=utf-8');
      return JSON.stringify({ status: 503, code: 'AUDIT_UNAVAILABLE', message: 'the lookup could not be audited, so it is not answered; tell the operators' });
    }
    return payload;
  });

  app.setNotFoundHandler(async (req, reply) => {
    info(req).outcome = 'no-route';
    return reply.code(404).send({ status: 404, code: 'NOT_FOUND', message: 'no such route; see the API table in the README' });
  });

  app.setErrorHandler(async (err, req, reply) => {
    const a = info(req);
    let body: { status: number; code: string; message: string };
    if (err instanceof z.ZodError) {
      body = { status: 400, code: 'BAD_REQUEST', message: err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ') };
    } else if (err instanceof CursorError) {
      body = { status: 400, code: 'BAD_CURSOR', message: 'cursor is not one this API returned; start again without it' };
    } else {
      const { statusCode: sc, code } = err as { statusCode?: number; code?: string };
      // Fastify's own 4xx (malformed request): the client's fault, said without echoing the request. Any other
      // error, Elasticsearch's 4xx included, is ours.
      body = code?.startsWith('FST_') && sc !== undefined && sc >= 400 && sc < 500
        ? { status: sc, code: 'BAD_REQUEST', message: 'the request is malformed' }
        : { status: 500, code: 'LOOKUP_FAILED', message: `the lookup failed; give the operators this id: ${req.id}` };
      if (body.status === 500) req.log.error({ reqId: req.id, action: a.action, error: describeError(err) }, 'lookup failed');
    }
    a.outcome = body.code;
    return reply.code(body.status).send(body);
  });

  await app.register(
    async (api) => {
      api.addHook('onRequest', guard);

      /** Sets what the audit line says about an accepted lookup; the line itself is written in onSend. */
      const audited = (req: FastifyRequest, action: string, params: Record<string, unknown>) => Object.assign(info(req), { action, params });

      api.get('/whoami', async (req) => {
        audited(req, 'whoami', {});
        return { user: req.user };
      });

      api.get('/users/:user/mutations', async (req) => {
        audited(req, 'user-mutations', {});
        const { user } = z.object({ user: z.string().min(1) }).parse(req.params);
        const q = z.object({ from: instant.optional(), to: instant.optional(), table: z.string().min(1).optional(), ...pageQuery }).parse(req.query);
        info(req).params = { user, ...q };
        const page = await o.lookup.byUser(user, { from: q.from, to: q.to }, q.size, q.cursor, q.table);
        info(req).results = page.items.length;
        return minimalPage(page);
      });

      /** The abuse alerts about a user (apps/abuse-detector): rule, window, what was counted; no record content. */
      api.get('/users/:user/alerts', async (req) => {
        audited(req, 'user-alerts', {});
        const { user } = z.object({ user: z.string().min(1) }).parse(req.params);
        const q = z.object(pageQuery).parse(req.query);
        info(req).params = { user, ...q };
        const page = await o.lookup.alertsByUser(user, q.size, q.cursor);
        info(req).results = page.items.length;
        return page;
      });

      api.get('/edges/history', async (req) => {
        audited(req, 'edge-history', {});
        const q = edgeQuery.parse(req.query);
        const p = z.object(pageQuery).parse(req.query);
        info(req).params = { ...q, ...p };
        const page = await o.lookup.edgeHistory(asEdgeRef(q), p.size, p.cursor);
        info(req).results = page.items.length;
        return minimalPage(page);
      });

      api.get('/edges/state', async (req) => {
        audited(req, 'edge-state', {});
        const q = edgeQuery.parse(req.query);
        info(req).params = q;
        const state = await o.lookup.edgeState(asEdgeRef(q));
        info(req).results = state ? 1 : 0;
        return { state: minimalState(state) };
      });

      api.get('/requests/:requestId', async (req) => {
        audited(req, 'request', {});
        const { requestId } = z.object({ requestId: z.string().min(1) }).parse(req.params);
        const q = z.object(pageQuery).parse(req.query);
        info(req).params = { requestId, ...q };
        const page = await o.lookup.byRequestId(requestId, q.size, q.cursor);
        info(req).results = page.items.length;
        return minimalPage(page);
      });

      api.get('/events/:eventId', async (req) => {
        audited(req, 'event', {});
        const { eventId } = z.object({ eventId: z.string().min(1) }).parse(req.params);
        const q = z.object(pageQuery).parse(req.query);
        info(req).params = { eventId, ...q };
        const page = await o.lookup.byEventId(eventId, q.size, q.cursor);
        info(req).results = page.items.length;
        return minimalPage(page);
      });

      /** The whole stored document (properties, actor, before/after, Kafka coordinates): only with a reason. */
      api.get('/records/:id', async (req, reply) => {
        audited(req, 'reveal', {});
        const { id } = z.object({ id: z.string().min(1).max(1_024) }).parse(req.params);
        info(req).params = { id };
        const { reason } = revealQuery.parse(req.query);
        info(req).reason = reason;
        const record = await o.lookup.record(id);
        info(req).results = record ? 1 : 0;
        if (!record) return reply.code(404).send({ status: 404, code: 'NOT_FOUND', message: 'no record with this id' });
        return { record };
      });
    },
    { prefix: '/api' },
  );

  await servePage(app, PUBLIC_DIR);
  return app;
}
