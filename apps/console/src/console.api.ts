/**
 * The console over HTTP (fastify): the page (static HTML, JS, CSS) at /, its figures at /api/state, and the
 * console's own /health and /metrics for probes and Prometheus.
 *
 * Deny by default, as the support lookup: only routes marked public (the page's static files, /health, /metrics)
 * are served without a bearer token (`Authorization: Bearer`, CONSOLE_TOKENS or whatever the Authenticator
 * accepts); every other request, matched or not, needs one before a handler runs or a 404 is told apart from a 401.
 */
import { readFile } from 'node:fs/promises';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Authenticator } from '@pipeline/web-auth';
import type { Sampler } from './sampler';

declare module 'fastify' {
  interface FastifyRequest {
    user: string | null;
  }
  interface FastifyContextConfig {
    public?: boolean;
  }
}

const PUBLIC_DIR = new URL('./public/', import.meta.url);
const STATIC: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** The page loads only its own script and style, talks only to its origin and may not be framed. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

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
  app.get('/favicon.ico', { config: { public: true } }, async (_req, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
  for (const [route, file] of Object.entries(STATIC)) {
    const body = await readFile(new URL(file, PUBLIC_DIR));
    app.get(route, { config: { public: true } }, async (_req, reply) => reply.type(TYPES[file.split('.').pop()!]!).header('cache-control', 'no-cache').send(body));
  }
  return app;
}
