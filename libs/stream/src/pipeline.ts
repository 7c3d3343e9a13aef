/**
 * The heart of the runtime: partition batches from the Kafka consumer in, sink batches out, offsets committed
 * only behind what the sink confirmed or the DLQ holds. Kafka-free (it sees the consumer and the producer
 * through two narrow interfaces), so the unit tests drive it directly.
 *
 * Flow: handle() decodes each message into an entry and appends it to one accumulator shared by every
 * partition; the accumulator is written when it reaches maxRecords or maxBytes, or maxWaitMs after its first
 * entry. One write at a time, in accumulator order, so per partition the batches are written, dead-lettered
 * and committed in offset order: a batch's commit (one past its highest offset per partition) never passes a
 * record still waiting.
 *
 * Overlap: a batch goes through two stages, write (sink, then dead letters) and commit. The handler that filled
 * the accumulator does not wait for either: it starts the write and goes on decoding into the emptied
 * accumulator (read-ahead) while the batch is written and committed. The next write starts once the previous
 * write is done, without waiting for its commit. Commits go one at a time, in batch order, and only for
 * written batches: a batch written while a commit is in flight queues its offsets, and batches written
 * before that queued commit is sent merge into it (one commit in flight, one waiting), so a slow commit
 * does not hold the writes back and no commit ever covers a record not yet written. handle() blocks while
 * the accumulator is full and a write is in progress (backpressure on the fetch loop), and when its batch
 * left the accumulator full it waits for that batch to be committed.
 */
import type { Logger } from 'pino';
import { decodeRecord, isSystemRecord, isVertexRecord, type AnyRecord, type CdcRecord, type WalRecord } from '@pipeline/events';
import { isKafkaUnavailable, type Consumer, type ConsumedMessage, type PartitionBatch, type Producer, type TopicPartition } from '@pipeline/kafka';
import { Accumulator, messageBytes, type Entry } from './batch';
import { backoffDelay, sleep } from './backoff';
import { deadLetterMessage, type DeadLetterInfo } from './dlq';
import { errorCode, errorMessage, isRetryable, StreamError } from './errors';
import type { PartitionLagSample, StreamMetrics } from './metrics';
import type { BatchLimits, DecodedRecord, RetryPolicy, Sink, SinkResult, StreamKind } from './types';

export interface PipelineOptions<R> {
  groupId: string;
  topic: string;
  kind: StreamKind;
  sink: Sink<R>;
  batch: BatchLimits;
  retry: RetryPolicy;
  dlqTopic: string;
  consumer: Pick<Consumer, 'commit' | 'pause' | 'resume'>;
  producer: Pick<Producer, 'send'>;
  logger: Logger;
  metrics: StreamMetrics;
  /** Called once when the pipeline cannot go on (its own timers fail outside any handler). */
  onFatal?: (err: unknown) => void;
  random?: () => number;
}

type DeadEntry = { msg: ConsumedMessage; info: DeadLetterInfo };
type PendingOffset = { topic: string; partition: number; offset: bigint; epoch: number };
type BatchStats = { started: number; records: number; written: number; deadLettered: number; skipped: number };

const noop = (): void => undefined;

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** How many times a commit is retried on Kafka unavailability before it is left to the next batch. */
const COMMIT_ATTEMPTS = 5;

