/**
 * The HTTP API: health, the supervisor's health, the spec this instance applies, and the dashboard queries.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { z } from 'zod';
import { likesPerTargetPerMinute, netChangePerTable, runQuery, topTargetsLastHour } from './dashboard.queries';
import { DruidApiError, type DruidClient } from '@pipeline/druid';
import { supervisorHealth } from './supervisor.apply';
import type { SupervisorSpec } from './supervisor.spec-builder';

export function buildHttp(opts: { druid: DruidClient; spec: SupervisorSpec; dataSource: string }): FastifyInstance {
  const app = Fastify({ logger: false });
  // Druid's own answer (e.g. 400 "Object not found" before the first row) passes through with its status.
  app.setErrorHandler((err, _req, reply) => {
    const status = err instanceof DruidApiError ? (err.status && err.status < 500 ? err.status : 502) : 500;
    return reply.code(status).send({ status, code: err instanceof DruidApiError ? err.code : 'INTERNAL', message: (err as Error).message });
  });
  const { druid, dataSource } = opts;
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/supervisor', async (_req, reply) => {
    try {
      return await supervisorHealth(druid, dataSource);
    } catch (err) {
      return reply.code(503).send({ status: 503, code: 'DRUID_UNAVAILABLE', message: (err as Error).message });
    }
  });
  app.get('/spec', async () => opts.spec);
  const Table = z.object({ table: z.string().min(1) });
  const bad = (reply: FastifyReply, err: z.ZodError) => reply.code(400).send({ status: 400, code: 'BAD_REQUEST', message: err.issues[0]?.message, field: err.issues[0]?.path.join('.') });
  app.get('/queries/likes-per-minute', async (req, reply) => {
    const q = Table.extend({ sinceMinutes: z.coerce.number().int().positive().default(60) }).safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    return runQuery(druid, likesPerTargetPerMinute(dataSource, q.data.table, Date.now() - q.data.sinceMinutes * 60_000));
  });
  app.get('/queries/top-targets', async (req, reply) => {
    const q = Table.extend({ limit: z.coerce.number().int().positive().max(1000).default(10) }).safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    return runQuery(druid, topTargetsLastHour(dataSource, q.data.table, q.data.limit, Date.now()));
  });
  app.get('/queries/net-change-per-table', async () => runQuery(druid, netChangePerTable(dataSource)));
  return app;
}
