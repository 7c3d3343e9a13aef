/**
 * Storage of queue/v1 (docs/api.md, "Queues"): queue definitions and their messages, in the same
 * database as the edges (SQLite file or PostgreSQL), so that they survive restarts and every core
 * instance sharing a PostgreSQL database sees the same queues and messages.
 *
 * A message row is keyed by (queue tablespace, partition, seq, id): a poll is one range read of that
 * key, a commit one bounded range delete. The tablespace is a number the catalog never hands out twice,
 * so a queue created again under a deleted one's name starts empty.
 */

export interface QueueDef {
  namespace: string;
  name: string;
  /** Storage tablespace of the messages (meta_counter 'table', shared with edge tables). */
  qid: number;
  partitions: number;
  storage: string;
  active: boolean;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

/** A 64-bit `seq`: a JS number within ±(2^53-1), a bigint beyond. */
export type Seq = number | bigint;

export interface QueueMessage {
  partition: number;
  /** Server-assigned ULID. */
  id: string;
  seq: Seq;
  /** The message's value as JSON text (`null` as the text `null`). */
  value: string;
}

export interface QueueStore {
  getQueue(namespace: string, name: string): Promise<QueueDef | undefined>;
  /** The queues of a namespace (a database), in name order. */
  listQueues(namespace: string): Promise<QueueDef[]>;
  /** Inserts a new queue; false when one of that name exists (nothing written). */
  createQueue(def: QueueDef): Promise<boolean>;
  updateQueue(def: QueueDef): Promise<void>;
  /** Removes the definition; its messages are queued for the background purge (purge_queue). */
  deleteQueue(def: QueueDef): Promise<void>;
  enqueue(qid: number, messages: QueueMessage[]): Promise<void>;
  /** Messages of one partition with `after < seq <= until`, in (seq, id) order, at most `limit`. */
  poll(qid: number, partition: number, after: Seq | null, until: Seq | null, limit: number): Promise<QueueMessage[]>;
  /**
   * Deletes the messages of one partition with `seq <= upto`, all or none: when more than `cap` match,
   * nothing is deleted and the answer is null (the caller refuses the request).
   */
  commit(qid: number, partition: number, upto: Seq, cap: number): Promise<number | null>;
}

/** A 64-bit integer read back as text (both stores hand out `seq` as text, so no precision is lost). */
export function seqOf(text: string | bigint | number): Seq {
  const b = BigInt(text);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}
