/**
 * Request figures on the core's /metrics: mutations applied per outcome and the latency of every API request by
 * kind, so that an operator (the console, Prometheus) sees throughput and p99 without reading logs. Recorded in
 * onResponse, after the answer left: the figures cost the request nothing it waits for.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

export type RequestKind = 'mutation' | 'query' | 'metadata' | 'other';

const MUTATION_ROUTE = /\/(edges|multi-edges)(\/sync)?$/;

/** What a matched route does; probes and /metrics are not counted (they are not the API's work). */
export function requestKind(route: string | undefined, method: string): RequestKind | undefined {
  if (route === undefined || route.startsWith('/graph/health') || route === '/metrics') return undefined;
  if (method === 'POST' && MUTATION_ROUTE.test(route)) return 'mutation';
  if (/\/(edges|multi-edges)\//.test(route)) return 'query';
  if (route.startsWith('/graph/')) return 'metadata';
  return 'other';
}

const outcome = (status: number) => (status < 400 ? 'ok' : status < 500 ? 'rejected' : 'failed');

export function registerRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const mutations = new Counter({
    name: 'actionbase_mutations_total',
    help: 'Mutations (items of mutation requests) answered, by outcome: ok (2xx), rejected (4xx, nothing applied), failed (5xx)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'actionbase_request_duration_seconds',
    help: 'From the request received to the answer sent, by kind (mutation, query, metadata) and outcome',
    labelNames: ['kind', 'outcome'] as const,
    // Single edges take milliseconds, batches of thousands up to seconds.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  for (const o of ['ok', 'rejected', 'failed']) mutations.inc({ outcome: o }, 0);
  app.addHook('onResponse', async (req: FastifyRequest, reply) => {
    const kind = requestKind(req.routeOptions.url, req.method);
    if (kind === undefined) return;
    const o = outcome(reply.statusCode);
    duration.observe({ kind, outcome: o }, reply.elapsedTime / 1000);
    if (kind === 'mutation') {
      const items = (req.body as { mutations?: unknown } | undefined)?.mutations;
      mutations.inc({ outcome: o }, Array.isArray(items) ? items.length : 1);
    }
  });
}