export class Pipeline<R = WalRecord | CdcRecord> {
  private readonly acc: Accumulator<R>;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  /** The write stage of the batch in progress (settles, never rejects); the next write waits for it. */
  private current: Promise<void> | undefined;
  /** Settles when the latest commit (in flight or queued) is done or was given up; the next one waits for it. */
  private commitTail: Promise<void> = Promise.resolve();
  /** The commit waiting for the one in flight: batches written meanwhile merge their offsets into it. */
  private queuedCommit: { offsets: Map<string, PendingOffset>; done: Promise<void> } | undefined;
  /**
   * Index of the first accumulator entry that a handler added while a write was in progress: under shutdown
   * those are dropped (stopAccepting), since without read-ahead they would still be in their handler.
   */
  private readAheadFrom: number | undefined;
  private fatal: unknown;
  private readonly handlers = new Set<Promise<void>>();
  private readonly pauses = new Set<string>();
  private readonly abort = new AbortController();
  /** Bumped when a partition is revoked: entries read before belong to the old owner's turn and are not committed. */
  private readonly epochs = new Map<string, number>();
  /** Highest offset this member committed per partition: a late batch never moves a commit backwards. */
  private readonly committed = new Map<string, bigint>();
  private sinkHealthy = true;
  private accepting = true;
  /** For the lag gauge: high watermark of the latest batch and the offset lag counts from, per partition. */
  private readonly progress = new Map<string, { topic: string; partition: number; highWatermark: bigint; from: bigint }>();

  constructor(private readonly o: PipelineOptions<R>) {
    this.acc = new Accumulator(o.batch);
    this.log = o.logger;
    if (!(o.batch.maxWaitMs >= 0)) throw new RangeError(`batch.maxWaitMs must be >= 0, got ${o.batch.maxWaitMs}`);
    if (!(o.retry.baseMs >= 0 && o.retry.maxMs >= o.retry.baseMs)) throw new RangeError('retry: need 0 <= baseMs <= maxMs');
  }

  /** False while writes (or dead letters) are being retried. */
  get healthy(): boolean {
    return this.sinkHealthy;
  }

  /** True while fetching is paused for some reason (a retry, a stop). */
  get paused(): boolean {
    return this.pauses.size > 0;
  }

  get failure(): unknown {
    return this.fatal;
  }

  /** The Kafka consumer's batch handler. Resolves when the batch is in the accumulator (not yet written). */
  handle(batch: PartitionBatch): Promise<void> {
    const p = this.accept(batch);
    this.handlers.add(p);
    const done = () => this.handlers.delete(p);
    p.then(done, done);
    return p;
  }

  private async accept(batch: PartitionBatch): Promise<void> {
    if (this.fatal !== undefined) throw this.fatal;
    this.o.metrics.recordsIn(batch.messages.length);
    const key = tpKey(batch.topic, batch.partition);
    const epoch = this.epochs.get(key) ?? 0;
    this.track(batch);
    for (const msg of batch.messages) {
      const entry = this.classify(msg, epoch);
      if (this.acc.wouldOverflow(entry)) await this.makeRoom(entry);
      // Revoked while this handler waited: the new owner reads these from the last commit. Stopping: the rest
      // of a large fetch would only lengthen the drain; what was pushed is a prefix, so the commit stays exact
      // and the rest is read again on the next start.
      if ((this.epochs.get(key) ?? 0) !== epoch || !this.accepting) return;
      if (this.current !== undefined && this.readAheadFrom === undefined) this.readAheadFrom = this.acc.size;
      this.acc.push(entry);
      if (this.acc.size === 1) this.armTimer();
    }
    if (this.acc.isFull()) await this.flush();
  }

  /** Until `entry` fits: starts writing the accumulator when no write is in progress, else waits for that write (not its commit). */
  private async makeRoom(entry: Entry<R>): Promise<void> {
    while (this.acc.wouldOverflow(entry)) {
      if (this.current) await this.current;
      else await this.startFlush();
      if (this.fatal !== undefined) throw this.fatal;
    }
  }

  private track(batch: PartitionBatch): void {
    const key = tpKey(batch.topic, batch.partition);
    const p = this.progress.get(key);
    if (p) {
      if (batch.highWatermark > p.highWatermark) p.highWatermark = batch.highWatermark;
    } else {
      const first = batch.messages[0]?.offset ?? batch.highWatermark;
      this.progress.set(key, { topic: batch.topic, partition: batch.partition, highWatermark: batch.highWatermark, from: this.committed.get(key) ?? first });
    }
  }

