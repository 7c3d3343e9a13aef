import { describe, expect, it } from '@jest/globals';
import { bucketsOf, parsePrometheusText, quantileBetween, sumOf } from './prom-text';

const TEXT = `# HELP stream_records_in_total Records read from Kafka
# TYPE stream_records_in_total counter
stream_records_in_total{group="es-indexer.wal",topic="actionbase.wal"} 120
stream_records_in_total{group="es-indexer.cdc",topic="actionbase.cdc"} 80
stream_records_dlq_total{group="g",topic="t",code="MALFORMED \\"JSON\\""} 2
process_start_time_seconds 1700000000
req_bucket{kind="mutation",le="0.01"} 50
req_bucket{kind="mutation",le="0.1"} 90
req_bucket{kind="mutation",le="+Inf"} 100
req_bucket{kind="query",le="0.01"} 7
req_bucket{kind="query",le="+Inf"} 7
`;

describe('Prometheus text format', () => {
  const samples = parsePrometheusText(TEXT);

  it('reads names, labels (escaped quotes included) and values, skipping comments', () => {
    expect(samples).toHaveLength(9);
    expect(samples[2]).toEqual({ name: 'stream_records_dlq_total', labels: { group: 'g', topic: 't', code: 'MALFORMED "JSON"' }, value: 2 });
    expect(samples[3]).toEqual({ name: 'process_start_time_seconds', labels: {}, value: 1700000000 });
  });

  it('sums a name over the samples matching some labels', () => {
    expect(sumOf(samples, 'stream_records_in_total')).toBe(200);
    expect(sumOf(samples, 'stream_records_in_total', { group: 'es-indexer.cdc' })).toBe(80);
    expect(sumOf(samples, 'absent_total')).toBeUndefined();
  });

  it('takes a quantile of the observations between two readings, as histogram_quantile', () => {
    const now = bucketsOf(samples, 'req', { kind: 'mutation' });
    expect([...now]).toEqual([[0.01, 50], [0.1, 90], [Infinity, 100]]);
    // 100 observations: the 50th falls at the top of the first bucket, the 70th halfway through the second.
    expect(quantileBetween(0.5, undefined, now)).toBeCloseTo(0.01);
    expect(quantileBetween(0.7, undefined, now)).toBeCloseTo(0.055);
    // In the +Inf bucket: the highest finite bound.
    expect(quantileBetween(0.99, undefined, now)).toBe(0.1);
    // Between two readings only the new observations count: 10 more, all under 10 ms.
    const later = new Map([[0.01, 60], [0.1, 100], [Infinity, 110]]);
    expect(quantileBetween(0.99, now, later)).toBeCloseTo(0.0099, 4);
    expect(quantileBetween(0.99, now, now)).toBeUndefined();
    // A restart (counters went down) gives no figure rather than a wrong one.
    expect(quantileBetween(0.99, later, now)).toBeUndefined();
  });
});
