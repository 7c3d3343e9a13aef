/**
 * Helpers for integration tests against a real broker (see tools/stack: ensureKafka()).
 * Import from '@pipeline/kafka/testing'; not for production code.
 */
import { randomUUID } from 'node:crypto';
import { createKafka } from './client';
import type { ConsumedMessage } from './types';

/** A topic name no other test uses: `<prefix>-<time>-<random>` (only [a-zA-Z0-9._-]). */
export function uniqueTopic(prefix = 'test'): string {
  const clean = prefix.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${clean}-${Date.now().toString(36)}-${randomUUID().slice(0, 8)}`;
}

export interface ReadAllOptions {
  /** Resolve once this many messages were read (from the start of every partition). */
  count?: number;
  /** Give up after this long: with `count`, reject; without, resolve with what was read. Default 10 s. */
  timeoutMs?: number;
}

/**
 * Reads a topic from the beginning without a consumer group (nothing is committed, no group is left
 * behind). With `count`, reads on (new end offsets each round) until that many messages arrived; without,
 * reads up to the end offsets as of the call. Messages are ordered by partition, then offset.
 */
export async function readAll(bootstrap: string, topic: string, opts: ReadAllOptions = {}): Promise<ConsumedMessage[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'pipeline-testing-readall', requestTimeoutMs: 10_000 });
  const out: ConsumedMessage[] = [];
  const positions = new Map<number, bigint>();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    for (;;) {
      for await (const batch of kafka.readRange({ topic, from: { offsets: positions }, signal })) {
        out.push(...batch.messages);
        positions.set(batch.partition, batch.next);
        if (opts.count !== undefined && out.length >= opts.count) break;
      }
      if (opts.count === undefined || out.length >= opts.count) break;
      if (Date.now() > deadline) throw new Error(`readAll(${topic}): ${out.length} of ${opts.count} messages after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (err) {
    if (!signal.aborted) throw err;
    if (opts.count !== undefined) throw new Error(`readAll(${topic}): ${out.length} of ${opts.count} messages after ${timeoutMs} ms`, { cause: err });
  }
  return out.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
}

/** Polls until cond() is true; rejects after timeoutMs with `what` in the message. */
export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
