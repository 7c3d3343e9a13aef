import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { WalRecord } from '@pipeline/events';
import { KafkaUnavailableError, type ConsumedMessage, type OutgoingMessage, type PartitionBatch } from '@pipeline/kafka';
import { DLQ_HEADERS } from './dlq';
import { SinkError } from './errors';
import { StreamMetrics } from './metrics';
import { Pipeline } from './pipeline';
import { itemOf, keyOf, walHeartbeat, walValue } from './spec-helpers';
import type { BatchLimits, DecodedRecord, RetryPolicy, Sink, SinkResult } from './types';

const TOPIC = 'wal';
const silent = pino({ level: 'silent' });

function message(partition: number, offset: number, value: string | Buffer | null, key: string | null = keyOf(offset)): ConsumedMessage {
  return {
    topic: TOPIC,
    partition,
    offset: BigInt(offset),
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    headers: { origin: Buffer.from('test') },
    timestamp: 1_000 + offset,
  };
}

function batchOf(partition: number, offsets: number[], value: (n: number) => string | Buffer | null = (n) => walValue(n)): PartitionBatch {
  const messages = offsets.map((o) => message(partition, o, value(o)));
  return { topic: TOPIC, partition, messages, highWatermark: BigInt((offsets[offsets.length - 1] ?? 0) + 1) };
}

type Write = (batch: DecodedRecord<WalRecord>[]) => Promise<SinkResult<WalRecord> | void>;

/** A sink that records every call; its behaviour can change mid-test. */
class RecordingSink implements Sink<WalRecord> {
  calls: DecodedRecord<WalRecord>[][] = [];
  written: DecodedRecord<WalRecord>[] = [];
  behaviour: Write | undefined;
  async write(batch: DecodedRecord<WalRecord>[]): Promise<SinkResult<WalRecord> | void> {
    this.calls.push(batch);
    const r = this.behaviour ? await this.behaviour(batch) : undefined;
    const failed = new Set((r?.failed ?? []).map((f) => f.record.offset));
    this.written.push(...batch.filter((d) => !failed.has(d.offset)));
    return r;
  }
  items(): number[] {
    return this.written.map((d) => itemOf(d.record));
  }
}

