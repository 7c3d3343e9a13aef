import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { ulidFactory } from '../ids';
import type { Logger } from 'pino';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';
import type { Catalog } from '../catalog/catalog';
import { ApiError } from '../errors';
import { Gate } from '../engine/limits';
import type { MutationEngine } from '../engine/mutation-engine';
import type { QueryService } from '../engine/query-service';
import { registerDataRoutes } from './data.routes';
import { registerHealthRoutes, type Health } from './health.routes';
import { registerJsonBodyParser } from './json-body';
import { registerRequestMetrics } from './request-metrics';
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
  http: HttpLimits;
  metrics?: Registry;
}

export interface HttpLimits {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  maxInflightBodyBytes: number;
  maxInflightRequests: number;
  maxConcurrentBatches: number;
}

/** Probes and metrics: never refused by admission control, never behind a token. */
const isProbe = (url: string) => url.startsWith('/graph/health') || url === '/metrics';

declare module 'fastify' {
  interface FastifyRequest {
    actor: string;
    requestId: string;
    /** Set while the request holds a permit of the big-batch gate (json-body.ts). */
    releaseHeavy?: () => void;
  }
}

const newRequestId = ulidFactory();

export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Per-request logs would dominate at batch rates; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request: pino serialises a child's bindings when it is made (2-3% of the main
    // thread under the single-edge mix, perf profile), and the only request logs, the error handler's,
    // name the request id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: deps.bodyLimitBytes,
    // Our own server, to set every timeout (fastify sets only some) and the connection cap.
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: deps.http.requestTimeoutMs,
          headersTimeout: Math.min(deps.http.headersTimeoutMs, deps.http.requestTimeoutMs),
          keepAliveTimeout: deps.http.idleTimeoutMs,
          // How often Node checks the two timeouts above (default 30 s, too coarse for them).
          connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(deps.http.headersTimeoutMs / 4))),
        },
        handler,
      );
      server.maxConnections = deps.http.maxConnections;
      // No socket inactivity timeout: it would also cut a client waiting for a long batch to finish.
      server.setTimeout(0);
      return server;
    },
    // X-Request-ID is the request id of the WAL/CDC context; we generate one when absent.
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return (Array.isArray(h) ? h[0] : h) || newRequestId();
    },
  });

  app.decorateRequest('actor', '');
  app.decorateRequest('requestId', '');
  const tokenDigest = deps.apiToken === undefined ? undefined : digest(deps.apiToken);
  const admission = { requests: 0, bytes: 0 };
  app.addHook('onRequest', async (req, reply) => {
    req.requestId = String(req.id);
    const actor = req.headers['x-actor-id'];
    req.actor = (Array.isArray(actor) ? actor[0] : actor) || 'anonymous';
    reply.header('X-Request-ID', req.requestId);
    if (isProbe(req.url)) return;
    if (tokenDigest) checkToken(req, tokenDigest);
    // Admission control: past these bounds a request is refused at once rather than queued, so that
    // memory stays bounded and the requests already admitted (and the probes) keep their latency.
    const declared = Number(req.headers['content-length'] ?? 0);
    const bytes = Number.isFinite(declared) && declared > 0 ? Math.min(declared, deps.bodyLimitBytes) : 0;
    if (admission.requests + 1 > deps.http.maxInflightRequests || (admission.bytes > 0 && admission.bytes + bytes > deps.http.maxInflightBodyBytes)) {
      reply.header('Retry-After', '1');
      throw new ApiError(503, 'OVERLOADED', `the core is at its limit of ${deps.http.maxInflightRequests} requests or ${deps.http.maxInflightBodyBytes} body bytes in progress (MAX_INFLIGHT_REQUESTS, MAX_INFLIGHT_BODY_BYTES); retry after the Retry-After delay`);
    }
    admission.requests++;
    admission.bytes += bytes;
    reply.raw.once('close', () => {
      admission.requests--;
      admission.bytes -= bytes;
      req.releaseHeavy?.();
    });
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

  registerJsonBodyParser(app, new Gate(deps.http.maxConcurrentBatches));
  app.addHook('onResponse', async (req) => req.releaseHeavy?.());
  if (deps.metrics) registerRequestMetrics(app, deps.metrics);
  registerHealthRoutes(app, deps.health, deps.metrics, () => ({ requests: admission.requests, bodyBytes: admission.bytes }));
  registerDataRoutes(app, deps);
  registerSchemaV3Routes(app, deps.catalog);
  registerSchemaV2Routes(app, deps.catalog, deps.tenant);
  return app;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Bearer only. Both sides are hashed first, so the comparison is constant-time over equal-length
 * digests and its timing says nothing about the token, not even its length.
 */
function checkToken(req: FastifyRequest, tokenDigest: Buffer): void {
  const auth = req.headers.authorization ?? '';
  const match = /^Bearer ([^\s]+)$/.exec(auth);
  const ok = timingSafeEqual(digest(match ? match[1]! : ''), tokenDigest) && match !== null;
  if (!ok) throw new ApiError(401, 'UNAUTHORIZED', 'missing or wrong API token: send "Authorization: Bearer <token>"');
}
