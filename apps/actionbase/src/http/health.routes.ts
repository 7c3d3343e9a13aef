import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface Health {
  /** Ready to take traffic: storage open, WAL sink connected, not shutting down. Must be O(1). */
  ready(): { ready: boolean; details: Record<string, unknown> };
}

export function registerHealthRoutes(app: FastifyInstance, health: Health, metrics?: Registry, inflight?: () => { requests: number; bodyBytes: number }): void {
  app.get('/graph/health', async () => ({ status: 'UP' }));
  app.get('/graph/health/liveness', async () => ({ status: 'UP' }));
  app.get('/graph/health/readiness', async (_req, reply) => {
    const r = health.ready();
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'UP' : 'DOWN', ...r.details, ...(inflight ? { inflight: inflight() } : {}) });
  });
  if (metrics)
    app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}
