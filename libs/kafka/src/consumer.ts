/**
 * The group consumer behind the Consumer interface. @platformatic/kafka keeps the group membership (join,
 * sync, heartbeats, rejoin on rebalance); the fetch loop is ours, because the library's message stream has
 * no per-partition pause, no per-partition batches and no high watermark, which the consumer runtime needs.
 *
 * - One batch per partition at a time in the handler; the partition's next batch is fetched meanwhile and
 *   handed out when the handler resolved (one batch ahead, so commits and fetches overlap).
 * - Offsets are committed only by commit(); commits of partitions this member no longer owns are dropped.
 * - pause()/resume() per partition or topic, kept across rebalances.
 * - Transient broker trouble (unreachable, no leader) is retried with a backoff; run() rejects only when the
 *   handler throws or on a non-transient error.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConnectionPool, Consumer as PltConsumer, ListOffsetTimestamps, type GroupAssignment } from '@platformatic/kafka';
import { backoffDelay, sleep } from '@pipeline/errors';
import { baseOptions, connectionSecurity, guarded, TRANSIENT_BACKOFF, type ResolvedConfig } from './config';
import { isRetriableAnswer, isUnavailability, toKafkaError } from './errors';
import { messagesOf, OFFSET_OUT_OF_RANGE, type FetchPartitionLike, type FetchRequestTopic, type FetchResponseLike } from './records';
import type { Consumer, ConsumerOptions, PartitionBatch, PartitionLag, RebalanceEvent, TopicPartition } from './types';

interface PartitionState {
  topic: string;
  partition: number;
  /** Next offset to fetch; undefined until resolved from the committed offset (or earliest/latest). */
  position: bigint | undefined;
  committed: bigint | undefined;
  highWatermark: bigint | undefined;
  /** A batch of this partition is in the handler. */
  busy: boolean;
  /** The next batch, fetched while the handler works on the previous one (at most one ahead). */
  buffered: PartitionBatch | undefined;
  /** The position was out of range: reset to earliest/latest, not to the committed offset again. */
  outOfRange: boolean;
}

const keyOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export async function createConsumer(cfg: ResolvedConfig, opts: ConsumerOptions): Promise<Consumer> {
  if (!opts.topics.length) throw new TypeError('ConsumerOptions.topics is empty');
  const consumer = new GroupConsumer(cfg, opts);
  await consumer.join();
  return consumer;
}

