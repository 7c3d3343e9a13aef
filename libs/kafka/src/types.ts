/**
 * The small Kafka interface the project codes against. The concrete client lives behind it
 * (see ./client.ts), so it can be swapped without touching the core or the consumers.
 */

export interface OutgoingMessage {
  key: string | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Explicit partition; by default the client's murmur2 partitioner on the key (Java-compatible). */
  partition?: number;
}

export interface Producer {
  /** Resolves once every message is acknowledged by all in-sync replicas (acks=all, idempotent). */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor?: number;
  /** retention.ms; -1 keeps forever. */
  retentionMs?: number;
  configs?: Record<string, string>;
}

export interface Admin {
  /** Creates the topics that do not exist; existing ones are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Latest (high-watermark) offset per partition. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** Committed offsets of a consumer group for a topic (partitions with no commit are absent). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
  timestamp: number;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts. Default: earliest. */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  maxBytesPerPartition?: number;
}

/** A batch of messages from one partition, in offset order. */
export interface PartitionBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
  /** High watermark of the partition at fetch time (for lag). */
  highWatermark: bigint;
}

export interface Consumer {
  /**
   * Fetches until close(). The handler is awaited before the next batch of that partition is handed out.
   * Offsets are never committed automatically: call commit() with the next offset to read.
   */
  run(onBatch: (batch: PartitionBatch) => Promise<void>): Promise<void>;
  commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void>;
  pause(topic: string, partitions?: number[]): void;
  resume(topic: string, partitions?: number[]): void;
  close(): Promise<void>;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
}
