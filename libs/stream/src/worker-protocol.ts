/** Messages between worker-consumer.ts (main thread) and fetch-worker.ts (the consumer's thread). */
import type { PartitionLag, RebalanceEvent, TopicPartition } from '@pipeline/kafka';

/** An error as it crosses the thread boundary: what isKafkaUnavailable, isRetryable and errorCode look at. */
export interface WireError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  stack?: string;
}

export function errorToWire(err: unknown): WireError {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err) };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; retryable?: unknown; stack?: unknown };
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(typeof e.retryable === 'boolean' && { retryable: e.retryable }),
    ...(typeof e.stack === 'string' && { stack: e.stack }),
  };
}

export function errorFromWire(w: WireError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  if (w.stack) e.stack = w.stack;
  if (w.code !== undefined) (e as Error & { code: string }).code = w.code;
  if (w.retryable !== undefined) (e as Error & { retryable: boolean }).retryable = w.retryable;
  return e;
}

/**
 * One partition batch: every key and value back to back in `data` (key first; a length of -1 is null), the
 * rest in typed arrays. All of it is transferred, not copied, and the main thread's Buffers are views of `data`.
 */
export interface PackedBatch {
  type: 'batch';
  id: number;
  topic: string;
  partition: number;
  highWatermark: bigint;
  data: ArrayBuffer;
  offsets: BigInt64Array;
  timestamps: Float64Array;
  keyLens: Int32Array;
  valueLens: Int32Array;
  /** Per message, its headers; absent when no message of the batch has any. */
  headers: ([string, Uint8Array][] | undefined)[] | undefined;
}

export type FromWorker =
  | { type: 'joined'; assignment: TopicPartition[] }
  | { type: 'join-failed'; error: WireError }
  | PackedBatch
  | { type: 'rebalance'; id: number; event: RebalanceEvent }
  | { type: 'reply'; id: number; ok: true; value: unknown }
  | { type: 'reply'; id: number; ok: false; error: WireError }
  | { type: 'run-ended'; error?: WireError };

export type ToWorker =
  | { type: 'ack'; id: number; error?: WireError }
  | { type: 'run' }
  | { type: 'commit'; id: number; offsets: { topic: string; partition: number; offset: bigint }[] }
  | { type: 'pause'; topic: string; partitions?: number[] }
  | { type: 'resume'; topic: string; partitions?: number[] }
  | { type: 'seek'; topic: string; partition: number; offset: bigint }
  | { type: 'lag'; id: number }
  | { type: 'close'; id: number };

export type LagReply = PartitionLag[];
