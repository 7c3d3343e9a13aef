/**
 * Dead letters: the original message, byte for byte (key, value, headers), plus headers saying what failed and
 * where the record came from. The value is left untouched (no JSON envelope) so a redrive can produce it back to
 * the source topic as it was, and the DLQ can hold values that are not JSON at all (that may be why they are here).
 */
import type { ConsumedMessage, OutgoingMessage } from '@pipeline/kafka';
import type { StreamKind } from './types';

export const DLQ_HEADERS = {
  errorCode: 'dlq.error.code',
  errorMessage: 'dlq.error.message',
  /** `decode` (the bytes are not a record of the stream's kind) or `sink` (the sink rejected the record). */
  stage: 'dlq.error.stage',
  sourceTopic: 'dlq.source.topic',
  sourcePartition: 'dlq.source.partition',
  sourceOffset: 'dlq.source.offset',
  sourceTimestamp: 'dlq.source.timestamp',
  /** Set when the original key was not valid UTF-8: the key bytes in base64 (the DLQ message then has no key). */
  sourceKeyBase64: 'dlq.source.key.base64',
  /** Set to "true" when the original value was null (the DLQ message carries an empty value). */
  sourceValueNull: 'dlq.source.value.null',
  group: 'dlq.consumer.group',
  kind: 'dlq.record.kind',
  failedAt: 'dlq.failed.at',
} as const;

export type DeadLetterStage = 'decode' | 'sink';

export interface DeadLetterInfo {
  code: string;
  message: string;
  stage: DeadLetterStage;
}

/** Header values are read by people and tools; a stack-sized message would only bloat the DLQ. */
const MAX_MESSAGE_CHARS = 2_000;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function utf8OrUndefined(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function deadLetterMessage(
  msg: ConsumedMessage,
  info: DeadLetterInfo,
  ctx: { groupId: string; kind: StreamKind; now?: Date },
): OutgoingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(msg.headers)) {
    // Our own headers from an earlier dead-lettering (a redriven record failing again) are replaced below.
    if (!name.startsWith('dlq.')) headers[name] = value.toString('utf8');
  }
  const message = info.message.length > MAX_MESSAGE_CHARS ? `${info.message.slice(0, MAX_MESSAGE_CHARS - 3)}...` : info.message;
  Object.assign(headers, {
    [DLQ_HEADERS.errorCode]: info.code,
    [DLQ_HEADERS.errorMessage]: message,
    [DLQ_HEADERS.stage]: info.stage,
    [DLQ_HEADERS.sourceTopic]: msg.topic,
    [DLQ_HEADERS.sourcePartition]: String(msg.partition),
    [DLQ_HEADERS.sourceOffset]: msg.offset.toString(),
    [DLQ_HEADERS.sourceTimestamp]: String(msg.timestamp),
    [DLQ_HEADERS.group]: ctx.groupId,
    [DLQ_HEADERS.kind]: ctx.kind,
    [DLQ_HEADERS.failedAt]: (ctx.now ?? new Date()).toISOString(),
  });
  // Our producer takes string keys; a key that does not survive UTF-8 travels in a header instead of being mangled.
  let key: string | null = null;
  if (msg.key !== null) {
    const text = utf8OrUndefined(msg.key);
    if (text !== undefined) key = text;
    else headers[DLQ_HEADERS.sourceKeyBase64] = msg.key.toString('base64');
  }
  if (msg.value === null) headers[DLQ_HEADERS.sourceValueNull] = 'true';
  return { key, value: msg.value ?? Buffer.alloc(0), headers };
}

/** A dead letter read back: what a redrive job or a person triaging the DLQ needs. */
export interface DeadLetter {
  code: string;
  message: string;
  stage: string;
  source: { topic: string; partition: number; offset: bigint; timestamp: number };
  groupId: string;
  kind: string;
  failedAt: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The original headers (without ours). */
  headers: Record<string, Buffer>;
}

/** Parses a message of a DLQ topic; undefined when it lacks our headers (not a dead letter of this runtime). */
export function readDeadLetter(msg: ConsumedMessage): DeadLetter | undefined {
  const h = (name: string) => msg.headers[name]?.toString('utf8');
  const code = h(DLQ_HEADERS.errorCode);
  const topic = h(DLQ_HEADERS.sourceTopic);
  const partition = h(DLQ_HEADERS.sourcePartition);
  const offset = h(DLQ_HEADERS.sourceOffset);
  if (code === undefined || topic === undefined || partition === undefined || offset === undefined) return undefined;
  const keyB64 = h(DLQ_HEADERS.sourceKeyBase64);
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(msg.headers)) if (!name.startsWith('dlq.')) headers[name] = value;
  return {
    code,
    message: h(DLQ_HEADERS.errorMessage) ?? '',
    stage: h(DLQ_HEADERS.stage) ?? '',
    source: { topic, partition: Number(partition), offset: BigInt(offset), timestamp: Number(h(DLQ_HEADERS.sourceTimestamp) ?? 0) },
    groupId: h(DLQ_HEADERS.group) ?? '',
    kind: h(DLQ_HEADERS.kind) ?? '',
    failedAt: h(DLQ_HEADERS.failedAt) ?? '',
    key: keyB64 !== undefined ? Buffer.from(keyB64, 'base64') : msg.key,
    value: h(DLQ_HEADERS.sourceValueNull) === 'true' ? null : msg.value,
    headers,
  };
}