function harness(opts: { batch?: Partial<BatchLimits>; retry?: Partial<RetryPolicy>; sink?: RecordingSink } = {}) {
  const sink = opts.sink ?? new RecordingSink();
  const commits: { partition: number; offset: bigint }[][] = [];
  const dlq: OutgoingMessage[] = [];
  const events: string[] = [];
  let producerDown = false;
  let fatal: unknown;
  const registry = new Registry();
  const pipeline = new Pipeline<WalRecord>({
    groupId: 'g',
    topic: TOPIC,
    kind: 'wal',
    sink,
    batch: { maxRecords: 100, maxBytes: 1_000_000, maxWaitMs: 10, ...opts.batch },
    retry: { baseMs: 1, maxMs: 5, ...opts.retry },
    dlqTopic: 'g.dlq',
    consumer: {
      commit: async (offsets) => {
        commits.push(offsets.map((o) => ({ partition: o.partition, offset: o.offset })));
        events.push(`commit ${offsets.map((o) => `${o.partition}@${o.offset}`).join(',')}`);
      },
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
    },
    producer: {
      send: async (topic, messages) => {
        if (producerDown) throw new KafkaUnavailableError(`send to ${topic}`, ['x'], new Error('down'));
        expect(topic).toBe('g.dlq');
        dlq.push(...messages);
      },
    },
    logger: silent,
    metrics: new StreamMetrics(registry, { group: 'g', topic: TOPIC }),
    onFatal: (err) => (fatal = err),
  });
  const committed = (partition: number) => {
    let max: bigint | undefined;
    for (const c of commits) for (const o of c) if (o.partition === partition && (max === undefined || o.offset > max)) max = o.offset;
    return max;
  };
  return {
    pipeline,
    sink,
    commits,
    committed,
    dlq,
    events,
    registry,
    setProducerDown: (down: boolean) => (producerDown = down),
    fatal: () => fatal,
  };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('batching', () => {
  it('hands the sink batches of at most maxRecords, in offset order, and commits each after it was written', async () => {
    const h = harness({ batch: { maxRecords: 4, maxWaitMs: 1_000 } });
    await h.pipeline.handle(batchOf(0, range(0, 10)));
    await h.pipeline.drain();
    expect(h.sink.calls.map((c) => c.length)).toEqual([4, 4, 2]);
    expect(h.sink.items()).toEqual(range(0, 10));
    expect(h.commits.map((c) => c[0]!.offset)).toEqual([4n, 8n, 10n]);
  });

  it('hands the sink batches of at most maxBytes', async () => {
    const size = Buffer.byteLength(walValue(0)) + keyOf(0).length;
    const h = harness({ batch: { maxBytes: size * 3 + 5, maxWaitMs: 1_000 } });
    await h.pipeline.handle(batchOf(0, range(0, 7)));
    await h.pipeline.drain();
    expect(h.sink.calls.map((c) => c.length)).toEqual([3, 3, 1]);
    for (const call of h.sink.calls) expect(call.reduce((n, d) => n + d.value.length + (d.key?.length ?? 0), 0)).toBeLessThanOrEqual(size * 3 + 5);
  });

  it('waits up to maxWaitMs for more records, then writes what it has (across partitions)', async () => {
    const h = harness({ batch: { maxRecords: 100, maxWaitMs: 150 } });
    const started = Date.now();
    await h.pipeline.handle(batchOf(0, [0, 1]));
    await h.pipeline.handle(batchOf(1, [0, 1, 2]));
    expect(h.sink.calls).toHaveLength(0); // not full: the batch waits for the timer
    await waitFor('the timed write', () => h.sink.calls.length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    expect(h.sink.calls[0]!.map((d) => `${d.partition}@${d.offset}`)).toEqual(['0@0', '0@1', '1@0', '1@1', '1@2']);
    await waitFor('the commit', () => h.commits.length === 1);
    expect(h.commits[0]!.sort((a, b) => a.partition - b.partition)).toEqual([
      { partition: 0, offset: 2n },
      { partition: 1, offset: 3n },
    ]);
  });

  it('commits nothing while the sink has not confirmed the batch', async () => {
    let release!: () => void;
    const h = harness({ batch: { maxRecords: 3 } });
    h.sink.behaviour = () => new Promise<void>((r) => (release = r));
    const handled = h.pipeline.handle(batchOf(0, [0, 1, 2]));
    await waitFor('the write to start', () => h.sink.calls.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.commits).toEqual([]);
    release();
    await handled;
    expect(h.committed(0)).toBe(3n);
  });

  it('decodes native v3 and Actionbase v2 records alike, with their coordinates and raw bytes', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [0, 1, 2, 3], (n) => walValue(n, n % 2 ? 'v2' : 'v3')));
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 1, 2, 3]);
    const d = h.sink.written[1]!;
    expect(d).toMatchObject({ kind: 'wal', topic: TOPIC, partition: 0, offset: 1n, key: keyOf(1), timestamp: 1_001 });
    expect(d.value.toString()).toBe(walValue(1, 'v2'));
    expect(d.headers.origin!.toString()).toBe('test');
    expect(d.record.context.database).toBe('shop');
  });
});

describe('system records', () => {
  it('are not written but are committed past', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [0, 1, 2, 3], (n) => (n === 1 || n === 3 ? walHeartbeat(n) : walValue(n))));
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 2]);
    expect(h.committed(0)).toBe(4n);
  });

  it('a batch of only heartbeats commits without calling the sink', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [0, 1], walHeartbeat));
    await h.pipeline.drain();
    expect(h.sink.calls).toHaveLength(0);
    expect(h.committed(0)).toBe(2n);
    expect(await h.registry.getSingleMetricAsString('stream_records_skipped_total')).toContain('stream_records_skipped_total{group="g",topic="wal"} 2');
  });

  it('vertex records are skipped and counted, never dead-lettered', async () => {
    const h = harness();
    const vertex = readFileSync(new URL('../../events/samples/v3-actionbase/wal-vertex.json', import.meta.url), 'utf8');
    await h.pipeline.handle(batchOf(0, [0, 1, 2], (n) => (n === 1 ? vertex : walValue(n))));
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 2]);
    expect(h.committed(0)).toBe(3n);
    expect(await h.registry.getSingleMetricAsString('stream_vertex_records_skipped_total')).toContain('{group="g",topic="wal"} 1');
    expect(await h.registry.getSingleMetricAsString('stream_records_dlq_total')).not.toMatch(/} [1-9]/);
  });
});

