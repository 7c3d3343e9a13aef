/**
 * The commands' bounded reads on libs/kafka's readRange: from a start offset or a start time per partition
 * up to end offsets fixed before reading, then stop. The state file is the only checkpoint: no consumer
 * group is joined and nothing is committed. A start time is turned into offsets once (ListOffsets), so a
 * resume starts exactly where the checkpoint says, without reading what lies before it.
 */
import type { Logger } from 'pino';
import type { ConsumedMessage, KafkaClient } from '@pipeline/kafka';

export interface TopicRange {
  topic: string;
  /** Not used: a range read joins no consumer group. */
  groupId?: string;
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
  const ends = new Map([...range.ends].filter(([p, end]) => (range.from.get(p) ?? 0n) < end));
  if (ends.size === 0) return;
  const from = new Map(range.from);
  if (range.fromTime !== undefined) {
    const reached = range.timeReached ?? new Set<number>();
    const admin = await kafka.admin();
    let atTime: Map<number, bigint>;
    try {
      atTime = await admin.offsetsForTime(range.topic, range.fromTime);
    } finally {
      await admin.close();
    }
    for (const p of ends.keys()) {
      if (reached.has(p)) continue;
      const t = atTime.get(p);
      if (t !== undefined && t > (from.get(p) ?? 0n)) from.set(p, t);
    }
  }
  // Every start is at or past the time point now: each batch reports it reached.
  const timeReached = range.fromTime !== undefined;
  for await (const batch of kafka.readRange({ topic: range.topic, from: { offsets: from }, to: ends })) {
    await onBatch(batch.partition, batch.messages, batch.next, timeReached);
    if (batch.next >= batch.end) logger.debug({ partition: batch.partition }, 'partition read to its end offset');
  }
}
