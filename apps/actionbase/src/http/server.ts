import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { monotonicFactory } from 'ulid';
import type { Logger } from 'pino';
import { timingSafeEqual } from 'node:crypto';
import type { Catalog } from '../catalog/catalog';
import { ApiError } from '../errors';
import type { MutationEngine } from '../engine/mutation-engine';
import type { QueryService } from '../engine/query-service';
import { registerDataRoutes } from './data.routes';
import { registerHealthRoutes, type Health } from './health.routes';
import { registerSchemaV2Routes } from './schema-v2.routes';
import { registerSchemaV3Routes } from './schema-v3.routes';

export interface ServerDeps {
  catalog: Catalog;
  engine: MutationEngine;
  queries: QueryService;
  health: Health;
  logger: Logger;
  apiToken: string | undefined;
  bodyLimitBytes: number;
  tenant: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: string;
    requestId: string;
  }
}

const newRequestId = monotonicFactory();

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request logs would dominate at batch rates; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimitBytes,
    // X-Request-ID is the request id of the WAL/CDC context; we generate one when absent.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return (Array.isArray(h) ? h[0] : h) || newRequestId();
    },
  });

  app.decorateRequest('actor', '');
  app.decorateRequest('requestId', '');
  app.addHook('onRequest', async (req, reply) => {
    req.requestId = String(req.id);
    const actor = req.headers['x-actor-id'];
    req.actor = (Array.isArray(actor) ? actor[0] : actor) || 'anonymous';
    reply.header('X-Request-ID', req.requestId);
    if (deps.apiToken && !req.url.startsWith('/graph/health')) checkToken(req, deps.apiToken);
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof ApiError) {
      if (err.status >= 500) req.log.warn({ err: err.cause ?? err, requestId: req.requestId }, err.message);
      return reply.status(err.status).send(err.toJSON());
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.status(413).send(new ApiError(413, 'PAYLOAD_TOO_LARGE', `body: larger than the limit of ${deps.bodyLimitBytes} bytes; split the mutations into smaller requests`, 'body').toJSON());
    if (e.statusCode && e.statusCode < 500)
      return reply.status(e.statusCode).send(new ApiError(e.statusCode, 'INVALID_REQUEST', `body: ${e.message}`, 'body').toJSON());
    req.log.error({ err, requestId: req.requestId }, 'unhandled error');
    return reply.status(500).send(new ApiError(500, 'INTERNAL', 'internal error; see the server log for the request id').toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send(new ApiError(404, 'NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`).toJSON());
  });

  registerHealthRoutes(app, deps.health);
  registerDataRoutes(app, deps);
  registerSchemaV3Routes(app, deps.catalog);
  registerSchemaV2Routes(app, deps.catalog, deps.tenant);
  return app;
}

function checkToken(req: FastifyRequest, token: string): void {
  const auth = req.headers.authorization ?? '';
  const given = auth.startsWith('Bearer ') ? auth.slice(7) : auth;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b))
    throw new ApiError(401, 'UNAUTHORIZED', 'missing or wrong API token: send "Authorization: Bearer <token>"');
}
