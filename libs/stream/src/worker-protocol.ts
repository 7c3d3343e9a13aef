/** Messages between worker-consumer.ts (main thread) and fetch-worker.ts (the consumer's thread). */
import type { ConsumedMessage, PartitionBatch, PartitionLag, RebalanceEvent, TopicPartition } from '@pipeline/kafka';

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

/** The worker side: one partition batch into one buffer plus typed arrays, all of them to transfer. */
export function packBatch(batch: PartitionBatch, id: number): { packed: PackedBatch; transfer: ArrayBuffer[] } {
  const n = batch.messages.length;
  let size = 0;
  for (const m of batch.messages) size += (m.key?.length ?? 0) + (m.value?.length ?? 0);
  const data = new Uint8Array(size);
  const offsets = new BigInt64Array(n);
  const timestamps = new Float64Array(n);
  const keyLens = new Int32Array(n);
  const valueLens = new Int32Array(n);
  let headers: PackedBatch['headers'];
  let at = 0;
  for (let i = 0; i < n; i++) {
    const m = batch.messages[i]!;
    offsets[i] = m.offset;
    timestamps[i] = m.timestamp;
    if (m.key === null) keyLens[i] = -1;
    else {
      data.set(m.key, at);
      at += keyLens[i] = m.key.length;
    }
    if (m.value === null) valueLens[i] = -1;
    else {
      data.set(m.value, at);
      at += valueLens[i] = m.value.length;
    }
    for (const name in m.headers) {
      headers ??= new Array(n);
      (headers[i] ??= []).push([name, new Uint8Array(m.headers[name]!)]);
    }
  }
  const packed: PackedBatch = { type: 'batch', id, topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, data: data.buffer, offsets, timestamps, keyLens, valueLens, headers };
  return { packed, transfer: [data.buffer, offsets.buffer as ArrayBuffer, timestamps.buffer as ArrayBuffer, keyLens.buffer as ArrayBuffer, valueLens.buffer as ArrayBuffer] };
}

/** The main thread side: the messages again, their keys and values views of the one transferred buffer. */
export function unpackBatch(p: PackedBatch): PartitionBatch {
  const messages: ConsumedMessage[] = new Array(p.offsets.length);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const kl = p.keyLens[i]!;
    const key = kl < 0 ? null : Buffer.from(p.data, at, kl);
    if (kl > 0) at += kl;
    const vl = p.valueLens[i]!;
    const value = vl < 0 ? null : Buffer.from(p.data, at, vl);
    if (vl > 0) at += vl;
    const headers: Record<string, Buffer> = {};
    const hs = p.headers?.[i];
    if (hs) for (const [name, v] of hs) headers[name] = Buffer.from(v.buffer, v.byteOffset, v.length);
    messages[i] = { topic: p.topic, partition: p.partition, offset: p.offsets[i]!, key, value, headers, timestamp: p.timestamps[i]! };
  }
  return { topic: p.topic, partition: p.partition, messages, highWatermark: p.highWatermark };
}