  /** Lag per partition from the batches' high watermarks: records behind the last commit, fetched or not. */
  lag(): PartitionLagSample[] {
    return [...this.progress.values()].map((p) => ({ topic: p.topic, partition: p.partition, lag: p.highWatermark > p.from ? p.highWatermark - p.from : 0n }));
  }

  private classify(msg: ConsumedMessage, epoch: number): Entry<R> {
    const bytes = messageBytes(msg);
    if (msg.value === null) {
      return { type: 'poison', msg, bytes, epoch, info: { code: 'EMPTY_VALUE', message: 'message has no value (null)', stage: 'decode' } };
    }
    let record: AnyRecord;
    try {
      record = decodeRecord(this.o.kind, msg.value);
    } catch (err) {
      return { type: 'poison', msg, bytes, epoch, info: { code: errorCode(err, 'DECODE_FAILED'), message: errorMessage(err), stage: 'decode' } };
    }
    // Vertex records (Actionbase v3): no sink acts on them yet, so they are skipped and committed, counted apart.
    if (isVertexRecord(record)) this.o.metrics.vertexSkipped();
    if (isVertexRecord(record) || isSystemRecord(record)) return { type: 'skip', msg, bytes, epoch };
    const decoded: DecodedRecord<R> = {
      kind: this.o.kind,
      record: record as R,
      topic: msg.topic,
      partition: msg.partition,
      offset: msg.offset,
      key: msg.key === null ? null : msg.key.toString('utf8'),
      timestamp: msg.timestamp,
      value: msg.value,
      headers: msg.headers,
    };
    return { type: 'record', msg, bytes, epoch, decoded };
  }

