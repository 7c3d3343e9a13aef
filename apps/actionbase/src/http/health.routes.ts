import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

export interface Health {
  /** Ready to take traffic: storage open, WAL sink connected, not shutting down. Must be O(1). */
  ready(): { ready: boolean; details: Record<string, unknown> };
}

/**
 * Probes answer as Actionbase's do: a plain-text `UP` (200) or `DOWN` (503); `/graph/health` is the
 * readiness. What lies behind the answer (CDC backlog, records set aside, requests in progress) is JSON
 * at `/graph/health/details`. Every answer is O(1): probes must stay fast under any load.
 */
export function registerHealthRoutes(app: FastifyInstance, health: Health, metrics?: Registry, inflight?: () => { requests: number; bodyBytes: number }): void {
  const readiness = async (_req: unknown, reply: FastifyReply) => {
    const up = health.ready().ready;
    return reply.status(up ? 200 : 503).type('text/plain; charset=utf-8').send(up ? 'UP' : 'DOWN');
  };
  app.get('/graph/health', readiness);
  app.get('/graph/health/readiness', readiness);
  app.get('/graph/health/liveness', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('UP'));
  app.get('/graph/health/details', async (_req, reply) => {
    const r = health.ready();
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'UP' : 'DOWN', ...r.details, ...(inflight ? { inflight: inflight() } : {}) });
  });
  if (metrics) app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}
