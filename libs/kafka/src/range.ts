/**
 * Bounded reads of a topic without a consumer group: from offsets or a time, up to end offsets fixed at the
 * start (or given), then done. Nothing is committed and no group is left behind, so a replay, an export or a
 * check neither disturbs nor depends on a consumer group; the caller keeps its own position (each batch says
 * where the partition stands).
 *
 * Memory stays bounded: one fetch per broker at a time, at most maxBytesPerPartition per partition, and the
 * next fetch is made only when the caller asks for the next batch (async iteration).
 */
import { randomUUID } from 'node:crypto';
import { Consumer as PltConsumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { backoffDelay, sleep } from '@pipeline/errors';
import { baseOptions, guarded, TRANSIENT_BACKOFF, type ResolvedConfig } from './config';
import { isUnavailability, toKafkaError } from './errors';
import { messagesOf, OFFSET_OUT_OF_RANGE, type FetchResponseLike } from './records';
import type { RangeBatch, ReadRangeOptions } from './types';

/** Offsets of the partitions at a timestamp (LATEST, EARLIEST or a time): partition -> offset (-1: none at that time). */
async function listOffsets(client: PltConsumer, topic: string, partitions: number[], timestamp: bigint): Promise<Map<number, bigint>> {
  const res = await client.listOffsets({ topics: [topic], partitions: { [topic]: partitions }, timestamp });
  const list = res.get(topic) ?? [];
  return new Map(partitions.map((p) => [p, list[p] ?? -1n]));
}

export async function* readRange(cfg: ResolvedConfig, opts: ReadRangeOptions): AsyncGenerator<RangeBatch, void, undefined> {
  const { topic, signal } = opts;
  const maxWaitMs = opts.maxWaitMs ?? 200;
  const maxBytes = opts.maxBytesPerPartition ?? 1_048_576;
  const client = new PltConsumer({
    ...baseOptions(cfg, 'range-reader'),
    // Required by the client; this reader never joins a group.
    groupId: `range-reader-${randomUUID()}`,
    // A fetch long-polls up to maxWaitMs on the broker before it answers.
    requestTimeout: cfg.requestTimeoutMs + maxWaitMs,
  });
  try {
    const md = await guarded(cfg, `metadata of ${topic}`, () => client.metadata({ topics: [topic], forceUpdate: true }));
    const tm = md.topics.get(topic);
    if (!tm) throw new Error(`topic ${topic} does not exist`);
    const all = Array.from({ length: tm.partitionsCount }, (_, p) => p);
    const partitions = opts.to ? [...opts.to.keys()].filter((p) => p < tm.partitionsCount).sort((a, b) => a - b) : all;
    if (opts.to) {
      const unknown = [...opts.to.keys()].filter((p) => p >= tm.partitionsCount);
      if (unknown.length) throw new RangeError(`topic ${topic} has ${tm.partitionsCount} partitions; no partition ${unknown.join(', ')}`);
    }
    if (!partitions.length) return;
    const ends = opts.to ?? (await guarded(cfg, `end offsets of ${topic}`, () => listOffsets(client, topic, partitions, ListOffsetTimestamps.LATEST)));
    const earliest = await guarded(cfg, `start offsets of ${topic}`, () => listOffsets(client, topic, partitions, ListOffsetTimestamps.EARLIEST));
    const positions = new Map<number, bigint>();
    const from = opts.from;
    const atTime = from && 'time' in from ? await guarded(cfg, `offsets of ${topic} at ${new Date(from.time).toISOString()}`, () => listOffsets(client, topic, partitions, BigInt(from.time))) : undefined;
    for (const p of partitions) {
      const end = ends.get(p)!;
      const start = earliest.get(p)!;
      // -1 from ListOffsets by time: no record that recent, so nothing of this partition is in the range.
      const wanted = atTime ? (atTime.get(p)! < 0n ? end : atTime.get(p)!) : from && 'offsets' in from ? (from.offsets.get(p) ?? start) : start;
      positions.set(p, wanted < start ? start : wanted);
    }
    const pending = new Set(partitions.filter((p) => positions.get(p)! < ends.get(p)!));
    let failures = 0;
    const retryLater = async (err: unknown, operation: string) => {
      if (!isUnavailability(err)) throw toKafkaError(err, operation, cfg.brokers);
      client.clearMetadata();
      failures++;
      await sleep(backoffDelay(failures, TRANSIENT_BACKOFF), signal);
    };

    while (pending.size) {
      signal?.throwIfAborted();
      let meta;
      try {
        meta = await client.metadata({ topics: [topic] });
      } catch (err) {
        await retryLater(err, `metadata of ${topic}`);
        continue;
      }
      const t = meta.topics.get(topic);
      if (!t) throw new Error(`topic ${topic} was deleted while it was read`);
      const byLeader = new Map<number, number[]>();
      for (const p of pending) {
        const leader = t.partitions[p]?.leader ?? -1;
        if (leader >= 0) byLeader.set(leader, [...(byLeader.get(leader) ?? []), p]);
      }
      if (!byLeader.size) {
        await retryLater(Object.assign(new Error(`no leader for partitions ${[...pending].join(',')} of ${topic}`), { code: 'KAFKA_UNAVAILABLE' }), `read ${topic}`);
        continue;
      }
      for (const [node, parts] of byLeader) {
        let res: FetchResponseLike;
        try {
          res = await client.fetch({
            node,
            maxWaitTime: maxWaitMs,
            minBytes: 1,
            topics: [
              {
                topicId: t.id,
                partitions: parts.map((partition) => ({ partition, fetchOffset: positions.get(partition)!, partitionMaxBytes: maxBytes, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })),
              },
            ],
          });
        } catch (err) {
          // A partition-level error rejects the whole fetch with the parsed response attached: use it per partition.
          const response = (err as { response?: FetchResponseLike }).response;
          if (!response || !Array.isArray(response.responses) || response.errorCode) {
            await retryLater(err, `fetch ${topic} from broker ${node}`);
            break;
          }
          res = response;
        }
        let stale = false;
        for (const tr of res.responses) {
          for (const pr of tr.partitions) {
            const p = pr.partitionIndex;
            const pos = positions.get(p);
            if (pos === undefined || !pending.has(p)) continue;
            if (pr.errorCode === OFFSET_OUT_OF_RANGE) {
              // Below the log start: retention deleted those records since the start offsets were taken.
              const [start] = (await guarded(cfg, `start offsets of ${topic}`, () => listOffsets(client, topic, [p], ListOffsetTimestamps.EARLIEST))).values();
              if (start !== undefined && start > pos) positions.set(p, start);
              else stale = true;
              continue;
            }
            if (pr.errorCode !== 0) {
              stale = true;
              continue;
            }
            const end = ends.get(p)!;
            const { messages, next } = messagesOf(topic, pr, pos, end);
            if (next === pos && !messages.length) continue;
            positions.set(p, next);
            if (next >= end) pending.delete(p);
            failures = 0;
            yield { topic, partition: p, messages, next, end };
          }
        }
        if (stale) {
          // A moved leader or a partition not ready: new metadata, then a pause so a lasting error does not spin.
          await retryLater(Object.assign(new Error(`partition errors fetching ${topic}`), { code: 'KAFKA_UNAVAILABLE' }), `fetch ${topic}`);
          break;
        }
      }
    }
  } finally {
    await client.close().catch(() => undefined);
  }
}