describe('dead letters', () => {
  it('an undecodable record goes to the DLQ with its error; the records after it are written and committed', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [0, 1, 2, 3], (n) => (n === 1 ? '{"version":"3", this is not json' : n === 2 ? null : walValue(n))));
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 3]);
    expect(h.dlq.map((m) => [m.headers![DLQ_HEADERS.sourceOffset], m.headers![DLQ_HEADERS.errorCode], m.headers![DLQ_HEADERS.stage]])).toEqual([
      ['1', 'MALFORMED_JSON', 'decode'],
      ['2', 'EMPTY_VALUE', 'decode'],
    ]);
    expect(h.dlq[0]!.value.toString()).toBe('{"version":"3", this is not json');
    expect(h.dlq[0]!.key).toBe(keyOf(1));
    expect(h.dlq[0]!.headers!.origin).toBe('test');
    expect(h.committed(0)).toBe(4n);
  });

  it('records valid JSON but not a WAL record are dead-lettered with the decoder code', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [0, 1], (n) => (n === 0 ? '{"version":"9"}' : JSON.stringify({ version: '3', type: 'e' }))));
    await h.pipeline.drain();
    expect(h.dlq.map((m) => m.headers![DLQ_HEADERS.errorCode])).toEqual(['UNKNOWN_VERSION', 'INVALID_RECORD']);
  });

  it('records the sink names as failed go to the DLQ; the rest of the batch is committed', async () => {
    const h = harness();
    h.sink.behaviour = async (batch) => ({
      failed: batch.filter((d) => d.offset === 2n).map((record) => ({ record, error: new SinkError('DOCUMENT_REJECTED', 'mapping conflict on created_at', { retryable: false }) })),
    });
    await h.pipeline.handle(batchOf(0, range(0, 5)));
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 1, 3, 4]);
    expect(h.dlq).toHaveLength(1);
    expect(h.dlq[0]!.headers).toMatchObject({ [DLQ_HEADERS.errorCode]: 'DOCUMENT_REJECTED', [DLQ_HEADERS.stage]: 'sink', [DLQ_HEADERS.sourceOffset]: '2' });
    expect(h.dlq[0]!.value.toString()).toBe(walValue(2));
    expect(h.committed(0)).toBe(5n);
  });

  it('a non-retryable error for a whole batch is narrowed down to the record at fault', async () => {
    const h = harness();
    h.sink.behaviour = async (batch) => {
      if (batch.some((d) => d.offset === 5n)) throw new SinkError('DOCUMENT_REJECTED', 'bad document', { retryable: false });
    };
    await h.pipeline.handle(batchOf(0, range(0, 8)));
    await h.pipeline.drain();
    expect(h.sink.items().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(h.dlq.map((m) => m.headers![DLQ_HEADERS.sourceOffset])).toEqual(['5']);
    expect(h.committed(0)).toBe(8n);
  });

  it('a DLQ that is unreachable pauses the stream and nothing is committed until the dead letter is out', async () => {
    const h = harness();
    h.setProducerDown(true);
    const handled = h.pipeline.handle(batchOf(0, [0, 1], (n) => (n === 0 ? 'garbage' : walValue(n))));
    await waitFor('the pause', () => h.events.includes('pause'));
    await new Promise((r) => setTimeout(r, 30));
    expect(h.commits).toEqual([]);
    h.setProducerDown(false);
    await handled;
    await h.pipeline.drain();
    expect(h.dlq).toHaveLength(1);
    expect(h.committed(0)).toBe(2n);
    expect(h.events.filter((e) => e === 'pause' || e === 'resume')).toEqual(['pause', 'resume']);
  });
});

