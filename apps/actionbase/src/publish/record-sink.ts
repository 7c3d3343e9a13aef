import type { Writable } from 'node:stream';
import type { Producer } from '@pipeline/kafka';
import { yieldToEventLoop } from '../engine/limits';

export interface KeyedRecord {
  key: string;
  /** The encoded (JSON) record. */
  value: string;
}

/** Where WAL and CDC records go: Kafka, or the log when no Kafka is configured (as Actionbase does). */
export interface RecordSink {
  readonly kind: 'kafka' | 'log';
  /** Resolves once durably accepted (Kafka: acknowledged by all in-sync replicas). */
  publishWal(records: KeyedRecord[]): Promise<void>;
  publishCdc(records: KeyedRecord[]): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  records: KeyedRecord[];
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
}

/**
 * Group commit to Kafka (the WAL, and the heartbeats on both topics; the CDC relay has a producer of its
 * own, see cdc-outlet.ts): one produce request in flight at a time; records that arrive meanwhile (from
 * concurrent HTTP requests) go together in the next request, and each caller is answered when the
 * request carrying its records is acknowledged.
 *
 * One request in flight keeps the idempotent producer's sequence numbers in order per partition:
 * concurrent sends from one producer made the broker answer OUT_OF_ORDER_SEQUENCE_NUMBER under load
 * (bench/core-mutations.ts), and batching recovers the throughput that serial sends would lose.
 *
 * After a failed send the next request goes out under a new producer id (@pipeline/kafka's producers renew
 * themselves, RenewingProducer): otherwise a later request reusing the numbers and record count of one the
 * broker appended after the failure would be acknowledged and dropped, an acknowledged WAL record lost.
 */
export class KafkaRecordSink implements RecordSink {
  readonly kind = 'kafka';
  private readonly pending = new Map<string, Pending>();
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly producer: Producer,
    private readonly topics: { wal: string; cdc: string },
    /**
     * Bytes per produce request. The broker refuses a partition batch over message.max.bytes
     * (1 MiB by default): one request of 5,000 WAL records was refused as a whole. The client encodes a
     * request in one synchronous stretch of the event loop (records to buffers, batch, checksum), so
     * smaller requests keep the probes' wait short (bench/README.md, health under load).
     */
    private readonly maxRequestBytes = 256 * 1024,
  ) {}

  publishWal(records: KeyedRecord[]): Promise<void> {
    return this.enqueue(this.topics.wal, records);
  }
  publishCdc(records: KeyedRecord[]): Promise<void> {
    return this.enqueue(this.topics.cdc, records);
  }

  private enqueue(topic: string, records: KeyedRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let p = this.pending.get(topic);
      if (!p) this.pending.set(topic, (p = { records: [], waiters: [] }));
      for (const r of records) p.records.push(r);
      p.waiters.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const [topic, p] = this.pending.entries().next().value as [string, Pending];
        this.pending.delete(topic);
        try {
          for (const chunk of chunksOf(p.records, this.maxRequestBytes)) {
            // Each request is encoded in a turn of the event loop of its own, never in the same turn as
            // a slice of a batch (see yieldToEventLoop).
            await yieldToEventLoop();
            await this.producer.send(topic, chunk);
          }
          p.waiters.forEach((w) => w.resolve());
        } catch (err) {
          p.waiters.forEach((w) => w.reject(err));
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.producer.close();
  }
}

function* chunksOf(records: KeyedRecord[], maxBytes: number): Generator<KeyedRecord[]> {
  let chunk: KeyedRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = Buffer.byteLength(r.key) + Buffer.byteLength(r.value) + 64; // plus record overhead, roughly
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(r);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

/** One JSON line per record: `{"topic":"wal","key":"a:b","record":{...}}`. */
export class LogRecordSink implements RecordSink {
  readonly kind = 'log';
  constructor(private readonly out: Writable) {}
  private write(topic: string, records: KeyedRecord[]): Promise<void> {
    let chunk = '';
    for (const r of records) chunk += `{"topic":"${topic}","key":${JSON.stringify(r.key)},"record":${r.value}}\n`;
    return new Promise((resolve, reject) => this.out.write(chunk, (err) => (err ? reject(err) : resolve())));
  }
  publishWal(records: KeyedRecord[]): Promise<void> {
    return this.write('wal', records);
  }
  publishCdc(records: KeyedRecord[]): Promise<void> {
    return this.write('cdc', records);
  }
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.out.write('', () => resolve()));
  }
}
