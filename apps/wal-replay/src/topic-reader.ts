/**
 * Reads a bounded range of a topic with the project's Kafka consumer (libs/kafka): from a start offset or a
 * start time per partition up to end offsets fixed before reading, then stops. The state file is the only
 * checkpoint: each run joins a group of its own (nothing committed, so the group vanishes with it), reads
 * from the start of the log and skips what lies below the checkpoint's positions. Skipping is cheap next
 * to applying; a seek by offset or time would spare the read, and libs/kafka's consumer has none.
 */
import type { Logger } from 'pino';
import type { ConsumedMessage, KafkaClient } from '@pipeline/kafka';

export interface TopicRange {
  topic: string;
  groupId: string;
  /** First offset to hand out per partition (absent: the start of the log). */
  from: Map<number, bigint>;
  /** Exclusive end offset per partition; partitions absent here are not read. */
  ends: Map<number, bigint>;
  /**
   * Start time (Kafka record timestamp, ms): a partition is read from its first record at or after it, as
   * Kafka's offsets-for-times does. Partitions in `timeReached` are past that point already (a resume).
   */
  fromTime?: number;
  timeReached?: Set<number>;
}

export type BatchHandler = (partition: number, messages: ConsumedMessage[], next: bigint, timeReached: boolean) => Promise<void>;

export async function readRange(kafka: KafkaClient, range: TopicRange, onBatch: BatchHandler, logger: Logger): Promise<void> {
  const pending = new Set<number>();
  for (const [p, end] of range.ends) if ((range.from.get(p) ?? 0n) < end) pending.add(p);
  if (pending.size === 0) return;
  const reached = new Set(range.timeReached ?? []);

  const consumer = await kafka.consumer({ groupId: range.groupId, topics: [range.topic], fromBeginning: true, maxWaitMs: 200 });
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  const running = consumer.run(async (batch) => {
    const p = batch.partition;
    if (!pending.has(p)) return;
    const from = range.from.get(p) ?? 0n;
    const end = range.ends.get(p)!;
    const picked: ConsumedMessage[] = [];
    let last = -1n;
    for (const m of batch.messages) {
      last = m.offset;
      if (m.offset < from || m.offset >= end) continue;
      if (range.fromTime !== undefined && !reached.has(p)) {
        if (m.timestamp < range.fromTime) continue;
        reached.add(p);
      }
      picked.push(m);
    }
    if (last < 0n) return;
    const next = last + 1n < end ? last + 1n : end;
    await onBatch(p, picked, next, reached.has(p));
    if (next >= end) {
      pending.delete(p);
      logger.debug({ partition: p }, 'partition read to its end offset');
      if (pending.size === 0) finish();
    }
  });
  try {
    await Promise.race([allDone, running]);
    if (pending.size > 0) throw new Error(`consumer of ${range.topic} stopped before partitions ${[...pending].join(',')} reached their end offsets`);
  } finally {
    await consumer.close();
    await running;
  }
}