describe('retries', () => {
  it('retryable sink errors pause consumption, commit nothing, and everything is written once the sink is back', async () => {
    const h = harness({ batch: { maxRecords: 3 } });
    let down = true;
    h.sink.behaviour = async () => {
      if (down) throw new SinkError('SINK_UNAVAILABLE', 'connection refused', { retryable: true });
    };
    const handled = h.pipeline.handle(batchOf(0, range(0, 6)));
    await waitFor('a few retries', () => h.sink.calls.length >= 5);
    expect(h.commits).toEqual([]);
    expect(h.pipeline.healthy).toBe(false);
    expect(h.events).toEqual(['pause']);
    down = false;
    await handled;
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual(range(0, 6));
    expect(h.committed(0)).toBe(6n);
    expect(h.pipeline.healthy).toBe(true);
    expect(h.events.slice(0, 2)).toEqual(['pause', 'resume']);
    expect(await h.registry.getSingleMetricAsString('stream_retries_total')).toMatch(/stream_retries_total\{group="g",topic="wal"\} [4-9]\d*/);
  });

  it('an error that does not say whether it is retryable is retried', async () => {
    const h = harness();
    let failures = 2;
    h.sink.behaviour = async () => {
      if (failures-- > 0) throw new Error('ECONNRESET');
    };
    await h.pipeline.handle(batchOf(0, [0, 1]));
    await h.pipeline.drain();
    expect(h.sink.calls).toHaveLength(3);
    expect(h.dlq).toEqual([]);
    expect(h.committed(0)).toBe(2n);
  });

  it('gives up after maxAttempts with RETRIES_EXHAUSTED, committing nothing', async () => {
    const h = harness({ retry: { maxAttempts: 3 } });
    h.sink.behaviour = async () => {
      throw new SinkError('SINK_UNAVAILABLE', 'down', { retryable: true });
    };
    await h.pipeline.handle(batchOf(0, [0, 1]));
    await expect(h.pipeline.drain()).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED' });
    expect(h.sink.calls).toHaveLength(3);
    expect(h.commits).toEqual([]);
    expect(h.fatal()).toMatchObject({ code: 'RETRIES_EXHAUSTED' });
    await expect(h.pipeline.handle(batchOf(0, [2]))).rejects.toMatchObject({ code: 'RETRIES_EXHAUSTED' });
  });

  it('abortRetries() ends a retry wait at once (shutdown with the sink down)', async () => {
    const h = harness({ retry: { baseMs: 60_000, maxMs: 60_000 } });
    h.sink.behaviour = async () => {
      throw new SinkError('SINK_UNAVAILABLE', 'down', { retryable: true });
    };
    void h.pipeline.handle(batchOf(0, [0])).catch(() => undefined);
    await waitFor('the first failure', () => h.sink.calls.length === 1);
    h.pipeline.abortRetries();
    await expect(h.pipeline.drain()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(h.commits).toEqual([]);
  });
});

describe('backpressure, drain and rebalance', () => {
  it('a handler waits while the batch is full, so the fetch loop cannot run ahead of the sink', async () => {
    let release!: () => void;
    const h = harness({ batch: { maxRecords: 2 } });
    h.sink.behaviour = (batch) => (batch[0]!.offset === 0n ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    let done = false;
    const handled = h.pipeline.handle(batchOf(0, range(0, 6))).then(() => (done = true));
    await waitFor('the first write', () => h.sink.calls.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    release();
    await handled;
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual(range(0, 6));
  });

  it('drain() writes and commits everything handed out, including a batch still in its handler', async () => {
    const h = harness({ batch: { maxRecords: 1000, maxWaitMs: 60_000 } });
    await h.pipeline.handle(batchOf(0, [0, 1, 2]));
    await h.pipeline.handle(batchOf(1, [0]));
    expect(h.sink.calls).toHaveLength(0);
    await h.pipeline.drain();
    expect(h.sink.items()).toEqual([0, 1, 2, 0]);
    expect(h.committed(0)).toBe(3n);
    expect(h.committed(1)).toBe(1n);
  });

  it('after stopAccepting() a handler adds nothing more of its fetch; the commit covers only what was written', async () => {
    let release!: () => void;
    const h = harness({ batch: { maxRecords: 2 } });
    h.sink.behaviour = (batch) => (batch[0]!.offset === 0n ? new Promise<void>((r) => (release = r)) : Promise.resolve());
    const handled = h.pipeline.handle(batchOf(0, range(0, 10)));
    await waitFor('the first write', () => h.sink.calls.length === 1);
    h.pipeline.stopAccepting();
    const drained = h.pipeline.drain();
    release();
    await handled;
    await drained;
    // The handler was waiting for room behind the first batch; it adds nothing more of its fetch.
    expect(h.sink.items()).toEqual([0, 1]);
    expect(h.committed(0)).toBe(2n);
  });

  it('records waiting for a revoked partition are dropped and never committed by this member', async () => {
    const h = harness({ batch: { maxRecords: 1000, maxWaitMs: 60_000 } });
    await h.pipeline.handle(batchOf(0, [0, 1]));
    await h.pipeline.handle(batchOf(1, [0, 1]));
    h.pipeline.revoke([{ topic: TOPIC, partition: 1 }]);
    await h.pipeline.drain();
    expect(h.sink.written.map((d) => `${d.partition}@${d.offset}`)).toEqual(['0@0', '0@1']);
    expect(h.committed(0)).toBe(2n);
    expect(h.committed(1)).toBeUndefined();
  });

  it('never moves a commit backwards', async () => {
    const h = harness();
    await h.pipeline.handle(batchOf(0, [5, 6]));
    await h.pipeline.drain();
    await h.pipeline.handle(batchOf(0, [3, 4])); // a redelivery of older records
    await h.pipeline.drain();
    expect(h.commits.flat().map((o) => o.offset)).toEqual([7n]);
  });

  it('reports lag from the batches\' high watermark and the commits', async () => {
    const h = harness();
    await h.pipeline.handle({ ...batchOf(0, [0, 1]), highWatermark: 10n });
    expect(h.pipeline.lag()).toEqual([{ topic: TOPIC, partition: 0, lag: 10n }]);
    await h.pipeline.drain();
    expect(h.pipeline.lag()).toEqual([{ topic: TOPIC, partition: 0, lag: 8n }]);
  });
});
