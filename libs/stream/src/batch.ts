import type { ConsumedMessage } from '@pipeline/kafka';
import type { DeadLetterInfo } from './dlq';
import type { BatchLimits, DecodedRecord } from './types';

/**
 * One consumed message on its way through a batch. System records and undecodable ones travel in the batch
 * too, in offset order with the rest: the batch's commit covers them, and never runs ahead of a data record
 * still waiting before them in the same partition.
 */
export type Entry<R> = (
  | { type: 'record'; msg: ConsumedMessage; bytes: number; decoded: DecodedRecord<R> }
  | { type: 'skip'; msg: ConsumedMessage; bytes: number }
  | { type: 'poison'; msg: ConsumedMessage; bytes: number; info: DeadLetterInfo }
) & {
  /** The partition's revocation epoch when the entry was read (the pipeline commits only entries of the current one). */
  epoch?: number;
};

export const messageBytes = (msg: ConsumedMessage): number => (msg.key?.length ?? 0) + (msg.value?.length ?? 0);

/** The records waiting for the next write, bounded by count and bytes (the time bound is the caller's timer). */
export class Accumulator<R> {
  private entries: Entry<R>[] = [];
  private bytes = 0;

  constructor(private readonly limits: Pick<BatchLimits, 'maxRecords' | 'maxBytes'>) {
    if (!(limits.maxRecords >= 1)) throw new RangeError(`batch.maxRecords must be at least 1, got ${limits.maxRecords}`);
    if (!(limits.maxBytes >= 1)) throw new RangeError(`batch.maxBytes must be at least 1, got ${limits.maxBytes}`);
  }

  get size(): number {
    return this.entries.length;
  }

  get byteSize(): number {
    return this.bytes;
  }

  isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Adding `entry` would break a bound: write what is here first. An empty batch takes any one entry, however large. */
  wouldOverflow(entry: Pick<Entry<R>, 'bytes'>): boolean {
    if (this.entries.length === 0) return false;
    return this.entries.length >= this.limits.maxRecords || this.bytes + entry.bytes > this.limits.maxBytes;
  }

  /** No further entry can join (count reached, or bytes reached): write now rather than wait for the timer. */
  isFull(): boolean {
    return this.entries.length >= this.limits.maxRecords || this.bytes >= this.limits.maxBytes;
  }

  push(entry: Entry<R>): void {
    this.entries.push(entry);
    this.bytes += entry.bytes;
  }

  /** Keeps the first `count` entries (a prefix, so per partition what stays is what came first). */
  truncate(count: number): void {
    if (count >= this.entries.length) return;
    for (let i = count; i < this.entries.length; i++) this.bytes -= this.entries[i]!.bytes;
    this.entries.length = count;
  }

  take(): Entry<R>[] {
    const out = this.entries;
    this.entries = [];
    this.bytes = 0;
    return out;
  }
}

/** Next offset to read per partition after a batch: one past the highest offset the batch holds. */
export function commitOffsets(entries: readonly Entry<unknown>[]): Map<string, { topic: string; partition: number; offset: bigint }> {
  const out = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const e of entries) {
    const k = `${e.msg.topic}\u0000${e.msg.partition}`;
    const next = e.msg.offset + 1n;
    const cur = out.get(k);
    if (!cur || next > cur.offset) out.set(k, { topic: e.msg.topic, partition: e.msg.partition, offset: next });
  }
  return out;
}
