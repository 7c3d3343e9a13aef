import type { KafkaClient, Producer } from '@pipeline/kafka';
import type { KeyedRecord, RecordSink } from './record-sink';

/**
 * Header the relay puts on every CDC record it sends: the topic's partition count it routed with. A record
 * found at the end of a partition proves what came before it only if the keys were routed the same way
 * then as now (see CdcRelay's `resume`).
 */
export const CDC_PARTITIONS_HEADER = 'actionbase-cdc-partitions';

/** One record read back from the end of a CDC partition. */
export interface TailRecord {
  partition: number;
  offset: bigint;
  key: string | null;
  value: Buffer;
  /** The partition count the sender routed with (the header above), when it says. */
  routedWith?: number;
}

/**
 * One relay session's connection to the CDC topic: its own idempotent producer (a producer id of its
 * own), created when the session starts and closed when it ends. A session that fails a send is ended,
 * never reused: see CdcRelay.
 */
export interface CdcSession {
  /** The topic's partition count this session routes with. */
  readonly partitions: number;
  /** The partition `key` is sent to (the same partitioner as the send). */
  partitionOf(key: string): number;
  /** The last records of every partition, newest first (an empty list where nothing can be read back). */
  tails(): Promise<Map<number, TailRecord[]>>;
  /** Resolves once every record is acknowledged (acks=all); records of one partition land in the given order. */
  send(records: KeyedRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface CdcOutlet {
  open(): Promise<CdcSession>;
}

/**
 * CDC through a RecordSink (the log sink when no Kafka is configured; tests): nothing can be read back, so
 * a new session resends what the outbox still holds.
 */
export class SinkCdcOutlet implements CdcOutlet {
  constructor(private readonly sink: RecordSink) {}
  open(): Promise<CdcSession> {
    const sink = this.sink;
    return Promise.resolve({
      partitions: 1,
      partitionOf: () => 0,
      tails: () => Promise.resolve(new Map()),
      send: (records) => sink.publishCdc(records),
      close: () => Promise.resolve(),
    });
  }
}

export interface KafkaCdcOutletOptions {
  /** Bytes of one partition's records in one produce request (below the topic's max.message.bytes). */
  maxPartitionBytes: number;
  /** How many records at the end of each partition are read back when a session starts. */
  tailRecords: number;
}

/** The CDC topic on Kafka, with a producer of its own per session (never the WAL's). */
export class KafkaCdcOutlet implements CdcOutlet {
  constructor(
    private readonly kafka: KafkaClient,
    private readonly topic: string,
    private readonly opts: KafkaCdcOutletOptions = { maxPartitionBytes: 768 * 1024, tailRecords: 64 },
  ) {}

  async open(): Promise<CdcSession> {
    const partitions = (await endOffsets(this.kafka, this.topic)).size;
    if (partitions === 0) throw new Error(`CDC topic ${this.topic} has no partitions (does it exist?)`);
    // Loaded only when used, as the rest of the Kafka client (the log-only mode needs none).
    const { partitionForKey } = await import('@pipeline/kafka');
    const producer = await this.kafka.producer();
    return new KafkaCdcSession(this.kafka, producer, partitionForKey, this.topic, partitions, this.opts);
  }
}

async function endOffsets(kafka: KafkaClient, topic: string): Promise<Map<number, bigint>> {
  const admin = await kafka.admin();
  try {
    return await admin.endOffsets(topic);
  } finally {
    await admin.close();
  }
}

/** How long a session's start waits for the end of the CDC topic; partitions not read back by then skip nothing. */
const TAIL_READ_MS = 15_000;

class KafkaCdcSession implements CdcSession {
  private readonly header: Record<string, string>;
  constructor(
    private readonly kafka: KafkaClient,
    private readonly producer: Producer,
    private readonly partitionForKey: (key: string, partitions: number) => number,
    private readonly topic: string,
    readonly partitions: number,
    private readonly opts: KafkaCdcOutletOptions,
  ) {
    this.header = { [CDC_PARTITIONS_HEADER]: String(partitions) };
  }

  partitionOf(key: string): number {
    return this.partitionForKey(key, this.partitions);
  }

  /**
   * One request at a time, each holding at most `maxPartitionBytes` per partition: the next request goes
   * out only once the previous one is acknowledged, so the producer never has two requests for a
   * partition in flight (the client numbers a partition's batches from what was acknowledged).
   */
  async send(records: KeyedRecord[]): Promise<void> {
    let chunk: { key: string; value: string; partition: number; headers: Record<string, string> }[] = [];
    const bytes = new Map<number, number>();
    for (const r of records) {
      const partition = this.partitionOf(r.key);
      const size = Buffer.byteLength(r.value) + Buffer.byteLength(r.key) + 96; // plus the record's framing and header
      const used = bytes.get(partition) ?? 0;
      if (used > 0 && used + size > this.opts.maxPartitionBytes) {
        await this.producer.send(this.topic, chunk);
        chunk = [];
        bytes.clear();
      }
      chunk.push({ key: r.key, value: r.value, partition, headers: this.header });
      bytes.set(partition, (bytes.get(partition) ?? 0) + size);
    }
    if (chunk.length > 0) await this.producer.send(this.topic, chunk);
  }

  /**
   * The last `tailRecords` records (at most) of each partition below the session's start, newest first: a
   * bounded read without a consumer group (nothing joined or committed), through the project's client and so
   * with its transport security. What a partition gives before TAIL_READ_MS (a leader missing, a broker
   * down) is all it proves: fewer records read back skip fewer rows, so at worst a record is sent twice,
   * never one left out.
   */
  async tails(): Promise<Map<number, TailRecord[]>> {
    // The ends as late as possible, once this session's producer exists: a request of the session before that
    // the broker appends after they are taken is not seen, and what it holds is sent again (see CdcRelay).
    const ends = await endOffsets(this.kafka, this.topic);
    const count = BigInt(this.opts.tailRecords);
    const from = new Map([...ends].map(([p, end]) => [p, end > count ? end - count : 0n]));
    const out = new Map<number, TailRecord[]>([...ends.keys()].map((p) => [p, []]));
    const signal = AbortSignal.timeout(TAIL_READ_MS);
    try {
      for await (const batch of this.kafka.readRange({ topic: this.topic, from: { offsets: from }, to: ends, maxWaitMs: 0, signal })) {
        const list = out.get(batch.partition)!;
        for (const m of batch.messages) {
          if (!m.value) continue;
          const routed = m.headers[CDC_PARTITIONS_HEADER];
          list.push({ partition: m.partition, offset: m.offset, key: m.key ? m.key.toString() : null, value: m.value, ...(routed ? { routedWith: Number(routed.toString()) } : {}) });
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
    for (const list of out.values()) list.sort((a, b) => (a.offset < b.offset ? 1 : a.offset > b.offset ? -1 : 0));
    return out;
  }

  async close(): Promise<void> {
    // Closing ends the client's own retries of a request that failed: nothing of this session is sent after.
    await this.producer.close();
  }
}
