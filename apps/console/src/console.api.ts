/**
 * The console over HTTP (fastify): the page (static HTML, JS, CSS) at /, its figures at /api/state, and the
 * console's own /health and /metrics for probes and Prometheus.
 *
 * Deny by default, as the support lookup: only routes marked public (the page's static files, /health, /metrics)
 * are served without a bearer token (`Authorization: Bearer`, CONSOLE_TOKENS or whatever the Authenticator
 * accepts); every other request, matched or not, needs one before a handler runs or a 404 is told apart from a 401.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { SECURITY_HEADERS, servePage, type Authenticator } from '@pipeline/web-auth';
import type { Sampler } from './sampler';

declare module 'fastify' {
  interface FastifyRequest {
    user: string | null;
  }
}

const PUBLIC_DIR = new URL('./public/', import.meta.url);

export interface ConsoleApiOptions {
  sampler: Sampler;
  auth: Authenticator;
  logger: Logger;
}

export async function buildConsoleApi(o: ConsoleApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger.child({ component: 'console-api' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (o.auth.empty) o.logger.warn('no CONSOLE_TOKENS: every request for figures will be refused (401); set CONSOLE_TOKENS=user:token');
  app.decorateRequest('user', null);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'console_' });
  new Gauge({
    name: 'console_components',
    help: 'Components of the pipeline as the console last saw them, by status (ok, warn, down)',
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts: Record<string, number> = { ok: 0, warn: 0, down: 0 };
      for (const c of o.sampler.current().components) counts[c.status] = (counts[c.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });

  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config.public === true) return;
    const r = await o.auth.authenticate(req.headers.authorization);
    if ('user' in r) {
      req.user = r.user;
      return;
    }
    req.log.info({ refusal: r.refusal, url: req.url.split('?')[0] }, 'request refused');
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="console"')
      .send({ status: 401, code: 'UNAUTHENTICATED', message: 'a valid bearer token is required (Authorization: Bearer <token>); npm start prints a link that carries one' });
    return reply;
  });
  app.addHook('onSend', async (req, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (req.routeOptions.config.public !== true) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setNotFoundHandler(async (_req, reply) => reply.code(404).send({ status: 404, code: 'NOT_FOUND', message: 'no such route' }));

  app.get('/api/whoami', async (req) => ({ user: req.user }));
  app.get('/api/state', async (req) => ({ user: req.user, ...o.sampler.current() }));

  app.get('/health', { config: { public: true } }, async () => ({ status: 'UP' }));
  app.get('/metrics', { config: { public: true } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  await servePage(app, PUBLIC_DIR);
  return app;
}
