import { describe, it, expect, afterAll } from '@jest/globals';
import pino from 'pino';
import { Registry } from 'prom-client';
import { startHealthServer, type HealthReport, type HealthServer } from './http';
import { StreamMetrics } from './metrics';

let server: HealthServer | undefined;
afterAll(() => server?.close());

describe('health and metrics endpoints', () => {
  it('liveness, readiness (with the reasons) and Prometheus metrics', async () => {
    const registry = new Registry();
    const metrics = new StreamMetrics(registry, { group: 'g', topic: 'wal' });
    metrics.recordsIn(3);
    metrics.deadLettered('MALFORMED_JSON');
    metrics.batch(0.02, 5);
    metrics.watchLag(() => [{ topic: 'wal', partition: 2, lag: 42n }]);
    let report: HealthReport = { live: true, ready: false, reasons: ['sink not ready'], state: 'running' };
    server = await startHealthServer({ port: 0, host: '127.0.0.1', registry, health: () => report, logger: pino({ level: 'silent' }) });
    const url = `http://127.0.0.1:${server.port}`;

    expect((await fetch(`${url}/health/liveness`)).status).toBe(200);
    const notReady = await fetch(`${url}/health/readiness`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'DOWN', state: 'running', reasons: ['sink not ready'] });
    report = { live: true, ready: true, reasons: [], state: 'running' };
    expect((await fetch(`${url}/health/readiness`)).status).toBe(200);
    report = { live: false, ready: false, reasons: ['consumer is failed'], state: 'failed' };
    expect((await fetch(`${url}/health/liveness`)).status).toBe(503);

    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('stream_records_in_total{group="g",topic="wal"} 3');
    expect(text).toContain('stream_records_dlq_total{group="g",topic="wal",code="MALFORMED_JSON"} 1');
    expect(text).toContain('stream_consumer_lag{group="g",topic="wal",partition="2"} 42');
    expect(text).toContain('stream_batch_duration_seconds_bucket{le="0.025",group="g",topic="wal"} 1');
    expect((await fetch(`${url}/nope`)).status).toBe(404);
  });

  it('two consumers can share one registry', () => {
    const registry = new Registry();
    const a = new StreamMetrics(registry, { group: 'g', topic: 'wal' });
    const b = new StreamMetrics(registry, { group: 'g', topic: 'cdc' });
    a.recordsOut(1);
    b.recordsOut(2);
    return registry.getSingleMetricAsString('stream_records_out_total').then((text) => {
      expect(text).toContain('topic="wal"} 1');
      expect(text).toContain('topic="cdc"} 2');
    });
  });
});
