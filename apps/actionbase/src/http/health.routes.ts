import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

export interface Health {
  /** Ready to take traffic: storage open, WAL sink connected, not shutting down. Must be O(1). */
  ready(): { ready: boolean; details: Record<string, unknown> };
  /**
   * Whether readiness is marked at start. Actionbase's server starts with readiness `DOWN` and marks it
   * `UP` on `PUT /graph/health/readiness`, which its own warm-up sends once warmed (HealthController,
   * ServiceLabelEdgeControllerWarmUp). The core has nothing to warm, so it marks itself at start unless told
   * to wait for the PUT (READINESS_ON_START=false), for deployments that warm an instance up from outside.
   */
  readyOnStart?: boolean;
}

/**
 * Probes answer as Actionbase's do: a plain-text `UP` (200) or `DOWN` (503); `/graph/health` is the
 * readiness. Readiness is `UP` when it has been marked (at start, or by `PUT /graph/health/readiness`) and
 * the core itself is ready. The PUT takes no body and no token, as Actionbase's (its token filter guards
 * `/graph/v2` and `/graph/v3` only), and answers the readiness it leaves. Nothing marks an instance
 * `DOWN` again, as in Actionbase: a draining core answers `DOWN` on its own once it is stopping.
 * What lies behind the answer (CDC backlog, records set aside, requests in progress) is JSON at
 * `/graph/health/details`. Every answer is O(1): probes must stay fast under any load.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  health: Health,
  metrics?: Registry,
  inflight?: () => { requests: number; bodyBytes: number },
): void {
  let marked = health.readyOnStart ?? true;
  const isReady = () => {
    const r = health.ready();
    return { ready: marked && r.ready, details: r.details };
  };
  const answer = (reply: FastifyReply) => {
    const up = isReady().ready;
    return reply.status(up ? 200 : 503).type('text/plain; charset=utf-8').send(up ? 'UP' : 'DOWN');
  };
  app.get('/graph/health', async (_req, reply) => answer(reply));
  app.get('/graph/health/readiness', async (_req, reply) => answer(reply));
  app.put('/graph/health/readiness', async (_req, reply) => {
    marked = true;
    return answer(reply);
  });
  app.get('/graph/health/liveness', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('UP'));
  app.get('/graph/health/details', async (_req, reply) => {
    const r = isReady();
    return reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'UP' : 'DOWN', readinessMarked: marked, ...r.details, ...(inflight ? { inflight: inflight() } : {}) });
  });
  if (metrics) app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()));
}
