/**
 * /health/liveness, /health/readiness and /metrics on node:http: three fixed routes do not need a framework,
 * and a consumer app should not carry one just for its probes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/** Loopback unless told otherwise: probes and metrics are not for every interface (set 0.0.0.0 in a container). */
export const DEFAULT_HTTP_HOST = '127.0.0.1';

export interface HealthReport {
  /** False only when the process should be restarted (the consumer failed for good). */
  live: boolean;
  ready: boolean;
  /** Why not ready (or not live), for the probe's body and for people. */
  reasons: string[];
  state: string;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => HealthReport;
  logger: Logger;
}): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, JSON.stringify({ error: 'method not allowed' }));
    if (path === '/health/liveness' || path === '/health/readiness') {
      const h = opts.health();
      const ok = path === '/health/liveness' ? h.live : h.ready;
      return send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'UP' : 'DOWN', state: h.state, reasons: h.reasons }));
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, text, opts.registry.contentType),
        (err: unknown) => {
          opts.logger.error({ err }, 'metrics collection failed');
          send(500, JSON.stringify({ error: 'metrics collection failed' }));
        },
      );
      return;
    }
    send(404, JSON.stringify({ error: 'not found' }));
  });
  // A scrape or probe connection must not hold the process open after stop().
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? DEFAULT_HTTP_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger.info({ host: opts.host ?? DEFAULT_HTTP_HOST, port }, 'health and metrics endpoints listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
