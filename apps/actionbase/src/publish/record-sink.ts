import type { Writable } from 'node:stream';
import type { Producer } from '@pipeline/kafka';

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

/** One topic's queue: records waiting for the next produce request, and the request in flight. */
interface Lane {
  pending: Pending | null;
  flushing: Promise<void> | null;
}

/**
 * Group commit to Kafka, one lane per topic: each lane has one produce request in flight at a time;
 * records that arrive meanwhile (from concurrent HTTP requests, or the CDC relay) go together in the
 * lane's next request, and each caller is answered when the request carrying its records is
 * acknowledged.
 *
 * One request in flight per topic keeps the idempotent producer's sequence numbers in order per
 * partition: the client advances a partition's sequence only when a request is answered, so two
 * requests to the same partition at once made the broker answer OUT_OF_ORDER_SEQUENCE_NUMBER under load
 * (bench/core-mutations.ts). The WAL and the CDC topics have separate partitions, hence separate
 * sequences: their lanes run side by side, so a CDC batch is sent without waiting for the WAL request in
 * flight to be answered. Both lanes still share the producer's connection, on which the broker takes
 * one request at a time; a producer of its own would give the CDC lane its own connection.
 */
export class KafkaRecordSink implements RecordSink {
  readonly kind = 'kafka';
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly producer: Producer,
    private readonly topics: { wal: string; cdc: string },
    /**
     * Bytes per produce request. The broker refuses a partition batch over message.max.bytes
     * (1 MiB by default): one request of 5,000 WAL records was refused as a whole.
     */
    private readonly maxRequestBytes = 768 * 1024,
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
      let lane = this.lanes.get(topic);
      if (!lane) this.lanes.set(topic, (lane = { pending: null, flushing: null }));
      const p = (lane.pending ??= { records: [], waiters: [] });
      for (const r of records) p.records.push(r);
      p.waiters.push({ resolve, reject });
      lane.flushing ??= this.flush(topic, lane);
    });
  }

  private async flush(topic: string, lane: Lane): Promise<void> {
    try {
      while (lane.pending) {
        const p = lane.pending;
        lane.pending = null;
        try {
          for (const chunk of chunksOf(p.records, this.maxRequestBytes)) await this.producer.send(topic, chunk);
          p.waiters.forEach((w) => w.resolve());
        } catch (err) {
          p.waiters.forEach((w) => w.reject(err));
        }
      }
    } finally {
      lane.flushing = null;
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((l) => l.flushing));
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
