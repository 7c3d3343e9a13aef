/**
 * Prometheus metrics of the runtime. Labelled by group and topic, and created once per registry, so one app can
 * run several stream consumers (WAL and CDC) on one registry and one /metrics endpoint.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Labels = { group: string; topic: string };

interface Shared {
  recordsIn: Counter<'group' | 'topic'>;
  recordsOut: Counter<'group' | 'topic'>;
  skipped: Counter<'group' | 'topic'>;
  vertexSkipped: Counter<'group' | 'topic'>;
  dlq: Counter<'group' | 'topic' | 'code'>;
  retries: Counter<'group' | 'topic'>;
  batchSeconds: Histogram<'group' | 'topic'>;
  batchRecords: Histogram<'group' | 'topic'>;
  sinkUp: Gauge<'group' | 'topic'>;
  lagSources: Set<LagSource>;
}

/** Lag of one partition: the high watermark of its latest batch minus the offset committed (or first seen). */
export interface PartitionLagSample {
  topic: string;
  partition: number;
  lag: bigint;
}

interface LagSource {
  labels: Labels;
  lag(): PartitionLagSample[];
}

const perRegistry = new WeakMap<Registry, Shared>();

function shared(registry: Registry): Shared {
  let s = perRegistry.get(registry);
  if (s) return s;
  const registers = [registry];
  const labelNames = ['group', 'topic'] as const;
  const lagSources = new Set<LagSource>();
  s = {
    recordsIn: new Counter({ name: 'stream_records_in_total', help: 'Records read from Kafka', labelNames, registers }),
    recordsOut: new Counter({ name: 'stream_records_out_total', help: 'Records the sink confirmed', labelNames, registers }),
    skipped: new Counter({ name: 'stream_records_skipped_total', help: 'System records (sys.*) and vertex records skipped and committed', labelNames, registers }),
    vertexSkipped: new Counter({ name: 'stream_vertex_records_skipped_total', help: 'Vertex records (type "v") read and skipped: no sink handles them yet', labelNames, registers }),
    dlq: new Counter({
      name: 'stream_records_dlq_total',
      help: 'Records sent to the dead-letter topic, by error code',
      labelNames: ['group', 'topic', 'code'] as const,
      registers,
    }),
    retries: new Counter({ name: 'stream_retries_total', help: 'Retries after retryable failures (sink, DLQ produce)', labelNames, registers }),
    batchSeconds: new Histogram({
      name: 'stream_batch_duration_seconds',
      help: 'From the start of a batch write to its commit (retries included)',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    batchRecords: new Histogram({
      name: 'stream_batch_records',
      help: 'Records per batch',
      labelNames,
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    sinkUp: new Gauge({ name: 'stream_sink_up', help: '1 while the sink takes writes, 0 while retrying', labelNames, registers }),
    lagSources,
  };
  new Gauge({
    name: 'stream_consumer_lag',
    help: 'High watermark of the latest batch minus the committed offset, per partition this member consumes',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers,
    collect() {
      // Recomputed per scrape from what the batches said (no broker request); reset so revoked partitions vanish.
      this.reset();
      for (const src of lagSources) {
        for (const p of src.lag()) this.set({ group: src.labels.group, topic: p.topic, partition: String(p.partition) }, Number(p.lag));
      }
    },
  });
  perRegistry.set(registry, s);
  return s;
}

/** The metrics of one stream consumer (one group on one topic). */
export class StreamMetrics {
  private readonly s: Shared;
  private readonly labels: Labels;
  private lagSource: LagSource | undefined;

  constructor(registry: Registry, labels: Labels) {
    this.s = shared(registry);
    this.labels = labels;
    this.s.sinkUp.set(labels, 1);
  }

  recordsIn(n: number): void {
    if (n) this.s.recordsIn.inc(this.labels, n);
  }
  recordsOut(n: number): void {
    if (n) this.s.recordsOut.inc(this.labels, n);
  }
  skipped(n: number): void {
    if (n) this.s.skipped.inc(this.labels, n);
  }
  vertexSkipped(): void {
    this.s.vertexSkipped.inc(this.labels);
  }
  deadLettered(code: string): void {
    this.s.dlq.inc({ ...this.labels, code });
  }
  retry(): void {
    this.s.retries.inc(this.labels);
  }
  batch(seconds: number, records: number): void {
    this.s.batchSeconds.observe(this.labels, seconds);
    this.s.batchRecords.observe(this.labels, records);
  }
  sinkUp(up: boolean): void {
    this.s.sinkUp.set(this.labels, up ? 1 : 0);
  }

  watchLag(lag: () => PartitionLagSample[]): void {
    this.unwatchLag();
    this.lagSource = { labels: this.labels, lag };
    this.s.lagSources.add(this.lagSource);
  }
  unwatchLag(): void {
    if (this.lagSource) this.s.lagSources.delete(this.lagSource);
    this.lagSource = undefined;
  }
}