  private armTimer(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined); // flush() already reported the failure through fail()
    }, this.o.batch.maxWaitMs);
  }

  /** Writes what the accumulator holds now (after the write in progress, if any); resolves once that batch is committed. */
  async flush(): Promise<void> {
    const started = await this.startFlush();
    if (started) await started.done;
  }

  /**
   * Starts writing the accumulator once the write in progress (if any) is done, and returns without waiting for
   * the new write: `done` settles when the batch is committed (or rejects with what stopped the pipeline).
   */
  private async startFlush(): Promise<{ done: Promise<void> } | undefined> {
    while (this.current) await this.current;
    if (this.fatal !== undefined) throw this.fatal;
    if (this.acc.isEmpty()) return undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    const entries = this.acc.take();
    this.readAheadFrom = undefined;
    const written = this.writeStage(entries);
    // Registered first, so the pipeline has failed before any waiter on `current` looks at `fatal`.
    written.catch((err: unknown) => this.fail(err));
    const settled = written.then(noop, noop);
    this.current = settled;
    // Only clear our own turn: a waiter may already have started the next write.
    void settled.then(() => {
      if (this.current === settled) this.current = undefined;
    });
    const done = written.then((stats) => this.afterWrite(entries, stats));
    done.catch(noop); // whoever waits for it sees the rejection; nobody has to
    return { done };
  }

  /** A method of its own so that nothing waiting for the commit keeps the batch's entries (and records) alive. */
  private afterWrite(entries: Entry<R>[], stats: BatchStats): Promise<void> {
    const count = entries.length;
    return this.queueCommit(entries).then(() => this.report(count, stats));
  }

  /**
   * Shutdown: the handlers stop adding entries at once. The rest of their fetch is left uncommitted and read
   * again on the next start, so drain() only has to write what is already in the accumulator.
   */
  stopAccepting(): void {
    this.accepting = false;
    // What the handlers read ahead while a write was in progress is a suffix of the accumulator (so, per
    // partition, the latest records): dropped uncommitted, like the rest of their fetch.
    if (this.readAheadFrom !== undefined) {
      this.acc.truncate(this.readAheadFrom);
      this.readAheadFrom = undefined;
      if (this.acc.isEmpty()) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    }
  }

  /**
   * Writes everything handed out so far: waits for the handlers still adding entries and flushes until the
   * accumulator stays empty. Call after pausing the consumer, or new batches keep coming.
   */
  async drain(): Promise<void> {
    for (;;) {
      await this.flush();
      if (this.handlers.size === 0 && this.acc.isEmpty() && !this.current) {
        await this.commitTail;
        if (this.fatal !== undefined) throw this.fatal;
        if (this.handlers.size === 0 && this.acc.isEmpty() && !this.current) return;
        continue;
      }
      if (this.handlers.size) await Promise.race([...this.handlers].map((h) => h.catch(() => undefined)));
    }
  }

  /** Cuts retry waits short (stop() ran out of time): the write in progress fails with ABORTED, nothing more is committed. */
  abortRetries(): void {
    this.abort.abort();
  }

  /** Stops fetching for a reason; fetching resumes when no reason is left. */
  pauseFor(reason: string): void {
    if (this.pauses.size === 0) this.o.consumer.pause(this.o.topic);
    this.pauses.add(reason);
  }

  resumeFor(reason: string): void {
    if (!this.pauses.delete(reason)) return;
    if (this.pauses.size === 0) this.o.consumer.resume(this.o.topic);
  }

  /** The partitions went to another member: their waiting entries are dropped and never committed by us. */
  revoke(partitions: TopicPartition[]): void {
    if (!partitions.length) return;
    const keys = new Set(partitions.map((p) => tpKey(p.topic, p.partition)));
    for (const k of keys) {
      this.epochs.set(k, (this.epochs.get(k) ?? 0) + 1);
      // Another member may commit further; our stale high-water mark must not block or confuse a later turn.
      this.committed.delete(k);
      this.progress.delete(k);
    }
    const readAheadFrom = this.readAheadFrom;
    this.readAheadFrom = undefined;
    const all = this.acc.take();
    for (let i = 0; i < all.length; i++) {
      const e = all[i]!;
      if (keys.has(tpKey(e.msg.topic, e.msg.partition))) continue;
      if (readAheadFrom !== undefined && i >= readAheadFrom && this.readAheadFrom === undefined) this.readAheadFrom = this.acc.size;
      this.acc.push(e);
    }
    if (this.acc.isEmpty()) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private fail(err: unknown): void {
    if (this.fatal !== undefined) return;
    this.fatal = err;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.o.onFatal?.(err);
  }

  /** Sink write, then dead letters. */
  private async writeStage(entries: Entry<R>[]): Promise<BatchStats> {
    const started = performance.now();
    const records: DecodedRecord<R>[] = [];
    const dead: DeadEntry[] = [];
    let skipped = 0;
    for (const e of entries) {
      if (e.type === 'record') records.push(e.decoded);
      else if (e.type === 'poison') dead.push({ msg: e.msg, info: e.info });
      else skipped++;
    }
    const rejected = records.length ? await this.write(records) : [];
    for (const r of rejected) dead.push(r);
    if (dead.length) await this.deadLetter(dead);
    return { started, records: records.length, written: records.length - rejected.length, deadLettered: dead.length, skipped };
  }

  /**
   * Queues the offsets of a written batch for commit: into the commit waiting for the one in flight if there is
   * one, else as that waiting commit. Resolves once a commit covering them is done (or was given up).
   */
  private queueCommit(entries: Entry<R>[]): Promise<void> {
    let queued = this.queuedCommit;
    if (!queued) {
      const offsets = new Map<string, PendingOffset>();
      const done = this.commitTail.then(() => {
        // Sent now: later batches queue a new commit behind this one.
        if (this.queuedCommit?.offsets === offsets) this.queuedCommit = undefined;
        return this.commit(offsets);
      });
      queued = this.queuedCommit = { offsets, done };
      this.commitTail = done.then(noop, noop);
    }
    this.addOffsets(queued.offsets, entries);
    return queued.done;
  }

  private report(entries: number, stats: BatchStats): void {
    this.o.metrics.recordsOut(stats.written);
    this.o.metrics.skipped(stats.skipped);
    this.o.metrics.batch((performance.now() - stats.started) / 1000, entries);
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ records: stats.records, deadLettered: stats.deadLettered, skipped: stats.skipped, ms: Math.round(performance.now() - stats.started) }, 'batch done');
    }
  }

  /**
   * Writes records until the sink takes them. Retryable failures: back off, consumption paused. A
   * non-retryable failure of the whole batch is narrowed down by halves until the records at fault are
   * isolated; only those go to the DLQ, their neighbours are written.
   */
  private async write(records: DecodedRecord<R>[]): Promise<DeadEntry[]> {
    let failures = 0;
    for (;;) {
      let result: SinkResult<R> | void;
      try {
        result = await this.o.sink.write(records);
      } catch (err) {
        if (isRetryable(err)) {
          failures++;
          await this.retryAfter(failures, err, `sink write of ${records.length} records`);
          continue;
        }
        this.recovered();
        if (records.length === 1) {
          const msg = this.messageOf(records[0]!);
          return [{ msg, info: { code: errorCode(err, 'SINK_REJECTED'), message: errorMessage(err), stage: 'sink' } }];
        }
        this.log.warn({ err, records: records.length }, 'sink rejected a batch for good; writing it in halves to isolate the records at fault');
        const mid = Math.ceil(records.length / 2);
        const left = await this.write(records.slice(0, mid));
        const right = await this.write(records.slice(mid));
        return [...left, ...right];
      }
      this.recovered();
      return this.rejectedIn(result, records);
    }
  }

  private rejectedIn(result: SinkResult<R> | void, records: DecodedRecord<R>[]): DeadEntry[] {
    if (!result?.failed?.length) return [];
    const byCoords = new Map(records.map((r) => [`${tpKey(r.topic, r.partition)}\u0000${r.offset}`, r]));
    const out: DeadEntry[] = [];
    const seen = new Set<string>();
    for (const f of result.failed) {
      const k = `${tpKey(f.record.topic, f.record.partition)}\u0000${f.record.offset}`;
      const r = byCoords.get(k);
      if (!r || seen.has(k)) {
        this.log.warn({ topic: f.record.topic, partition: f.record.partition, offset: String(f.record.offset) }, 'sink named a failed record that is not in the batch; ignored');
        continue;
      }
      seen.add(k);
      out.push({ msg: this.messageOf(r), info: { code: errorCode(f.error, 'SINK_REJECTED'), message: errorMessage(f.error), stage: 'sink' } });
    }
    return out;
  }

  private messageOf(r: DecodedRecord<R>): ConsumedMessage {
    return { topic: r.topic, partition: r.partition, offset: r.offset, key: r.key === null ? null : Buffer.from(r.key, 'utf8'), value: r.value, headers: r.headers, timestamp: r.timestamp };
  }

  /** Dead letters are produced before the commit; a DLQ that is down pauses the stream like a sink outage. */
  private async deadLetter(dead: DeadEntry[]): Promise<void> {
    const now = new Date();
    const messages = dead.map((d) => deadLetterMessage(d.msg, d.info, { groupId: this.o.groupId, kind: this.o.kind, now }));
    let failures = 0;
    for (;;) {
      try {
        await this.o.producer.send(this.o.dlqTopic, messages);
        break;
      } catch (err) {
        if (!isKafkaUnavailable(err)) {
          throw new StreamError('DLQ_FAILED', `could not produce ${messages.length} dead letters to ${this.o.dlqTopic}: ${errorMessage(err)}`, err);
        }
        failures++;
        await this.retryAfter(failures, err, `produce to ${this.o.dlqTopic}`);
      }
    }
    this.recovered();
    for (const d of dead) {
      this.o.metrics.deadLettered(d.info.code);
      this.log.warn(
        { code: d.info.code, stage: d.info.stage, topic: d.msg.topic, partition: d.msg.partition, offset: String(d.msg.offset), dlqTopic: this.o.dlqTopic, reason: d.info.message },
        'record dead-lettered',
      );
    }
  }

  private async retryAfter(failures: number, err: unknown, what: string): Promise<void> {
    const max = this.o.retry.maxAttempts;
    if (max !== undefined && failures >= max) {
      throw new StreamError('RETRIES_EXHAUSTED', `${what} failed ${failures} times (retry.maxAttempts=${max}): ${errorMessage(err)}`, err);
    }
    if (this.sinkHealthy) {
      this.sinkHealthy = false;
      this.o.metrics.sinkUp(false);
      this.pauseFor('retrying');
    }
    const delay = backoffDelay(failures, this.o.retry, this.o.random);
    this.o.metrics.retry();
    this.log.warn({ err, attempt: failures, delayMs: delay, code: errorCode(err, 'UNKNOWN') }, `${what} failed; retrying (consumption paused)`);
    await sleep(delay, this.abort.signal);
  }

  private recovered(): void {
    if (this.sinkHealthy) return;
    this.sinkHealthy = true;
    this.o.metrics.sinkUp(true);
    this.log.info('writes succeed again; consumption resumed');
    this.resumeFor('retrying');
  }

  /** Raises `out` to one past the highest offset per partition among the entries (with the epoch they were read in). */
  private addOffsets(out: Map<string, PendingOffset>, entries: Entry<R>[]): void {
    // Entries come in runs of one partition and epoch, offsets rising within a run (a handler pushes its fetch in
    // order): only the last entry of each run can raise the offset, so one key and one bigint per run.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const after = entries[i + 1];
      if (after && after.msg.partition === e.msg.partition && after.msg.topic === e.msg.topic && after.epoch === e.epoch && after.msg.offset > e.msg.offset) continue;
      const key = tpKey(e.msg.topic, e.msg.partition);
      const epoch = e.epoch ?? 0;
      const next = e.msg.offset + 1n;
      const slot = out.get(key);
      // A newer epoch replaces what an older one read (that turn is over and is never committed by us).
      if (!slot || epoch > slot.epoch || (epoch === slot.epoch && next > slot.offset)) out.set(key, { topic: e.msg.topic, partition: e.msg.partition, offset: next, epoch });
    }
  }

  /** Commits the offsets read in the partitions' current epochs, where they move the commit forward. */
  private async commit(pending: Map<string, PendingOffset>): Promise<void> {
    const offsets: { topic: string; partition: number; offset: bigint }[] = [];
    for (const [k, o] of pending) {
      // Revoked since it was read: the new owner commits that partition.
      if (o.epoch !== (this.epochs.get(k) ?? 0)) continue;
      const prev = this.committed.get(k);
      if (prev === undefined || o.offset > prev) offsets.push({ topic: o.topic, partition: o.partition, offset: o.offset });
    }
    if (!offsets.length) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.o.consumer.commit(offsets);
        break;
      } catch (err) {
        // Not fatal: the records are written. If no later commit covers them, they are read again after a
        // restart or rebalance (at least once), which every sink must tolerate anyway.
        if (!isKafkaUnavailable(err) || attempt >= COMMIT_ATTEMPTS) {
          this.log.warn({ err, offsets: offsets.map((o) => ({ ...o, offset: String(o.offset) })) }, 'commit failed; a later commit covers these offsets, or they are read again');
          return;
        }
        await sleep(backoffDelay(attempt, this.o.retry, this.o.random), this.abort.signal).catch(() => undefined);
      }
    }
    for (const o of offsets) {
      const k = tpKey(o.topic, o.partition);
      this.committed.set(k, o.offset);
      const p = this.progress.get(k);
      if (p && o.offset > p.from) p.from = o.offset;
    }
  }
}