class GroupConsumer implements Consumer {
  private readonly c: PltConsumer;
  private readonly pool: ConnectionPool;
  private readonly states = new Map<string, PartitionState>();
  private readonly pausedTopics = new Set<string>();
  private readonly pausedPartitions = new Set<string>();
  private readonly inHandler = new AsyncLocalStorage<boolean>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly fetchesInFlight = new Map<number, Promise<void>>();
  private readonly maxWaitMs: number;
  private readonly fromBeginning: boolean;
  private generation = 0;
  private resolving = false;
  private running = false;
  private closing = false;
  private closed = false;
  private fatal: unknown;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private loopDone: Promise<void> | undefined;
  private backoffMs = 0;
  /** Transient failures since the last fetch that went through: the retry number of the backoff. */
  private failures = 0;
  private rebalanceChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly opts: ConsumerOptions,
  ) {
    const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
    const rebalanceTimeout = opts.rebalanceTimeoutMs ?? 30_000;
    this.maxWaitMs = opts.maxWaitMs ?? 500;
    this.fromBeginning = opts.fromBeginning ?? true;
    const base = baseOptions(cfg, 'consumer');
    this.c = new PltConsumer({
      ...base,
      // A JoinGroup waits on the broker until every member rejoined (up to the rebalance timeout).
      requestTimeout: Math.max(cfg.requestTimeoutMs, rebalanceTimeout + 5_000),
      groupId: opts.groupId,
      sessionTimeout,
      rebalanceTimeout,
      heartbeatInterval: opts.heartbeatIntervalMs ?? Math.min(1_000, Math.floor(sessionTimeout / 3)),
      autocommit: false,
      maxWaitTime: this.maxWaitMs,
      ...(opts.maxBytesPerPartition ? { maxBytesPerPartition: opts.maxBytesPerPartition } : {}),
    });
    // Fetches long-poll; they get their own connections so heartbeats and commits are not queued behind them.
    this.pool = new ConnectionPool(`${base.clientId}-fetch`, {
      connectTimeout: cfg.requestTimeoutMs,
      requestTimeout: this.maxWaitMs + cfg.requestTimeoutMs,
      ...connectionSecurity(cfg),
    });
    this.c.on('consumer:group:join', (payload) => this.onJoin(payload.generationId ?? 0, payload.assignments ?? []));
    // A rejoin that failed for good: run() reports it. (An 'error' event without a listener would crash the process.)
    this.c.on('error', (err: unknown) => {
      if (!this.closing) this.fail(toKafkaError(err, `group ${opts.groupId}`, cfg.brokers));
    });
    this.pool.on('error', () => undefined);
  }

  async join(): Promise<void> {
    for (const t of this.opts.topics) this.c.topics.track(t);
    const deadlineMs = this.cfg.deadlineMs + (this.opts.rebalanceTimeoutMs ?? 30_000);
    const until = Date.now() + deadlineMs;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await guarded(this.cfg, `join group ${this.opts.groupId}`, () => this.c.joinGroup({}), deadlineMs);
          break;
        } catch (err) {
          // The broker answered "not now" (a coordinator still loading): join again while the join's time lasts.
          // No answer at all fails at once, so a wrong address shows within the request timeouts.
          const delay = backoffDelay(attempt, TRANSIENT_BACKOFF);
          if (!isRetriableAnswer(err) || Date.now() + delay >= until) throw err;
          await sleep(delay);
        }
      }
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  private onJoin(generationId: number, assignments: GroupAssignment[]): void {
    const next = new Set<string>();
    const assignment: TopicPartition[] = [];
    for (const a of assignments) {
      for (const partition of a.partitions) {
        next.add(keyOf(a.topic, partition));
        assignment.push({ topic: a.topic, partition });
      }
    }
    const revoked: TopicPartition[] = [];
    for (const [key, st] of this.states) {
      if (!next.has(key)) {
        this.states.delete(key);
        revoked.push({ topic: st.topic, partition: st.partition });
      }
    }
    const assigned: TopicPartition[] = [];
    for (const tp of assignment) {
      const key = keyOf(tp.topic, tp.partition);
      if (this.states.has(key)) continue;
      this.states.set(key, { ...tp, position: undefined, committed: undefined, highWatermark: undefined, busy: false, buffered: undefined, outOfRange: false });
      assigned.push(tp);
    }
    this.generation++;
    const hook = this.opts.onRebalance;
    if (hook && (assigned.length || revoked.length)) {
      const event: RebalanceEvent = { assigned, revoked, assignment, generationId };
      this.rebalanceChain = this.rebalanceChain.then(() => Promise.resolve(hook(event)).catch((err: unknown) => this.fail(err)));
    }
    this.wake();
  }

  run(onBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    if (this.running) return Promise.reject(new Error('run() was already called on this consumer'));
    if (this.closing) return Promise.reject(new Error('the consumer is closed'));
    this.running = true;
    this.loopDone = this.loop(onBatch);
    return this.loopDone.then(async () => {
      await Promise.allSettled([...this.handlers]);
      if (this.fatal !== undefined) throw this.fatal;
    });
  }

  private async loop(onBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    while (!this.closing && this.fatal === undefined) {
      if (this.backoffMs) {
        await this.waitForWake(this.backoffMs);
        continue;
      }
      if ([...this.states.values()].some((s) => s.position === undefined) && !this.resolving) {
        await this.resolvePositions();
        continue;
      }
      for (const st of this.states.values()) {
        if (st.buffered && !st.busy && !this.isPaused(st)) this.dispatch(st, st.buffered, onBatch);
      }
      const ready = [...this.states.values()].filter((s) => s.position !== undefined && !s.buffered && !this.isPaused(s));
      if (ready.length) await this.startFetches(ready, onBatch);
      await this.waitForWake(this.maxWaitMs);
    }
    await Promise.allSettled([...this.fetchesInFlight.values()]);
  }

  /** Waits for wake() or ms; returns at once when wake() was called since the last wait (no lost wake-ups). */
  private waitForWake(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        this.woken = false;
        resolve();
      };
    });
  }

  private wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Unavailability: back off (growing up to 5 s while it lasts) and try again. Anything else stops run(). */
  private transient(err: unknown, operation: string): void {
    if (isUnavailability(err)) {
      if (this.backoffMs) return; // already waiting
      this.failures++;
      this.backoffMs = Math.max(1, backoffDelay(this.failures, TRANSIENT_BACKOFF));
      setTimeout(() => {
        this.backoffMs = 0;
        this.wake();
      }, this.backoffMs).unref();
      return;
    }
    this.fail(toKafkaError(err, operation, this.cfg.brokers));
  }

  private fail(err: unknown): void {
    if (this.fatal === undefined) this.fatal = err;
    this.wake();
  }

  private async resolvePositions(): Promise<void> {
    const generation = this.generation;
    const pending = [...this.states.values()].filter((s) => s.position === undefined);
    const byTopic = new Map<string, number[]>();
    for (const s of pending) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.partition]);
    this.resolving = true;
    try {
      const missing = new Map<string, number[]>();
      const fromCommit = pending.filter((s) => !s.outOfRange);
      const committed = fromCommit.length
        ? await this.c.listCommittedOffsets({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) })
        : new Map<string, bigint[]>();
      for (const s of pending) {
        if (s.position !== undefined) continue; // seek() while the committed offsets were asked for
        const offset = s.outOfRange ? undefined : committed.get(s.topic)?.[s.partition];
        if (offset !== undefined && offset >= 0n) {
          s.position = offset;
          s.committed = offset;
        } else {
          missing.set(s.topic, [...(missing.get(s.topic) ?? []), s.partition]);
        }
      }
      if (missing.size) await this.resetPositions(missing, generation);
    } catch (err) {
      this.transient(err, `read committed offsets of ${this.opts.groupId}`);
    } finally {
      this.resolving = false;
    }
  }

  /** Positions of partitions without a usable committed offset: earliest or latest (fromBeginning). */
  private async resetPositions(partitions: Map<string, number[]>, generation: number): Promise<void> {
    const offsets = await this.c.listOffsets({
      topics: [...partitions.keys()],
      partitions: Object.fromEntries(partitions),
      timestamp: this.fromBeginning ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
    });
    if (generation !== this.generation) return; // a rebalance came in between: resolve again
    for (const [topic, parts] of partitions) {
      for (const partition of parts) {
        const st = this.states.get(keyOf(topic, partition));
        const offset = offsets.get(topic)?.[partition];
        if (st && offset !== undefined && st.position === undefined) {
          st.position = offset;
          st.outOfRange = false;
        }
      }
    }
  }

  private async startFetches(ready: PartitionState[], onBatch: (batch: PartitionBatch) => Promise<void>): Promise<void> {
    let metadata;
    try {
      metadata = await this.c.metadata({ topics: this.opts.topics });
    } catch (err) {
      this.transient(err, 'metadata');
      return;
    }
    const byLeader = new Map<number, PartitionState[]>();
    for (const s of ready) {
      const leader = metadata.topics.get(s.topic)?.partitions[s.partition]?.leader;
      if (leader === undefined || leader < 0 || this.fetchesInFlight.has(leader)) continue;
      byLeader.set(leader, [...(byLeader.get(leader) ?? []), s]);
    }
    for (const [leader, parts] of byLeader) {
      const idToTopic = new Map<string, string>();
      const topics = new Map<string, FetchRequestTopic>();
      const requested = new Map<string, { state: PartitionState; offset: bigint }>();
      for (const s of parts) {
        const topicId = metadata.topics.get(s.topic)?.id;
        const offset = s.position;
        if (topicId === undefined || offset === undefined) continue;
        idToTopic.set(topicId, s.topic);
        let t = topics.get(topicId);
        if (!t) topics.set(topicId, (t = { topicId, partitions: [] }));
        t.partitions.push({
          partition: s.partition,
          fetchOffset: offset,
          partitionMaxBytes: this.opts.maxBytesPerPartition ?? 1_048_576,
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
        });
        requested.set(keyOf(s.topic, s.partition), { state: s, offset });
      }
      if (!topics.size) continue;
      const fetch = this.c
        .fetch({ node: leader, topics: [...topics.values()], maxWaitTime: this.maxWaitMs, minBytes: 1, connectionPool: this.pool })
        .then(
          (response) => this.onFetchResponse(response, idToTopic, requested, onBatch),
          (err: unknown) => {
            if (this.closing) return;
            // A partition-level error (e.g. OFFSET_OUT_OF_RANGE, NOT_LEADER_OR_FOLLOWER) rejects the whole
            // fetch in the client, with the parsed response attached: handle it partition by partition.
            const response = (err as { response?: FetchResponseLike }).response;
            if (response && Array.isArray(response.responses) && !response.errorCode) {
              this.onFetchResponse(response, idToTopic, requested, onBatch);
            } else {
              this.transient(err, `fetch from broker ${leader}`);
            }
          },
        )
        .finally(() => {
          this.fetchesInFlight.delete(leader);
          this.wake();
        });
      this.fetchesInFlight.set(leader, fetch);
    }
  }

  private onFetchResponse(
    response: FetchResponseLike,
    idToTopic: Map<string, string>,
    requested: Map<string, { state: PartitionState; offset: bigint }>,
    onBatch: (batch: PartitionBatch) => Promise<void>,
  ): void {
    this.failures = 0;
    for (const tr of response.responses) {
      const topic = idToTopic.get(tr.topicId);
      if (topic === undefined) continue;
      for (const pr of tr.partitions) this.onPartitionData(topic, pr, requested, onBatch);
    }
  }

  private onPartitionData(
    topic: string,
    pr: FetchPartitionLike,
    requested: Map<string, { state: PartitionState; offset: bigint }>,
    onBatch: (batch: PartitionBatch) => Promise<void>,
  ): void {
    const key = keyOf(topic, pr.partitionIndex);
    const req = requested.get(key);
    const st = this.states.get(key);
    // Revoked, reassigned (a new state object) or moved since the request: drop the data.
    if (!req || st !== req.state || st.position !== req.offset || this.closing) return;
    if (pr.errorCode === OFFSET_OUT_OF_RANGE) {
      // E.g. the committed offset was deleted by retention: start again at earliest/latest (fromBeginning).
      st.position = undefined;
      st.outOfRange = true;
      return;
    }
    if (pr.errorCode !== 0) {
      this.c.clearMetadata();
      return;
    }
    st.highWatermark = pr.highWatermark;
    if (this.isPaused(st)) return; // paused while the fetch was in flight: fetch it again after resume()
    const { messages, next } = messagesOf(topic, pr, req.offset);
    st.position = next;
    if (!messages.length) return;
    const batch: PartitionBatch = { topic, partition: pr.partitionIndex, messages, highWatermark: pr.highWatermark };
    if (st.busy) st.buffered = batch;
    else this.dispatch(st, batch, onBatch);
  }

  /**
   * Hands a batch to the handler; the partition's next batch waits until the handler resolved. The handler starts
   * on the next turn of the event loop, not inside this call: a handler that decodes its batch synchronously
   * would otherwise hold back the fetch loop, which then sends the partition's next fetch only after that work,
   * so on an idle machine the fetch's round trip came on top of the decoding instead of beside it.
   */
  private dispatch(st: PartitionState, batch: PartitionBatch, onBatch: (batch: PartitionBatch) => Promise<void>): void {
    if (st.buffered === batch) st.buffered = undefined;
    st.busy = true;
    const handler = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        // Revoked meanwhile: the batch is dropped like a buffered one (the new owner reads it from the last commit).
        if (this.states.get(keyOf(st.topic, st.partition)) !== st) return;
        return this.inHandler.run(true, () => onBatch(batch));
      })
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        st.busy = false;
        this.handlers.delete(handler);
        const current = this.states.get(keyOf(st.topic, st.partition)) === st;
        if (current && st.buffered && !this.isPaused(st) && !this.closing && this.fatal === undefined) this.dispatch(st, st.buffered, onBatch);
        this.wake();
      });
    this.handlers.add(handler);
  }

  async commit(offsets: { topic: string; partition: number; offset: bigint }[]): Promise<void> {
    if (this.closed) throw new Error('the consumer is closed: offsets can no longer be committed');
    const owned = offsets.filter((o) => this.states.has(keyOf(o.topic, o.partition)));
    if (!owned.length) return;
    await guarded(this.cfg, `commit offsets of ${this.opts.groupId}`, () =>
      this.c.commit({ offsets: owned.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset, leaderEpoch: -1 })) }),
    );
    for (const o of owned) {
      const st = this.states.get(keyOf(o.topic, o.partition));
      if (st && (st.committed === undefined || o.offset > st.committed)) st.committed = o.offset;
    }
  }

  private isPaused(s: TopicPartition): boolean {
    return this.pausedTopics.has(s.topic) || this.pausedPartitions.has(keyOf(s.topic, s.partition));
  }

  pause(topic: string, partitions?: number[]): void {
    if (!partitions) this.pausedTopics.add(topic);
    else for (const p of partitions) this.pausedPartitions.add(keyOf(topic, p));
  }

  resume(topic: string, partitions?: number[]): void {
    if (!partitions) {
      this.pausedTopics.delete(topic);
      for (const key of [...this.pausedPartitions]) if (key.startsWith(`${topic}\u0000`)) this.pausedPartitions.delete(key);
    } else {
      for (const p of partitions) this.pausedPartitions.delete(keyOf(topic, p));
    }
    this.wake();
  }

  seek(topic: string, partition: number, offset: bigint): void {
    const st = this.states.get(keyOf(topic, partition));
    if (!st) return;
    // A fetch in flight for the old position is dropped on arrival (its offset no longer matches).
    st.position = offset;
    st.buffered = undefined;
    st.outOfRange = false;
    this.wake();
  }

  assignment(): TopicPartition[] {
    return [...this.states.values()].map(({ topic, partition }) => ({ topic, partition })).sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  async lag(): Promise<PartitionLag[]> {
    const states = [...this.states.values()];
    const byTopic = new Map<string, number[]>();
    for (const s of states) byTopic.set(s.topic, [...(byTopic.get(s.topic) ?? []), s.partition]);
    if (byTopic.size) {
      const ends = await guarded(this.cfg, `end offsets for the lag of ${this.opts.groupId}`, () =>
        this.c.listOffsets({ topics: [...byTopic.keys()], partitions: Object.fromEntries(byTopic), timestamp: ListOffsetTimestamps.LATEST }),
      );
      for (const s of states) {
        const end = ends.get(s.topic)?.[s.partition];
        if (end !== undefined && (s.highWatermark === undefined || end > s.highWatermark)) s.highWatermark = end;
      }
    }
    return states
      .map((s) => {
        const from = s.committed ?? s.position;
        return {
          topic: s.topic,
          partition: s.partition,
          position: s.position,
          committed: s.committed,
          highWatermark: s.highWatermark,
          lag: s.highWatermark !== undefined && from !== undefined ? (s.highWatermark > from ? s.highWatermark - from : 0n) : undefined,
          paused: this.isPaused(s),
        };
      })
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /**
   * Stops fetching, waits for the batches in the handler (unless called from inside one), leaves the group.
   * run() resolves after that.
   */
  async close(): Promise<void> {
    if (this.closing) {
      await this.loopDone;
      return;
    }
    this.closing = true;
    this.wake();
    await this.loopDone;
    if (!this.inHandler.getStore()) await Promise.allSettled([...this.handlers]);
    await this.rebalanceChain;
    await this.shutdown();
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    this.closed = true;
    await new Promise<void>((resolve) => this.c.close(true, () => resolve()));
    await new Promise<void>((resolve) => this.pool.close(() => resolve()));
  }
}
