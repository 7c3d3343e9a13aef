/**
 * Helpers for integration tests against a real broker (see tools/stack: ensureKafka()).
 * Import from '@pipeline/kafka/testing'; not for production code.
 */
import { randomUUID } from 'node:crypto';
import { Consumer as PltConsumer, IS_CONTROL, ListOffsetTimestamps } from '@platformatic/kafka';
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
 * behind). With `count`, stops as soon as that many messages arrived; without, reads up to the end
 * offsets as of the call. Messages are ordered by partition, then offset.
 */
export async function readAll(bootstrap: string, topic: string, opts: ReadAllOptions = {}): Promise<ConsumedMessage[]> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const client = new PltConsumer({
    clientId: 'pipeline-testing-readall',
    bootstrapBrokers: [bootstrap],
    groupId: `readall-${randomUUID()}`, // required by the client; never joined
    connectTimeout: 5_000,
    requestTimeout: 10_000,
    retries: 2,
    retryDelay: 200,
  });
  try {
    const md = await client.metadata({ topics: [topic] });
    const tm = md.topics.get(topic);
    if (!tm) throw new Error(`topic ${topic} does not exist`);
    const partitions = Array.from({ length: tm.partitionsCount }, (_, i) => i);
    const [earliest, latest] = await Promise.all(
      [ListOffsetTimestamps.EARLIEST, ListOffsetTimestamps.LATEST].map((timestamp) => client.listOffsets({ topics: [topic], timestamp })),
    );
    const positions = new Map(partitions.map((p) => [p, earliest?.get(topic)?.[p] ?? 0n]));
    const ends = new Map(partitions.map((p) => [p, latest?.get(topic)?.[p] ?? 0n]));
    const out: ConsumedMessage[] = [];
    const done = () => (opts.count !== undefined ? out.length >= opts.count : partitions.every((p) => (positions.get(p) ?? 0n) >= (ends.get(p) ?? 0n)));
    while (!done()) {
      if (Date.now() > deadline) {
        if (opts.count !== undefined) throw new Error(`readAll(${topic}): ${out.length} of ${opts.count} messages after ${timeoutMs} ms`);
        break;
      }
      const meta = await client.metadata({ topics: [topic] });
      const t = meta.topics.get(topic);
      if (!t) throw new Error(`topic ${topic} disappeared`);
      const byLeader = new Map<number, number[]>();
      for (const p of partitions) {
        const leader = t.partitions[p]?.leader ?? -1;
        if (leader >= 0) byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      for (const [node, parts] of byLeader) {
        const res = await client.fetch({
          node,
          maxWaitTime: 200,
          minBytes: 1,
          topics: [
            {
              topicId: t.id,
              partitions: parts.map((partition) => ({
                partition,
                fetchOffset: positions.get(partition) ?? 0n,
                partitionMaxBytes: 4 * 1_048_576,
                currentLeaderEpoch: -1,
                lastFetchedEpoch: -1,
              })),
            },
          ],
        });
        for (const tr of res.responses) {
          for (const pr of tr.partitions) {
            const from = positions.get(pr.partitionIndex) ?? 0n;
            let next = from;
            for (const batch of pr.records ?? []) {
              const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
              if (end > next) next = end;
              if (batch.attributes & IS_CONTROL) continue;
              for (const r of batch.records) {
                const offset = batch.firstOffset + BigInt(r.offsetDelta);
                if (offset < from) continue;
                const headers: Record<string, Buffer> = {};
                for (const [hk, hv] of r.headers) if (hk) headers[hk.toString()] = hv ?? Buffer.alloc(0);
                out.push({ topic, partition: pr.partitionIndex, offset, key: r.key, value: r.value, headers, timestamp: Number(batch.firstTimestamp + r.timestampDelta) });
              }
            }
            positions.set(pr.partitionIndex, next);
          }
        }
      }
    }
    return out.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Polls until cond() is true; rejects after timeoutMs with `what` in the message. */
export async function waitUntil(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
