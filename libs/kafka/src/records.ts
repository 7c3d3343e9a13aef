/** Fetch responses as the client parses them, and the messages we hand out of them (group consumer and range reader). */
import { IS_CONTROL } from '@platformatic/kafka';
import type { ConsumedMessage } from './types';

export interface RecordBatchLike {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  firstTimestamp: bigint;
  records: { offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: [Buffer | null, Buffer | null][] }[];
}

export interface FetchPartitionLike {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  records?: RecordBatchLike[];
}

export interface FetchResponseLike {
  errorCode: number;
  responses: { topicId: string; partitions: FetchPartitionLike[] }[];
}

export interface FetchRequestTopic {
  topicId: string;
  partitions: { partition: number; fetchOffset: bigint; partitionMaxBytes: number; currentLeaderEpoch: number; lastFetchedEpoch: number }[];
}

export const OFFSET_OUT_OF_RANGE = 1;

/**
 * The data messages of a partition's record batches in [from, end), and the offset to fetch next. A fetch
 * starts at the record batch holding `from`, so records below it come back and are dropped here; control
 * records (transaction markers) take offsets but are no messages. `next` is never past `end`.
 */
export function messagesOf(topic: string, pr: FetchPartitionLike, from: bigint, end?: bigint): { messages: ConsumedMessage[]; next: bigint } {
  const messages: ConsumedMessage[] = [];
  let next = from;
  for (const batch of pr.records ?? []) {
    const batchEnd = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (!(batch.attributes & IS_CONTROL)) {
      for (const r of batch.records) {
        const offset = batch.firstOffset + BigInt(r.offsetDelta);
        if (offset < from || (end !== undefined && offset >= end)) continue;
        const headers: Record<string, Buffer> = {};
        for (const [hk, hv] of r.headers) if (hk) headers[hk.toString()] = hv ?? Buffer.alloc(0);
        messages.push({ topic, partition: pr.partitionIndex, offset, key: r.key, value: r.value, headers, timestamp: Number(batch.firstTimestamp + r.timestampDelta) });
      }
    }
    if (batchEnd > next) next = batchEnd;
  }
  if (end !== undefined && next > end) next = end;
  return { messages, next };
}
