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
  /**
   * Resolves once every message is acknowledged by all in-sync replicas (acks=all, idempotent). After a failed
   * send, the next one goes out under a new producer id (RenewingProducer says why).
   */
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
  /**
   * Per partition, the first offset whose record timestamp is at or after `timeMs` (Kafka's ListOffsets by
   * time); the end offset where no record is that recent yet.
   */
  offsetsForTime(topic: string, timeMs: number): Promise<Map<number, bigint>>;
  /** Committed offsets of a consumer group for a topic (partitions with no commit are absent). */
  committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** The members of a consumer group as the coordinator knows them now (none when the group is empty or unknown). */
  groupMembers(groupId: string): Promise<GroupMember[]>;
  close(): Promise<void>;
}

export interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
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
  /** Heartbeat period of the group membership. Default: a third of the session timeout, at most 1 s. */
  heartbeatIntervalMs?: number;
  /** How long the broker waits for members to rejoin during a rebalance. Default 30 s. */
  rebalanceTimeoutMs?: number;
  /** Longest a fetch waits on the broker for new records (long poll). Default 500 ms. */
  maxWaitMs?: number;
  /**
   * Called after each group (re)join with the partitions this member gained and lost. Batches of a revoked
   * partition that are still in the handler finish, but their commits are dropped: the new owner resumes
   * from the last committed offset (at-least-once).
   */
  onRebalance?: (event: RebalanceEvent) => void | Promise<void>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface RebalanceEvent {
  assigned: TopicPartition[];
  revoked: TopicPartition[];
  /** The whole assignment after the rebalance. */
  assignment: TopicPartition[];
  generationId: number;
}

/** Lag of one assigned partition. */
export interface PartitionLag extends TopicPartition {
  /** Next offset this member hands out (after the last batch given to the handler). */
  position: bigint | undefined;
  /** Last offset committed through commit() by this member (the next offset to read). */
  committed: bigint | undefined;
  /** End offset (high watermark) of the partition, asked from the broker by lag(). */
  highWatermark: bigint | undefined;
  /** highWatermark - committed (or - position when nothing was committed yet); undefined while unknown. */
  lag: bigint | undefined;
  paused: boolean;
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
  /** Stops fetching these partitions (all of the topic's when omitted) until resume(); the group membership stays. */
  pause(topic: string, partitions?: number[]): void;
  resume(topic: string, partitions?: number[]): void;
  /**
   * Moves an assigned partition: its next batch starts at `offset` (a batch already in the handler finishes;
   * one fetched ahead is dropped). Nothing is committed. Ignored for a partition this member does not own.
   */
  seek(topic: string, partition: number, offset: bigint): void;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Lag per assigned partition (paused ones included): one ListOffsets request to the broker. */
  lag(): Promise<PartitionLag[]>;
  /** Leaves the group and stops run() (which then resolves). */
  close(): Promise<void>;
}

export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  /**
   * Timeout of one request (and of opening a connection). A broker that does not answer fails a send with
   * KafkaUnavailableError after about (retries + 1) times this. Default 5000 ms.
   */
  requestTimeoutMs?: number;
  /** Retries of a failed request before giving up (at least 2 for the idempotent producer). Default 2. */
  retries?: number;
  /** Pause between retries. Default 250 ms. */
  retryDelayMs?: number;
}

/** Where each partition of a range starts. */
export type RangeStart =
  /** Offsets per partition; a partition absent here, or an offset below the log start, starts at the log start. */
  | { offsets: Map<number, bigint> }
  /** The first record at or after this time (Kafka record timestamp, ms), as ListOffsets finds it. */
  | { time: number };

export interface ReadRangeOptions {
  topic: string;
  /** Default: the start of every partition's log. */
  from?: RangeStart;
  /**
   * Exclusive end offset per partition; only these partitions are read. Default: every partition, up to the end
   * offsets taken when the read starts (records written after that are not read).
   */
  to?: Map<number, bigint>;
  /** Bytes one fetch may bring per partition (memory stays within this times the partitions of one broker). Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Longest one fetch waits on the broker when a partition has nothing yet (to offsets above the end). Default 200 ms. */
  maxWaitMs?: number;
  /** Stops the read: the iteration rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Records of one partition from a range read, in offset order. */
export interface RangeBatch {
  topic: string;
  partition: number;
  /** May be empty: a batch that only moves the position (transaction markers, compacted gaps). */
  messages: ConsumedMessage[];
  /** Next offset of the partition to read; `end` once it is read through. A resume starts here. */
  next: bigint;
  /** The partition's exclusive end offset of this read. */
  end: bigint;
}
