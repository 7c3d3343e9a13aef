import type { FastifyInstance, FastifyRequest } from 'fastify';
import { QueueService } from '../engine/queue-service';
import type { ServerDeps } from './server';

type QueueParams = { namespace: string; queue: string; partition: string };

/** queue/v1 (docs/api.md, "Queues"): Actionbase's queue DDL and runtime endpoints. */
export function registerQueueRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const queues = new QueueService(deps.queries.store, deps.catalog);
  const base = '/queue/v1/namespaces/:namespace/queues';
  const p = (req: FastifyRequest) => req.params as QueueParams;
  const q = (req: FastifyRequest) => (req.query ?? {}) as Record<string, unknown>;

  app.post(base, async (req) => queues.create(p(req).namespace, req.body, req.actor));
  app.get(`${base}/:queue`, async (req) => queues.get(p(req).namespace, p(req).queue));
  app.put(`${base}/:queue/enable`, async (req) => queues.setActive(p(req).namespace, p(req).queue, true, req.actor));
  app.put(`${base}/:queue/disable`, async (req) => queues.setActive(p(req).namespace, p(req).queue, false, req.actor));
  app.delete(`${base}/:queue`, async (req, reply) => {
    await queues.delete(p(req).namespace, p(req).queue);
    return reply.code(204).send();
  });
  app.get(`${base}/:queue/partitions`, async (req) => queues.partitions(p(req).namespace, p(req).queue));
  app.post(`${base}/:queue/messages`, async (req) => queues.enqueue(p(req).namespace, p(req).queue, req.body));
  app.get(`${base}/:queue/partitions/:partition/poll`, async (req) => queues.poll(p(req).namespace, p(req).queue, p(req).partition, q(req)));
  app.delete(`${base}/:queue/partitions/:partition/messages`, async (req) => queues.commit(p(req).namespace, p(req).queue, p(req).partition, q(req)));
}
