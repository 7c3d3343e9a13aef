import { randomUUID } from 'node:crypto';
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
    private readonly brokers: string[],
    private readonly clientId: string,
    private readonly topic: string,
    private readonly opts: KafkaCdcOutletOptions = { maxPartitionBytes: 768 * 1024, tailRecords: 64 },
  ) {}

  async open(): Promise<CdcSession> {
    const admin = await this.kafka.admin();
    let partitions: number;
    try {
      partitions = (await admin.endOffsets(this.topic)).size;
    } finally {
      await admin.close();
    }
    if (partitions === 0) throw new Error(`CDC topic ${this.topic} has no partitions (does it exist?)`);
    // Loaded only when used, as the rest of the Kafka client (the log-only mode needs none).
    const { partitionForKey } = await import('@pipeline/kafka');
    const producer = await this.kafka.producer();
    return new KafkaCdcSession(producer, partitionForKey, this.brokers, this.clientId, this.topic, partitions, this.opts);
  }
}

class KafkaCdcSession implements CdcSession {
  private readonly header: Record<string, string>;
  constructor(
    private readonly producer: Producer,
    private readonly partitionForKey: (key: string, partitions: number) => number,
    private readonly brokers: string[],
    private readonly clientId: string,
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

  tails(): Promise<Map<number, TailRecord[]>> {
    return readTails(this.brokers, this.clientId, this.topic, this.opts.tailRecords);
  }

  async close(): Promise<void> {
    // Closing ends the client's own retries of a request that failed: nothing of this session is sent after.
    await this.producer.close();
  }
}

/**
 * The last `count` records (at most) of each partition, newest first. A fetch without a consumer group:
 * nothing is joined or committed. (The project's Kafka interface has no read at an offset; this is the
 * client's own, as topic-limits.ts does for describe-configs.) A partition that cannot be read back
 * (no leader, an offset retention just moved) gets an empty list: the relay then skips nothing there.
 */
async function readTails(brokers: string[], clientId: string, topic: string, count: number): Promise<Map<number, TailRecord[]>> {
  const { Consumer, IS_CONTROL, ListOffsetTimestamps } = await import('@platformatic/kafka');
  const client = new Consumer({
    clientId: `${clientId}-cdc-tail`,
    bootstrapBrokers: brokers,
    groupId: `cdc-tail-${randomUUID()}`, // required by the client; never joined
    connectTimeout: 5_000,
    requestTimeout: 10_000,
    retries: 2,
    retryDelay: 250,
  });
  const out = new Map<number, TailRecord[]>();
  try {
    const md = await client.metadata({ topics: [topic], forceUpdate: true });
    const t = md.topics.get(topic);
    if (!t) throw new Error(`CDC topic ${topic} does not exist`);
    const [earliest, latest] = await Promise.all(
      [ListOffsetTimestamps.EARLIEST, ListOffsetTimestamps.LATEST].map((timestamp) => client.listOffsets({ topics: [topic], timestamp })),
    );
    for (let p = 0; p < t.partitionsCount; p++) {
      out.set(p, []);
      const first = earliest?.get(topic)?.[p] ?? 0n;
      const end = latest?.get(topic)?.[p] ?? 0n;
      const leader = t.partitions[p]?.leader ?? -1;
      if (end <= first || leader < 0) continue;
      const from = end - BigInt(count) > first ? end - BigInt(count) : first;
      let res;
      try {
        res = await client.fetch({
          node: leader,
          maxWaitTime: 0,
          minBytes: 1,
          maxBytes: 64 * 1_048_576,
          topics: [{ topicId: t.id, partitions: [{ partition: p, fetchOffset: from, partitionMaxBytes: 32 * 1_048_576, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        });
      } catch {
        continue;
      }
      const list: TailRecord[] = [];
      for (const tr of res.responses) {
        for (const pr of tr.partitions) {
          for (const batch of pr.records ?? []) {
            if (batch.attributes & IS_CONTROL) continue;
            for (const r of batch.records) {
              const offset = batch.firstOffset + BigInt(r.offsetDelta);
              if (offset < from || !r.value) continue;
              let routedWith: number | undefined;
              for (const [hk, hv] of r.headers) if (hk?.toString() === CDC_PARTITIONS_HEADER && hv) routedWith = Number(hv.toString());
              list.push({ partition: p, offset, key: r.key ? r.key.toString() : null, value: r.value, ...(routedWith !== undefined ? { routedWith } : {}) });
            }
          }
        }
      }
      list.sort((a, b) => (a.offset < b.offset ? 1 : a.offset > b.offset ? -1 : 0));
      out.set(p, list);
    }
    return out;
  } finally {
    await client.close().catch(() => undefined);
  }
}
