/**
 * The lifecycle around the pipeline: start in the order conventions.md asks (probes, sink, DLQ topic,
 * producer, then join the group, so nothing is fetched before the sink is ready), and stop in the reverse
 * order (stop fetching, drain, flush the sink, commit, leave the group, close the clients).
 *
 * A consumer never gives up on a transient fault: a sink that cannot start yet, a broker still recovering, a
 * group join that fails (e.g. right after the member was killed twice and the group is still rebalancing) are
 * retried with backoff for as long as it takes, readiness answering 503 with the reason meanwhile. The same
 * holds when the Kafka consumer fails while running: its partitions are treated as revoked (nothing read
 * through it is committed any more) and the group is joined again. Only what a retry cannot fix ends the
 * process: a port already in use, a sink that refuses to start for good, the sink's own fatal errors.
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { dlqTopicName, TOPICS } from '@pipeline/events';
import { createKafka, type Consumer, type KafkaClient, type Producer, type RebalanceEvent } from '@pipeline/kafka';
import { backoffDelay, sleep } from './backoff';
import { errorMessage, isRetryable, StreamError } from './errors';
import { startHealthServer, type HealthReport, type HealthServer } from './http';
import { StreamMetrics } from './metrics';
import { Pipeline } from './pipeline';
import { workerConsumer } from './worker-consumer';
import type { RecordOf, StreamConsumerOptions, StreamKind } from './types';

/** `starting` and `reconnecting` last until the group is joined, however many attempts that takes. */
export type StreamState = 'new' | 'starting' | 'running' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** Closing a client is bounded on its own, so a broker gone at shutdown cannot hold the process forever. */
const CLOSE_TIMEOUT_MS = 10_000;
/**
 * How often a running consumer asks the broker for its partitions' end offsets. Fetch errors are retried inside
 * the Kafka consumer without surfacing, so this probe is what turns readiness to 503 while the broker is gone.
 */
const BROKER_PROBE_MS = 5_000;

export class StreamConsumer<K extends StreamKind = StreamKind> {
  /** Resolves after a clean stop(); rejects when the consumer failed, could not start, or could not drain in time. */
  readonly done: Promise<void>;
  readonly dlqTopic: string;
  readonly registry: Registry;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private stateNow: StreamState = 'new';
  private readonly log: Logger;
  private readonly metrics: StreamMetrics;
  private readonly pipeline: Pipeline<RecordOf<K>>;
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private http: HealthServer | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private sinkStarted = false;
  private kafka: KafkaClient | undefined;
  private dlqEnsured = false;
  private reconnecting: Promise<void> | undefined;
  private stopRequested = false;
  /** Cuts a backoff between connection attempts short when stop() is called. */
  private readonly connectAbort = new AbortController();
  private connectFailures = 0;
  private lastConnectError: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Set while the latest broker probe failed: why. */
  private brokerTrouble: string | undefined;

  constructor(private readonly opts: StreamConsumerOptions<K>) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Callers that never await `done` must not get an unhandled rejection; those that do still see it.
    this.done.catch(() => undefined);
    this.dlqTopic = opts.dlqTopic ?? dlqTopicName(opts.groupId);
    this.log = this.logFor('stream');
    this.registry = opts.metrics ?? new Registry();
    this.metrics = new StreamMetrics(this.registry, { group: opts.groupId, topic: opts.topic });
    // The pipeline reaches the consumer through this indirection: the first rebalance callback fires while the
    // consumer is still joining, before createKafka().consumer() has returned it.
    const consumer = {
      commit: (offsets: Parameters<Consumer['commit']>[0]) => this.requireConsumer().commit(offsets),
      pause: (topic: string, partitions?: number[]) => this.consumer?.pause(topic, partitions),
      resume: (topic: string, partitions?: number[]) => this.consumer?.resume(topic, partitions),
    };
    const producer = { send: (...args: Parameters<Producer['send']>) => this.requireProducer().send(...args) };
    this.pipeline = new Pipeline<RecordOf<K>>({
      groupId: opts.groupId,
      topic: opts.topic,
      kind: opts.kind,
      sink: opts.sink,
      batch: opts.batch,
      retry: opts.retry,
      dlqTopic: this.dlqTopic,
      consumer,
      producer,
      logger: this.logFor('stream.pipeline'),
      metrics: this.metrics,
      onFatal: (err) => this.fail(err),
    });
  }

  /** A child of the app's logger per component; siblings rather than nested children, so `component` appears once. */
  private logFor(component: string): Logger {
    return this.opts.logger.child({ component, group: this.opts.groupId, topic: this.opts.topic });
  }

  get state(): StreamState {
    return this.stateNow;
  }

  /** The port of the health/metrics server (useful with http.port 0); undefined without one. */
  httpPort(): number | undefined {
    return this.http?.port;
  }

  health(): HealthReport {
    const reasons: string[] = [];
    if (this.stateNow !== 'running') {
      const why = this.lastConnectError !== undefined ? ` (attempt ${this.connectFailures} failed: ${this.lastConnectError}; retrying with backoff)` : '';
      reasons.push(`consumer is ${this.stateNow}${why}`);
    }
    else if (!this.consumer) reasons.push('consumer has not joined the group');
    else if (this.brokerTrouble !== undefined) reasons.push(`the broker does not answer: ${this.brokerTrouble}`);
    if (!this.sinkStarted) reasons.push('sink not started');
    else if (this.opts.sink.isReady?.() === false) {
      const why = this.opts.sink.whyNotReady?.();
      reasons.push(why === undefined ? 'sink not ready' : `sink not ready: ${why}`);
    }
    if (!this.pipeline.healthy) reasons.push('sink or DLQ failing: retrying with consumption paused');
    return { live: this.stateNow !== 'failed', ready: reasons.length === 0, reasons, state: this.stateNow };
  }

  /**
   * Starts everything and joins the group; resolves once batches can flow, or once stop() ended the attempts.
   * Transient failures (sink start, broker, group join) are retried with backoff without end; it rejects
   * (StreamError START_FAILED, after cleaning up) only when the health server cannot listen or the sink
   * refuses to start with a non-retryable error.
   */
  start(): Promise<void> {
    if (this.stateNow !== 'new') return Promise.reject(new Error(`start(): the consumer is ${this.stateNow}`));
    this.stateNow = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { opts } = this;
    let connected: boolean;
    try {
      if (opts.http) {
        this.http = await startHealthServer({
          port: opts.http.port,
          host: opts.http.host,
          registry: this.registry,
          health: () => this.health(),
          logger: this.logFor('stream.http'),
        });
      }
      connected = await this.connect();
    } catch (err) {
      const e = new StreamError('START_FAILED', `stream consumer ${opts.groupId} on ${opts.topic} could not start: ${errorMessage(err)}`, err);
      this.stateNow = 'failed';
      this.log.error({ err }, 'start failed');
      await this.closeAll();
      this.rejectDone(e);
      throw e;
    }
    if (!connected) {
      await this.closeAll();
      this.stateNow = 'stopped';
      this.log.info('stopped before the group was joined');
      this.resolveDone();
      return;
    }
    this.metrics.watchLag(() => this.pipeline.lag());
    this.startBrokerProbe();
    this.stateNow = 'running';
    this.log.info({ dlqTopic: this.dlqTopic, assignment: this.consumer!.assignment() }, 'consuming');
    this.runConsumer(this.consumer!);
  }

  /**
   * Brings up what is missing (sink, DLQ topic, producer) and joins the group, retrying with backoff until it
   * works. Resolves true once joined, false when stop() was called meanwhile; throws only for a sink that
   * refuses to start with a non-retryable error.
   */
  private async connect(): Promise<boolean> {
    const { opts } = this;
    for (;;) {
      if (this.stopRequested) return false;
      let stage = 'start the sink';
      try {
        if (!this.sinkStarted) {
          try {
            await opts.sink.start?.();
          } catch (err) {
            if (!isRetryable(err)) throw new StreamError('START_FAILED', `the sink refused to start: ${errorMessage(err)}`, err);
            throw err;
          }
          this.sinkStarted = true;
        }
        const kafka = (this.kafka ??= createKafka(opts.kafka));
        if (!this.dlqEnsured && opts.ensureDlqTopic !== false) {
          stage = `create the DLQ topic ${this.dlqTopic}`;
          const admin = await kafka.admin();
          try {
            await admin.ensureTopics([{ name: this.dlqTopic, partitions: TOPICS.dlq.defaultPartitions, retentionMs: TOPICS.dlq.defaultRetentionMs }]);
          } finally {
            await admin.close().catch(() => undefined);
          }
          this.dlqEnsured = true;
        }
        if (!this.producer) {
          stage = 'start the producer';
          this.producer = await kafka.producer();
        }
        stage = `join the group ${opts.groupId}`;
        const consumerOptions = { ...opts.consumer, groupId: opts.groupId, topics: [opts.topic], onRebalance: (e: RebalanceEvent) => this.onRebalance(e) };
        const consumer = opts.fetchWorker ? await workerConsumer(opts.kafka, consumerOptions) : await kafka.consumer(consumerOptions);
        if (this.stopRequested) {
          await within(CLOSE_TIMEOUT_MS, consumer.close());
          return false;
        }
        this.consumer = consumer;
        if (this.connectFailures) this.log.info({ attempts: this.connectFailures + 1 }, 'joined the group after failed attempts');
        this.connectFailures = 0;
        this.lastConnectError = undefined;
        return true;
      } catch (err) {
        if (err instanceof StreamError && err.code === 'START_FAILED') throw err;
        this.connectFailures++;
        this.lastConnectError = `${stage}: ${errorMessage(err)}`;
        const delayMs = Math.max(opts.retry.baseMs, backoffDelay(this.connectFailures, opts.retry));
        this.metrics.retry();
        this.log.warn({ err, attempt: this.connectFailures, delayMs }, `could not ${stage}; retrying (not ready meanwhile)`);
        await sleep(delayMs, this.connectAbort.signal).catch(() => undefined);
      }
    }
  }

  private startBrokerProbe(): void {
    let inFlight = false;
    this.probeTimer = setInterval(() => {
      const consumer = this.consumer;
      if (inFlight || !consumer || this.stateNow !== 'running') return;
      inFlight = true;
      consumer
        .lag()
        .then(
          () => {
            if (this.brokerTrouble !== undefined) this.log.info('the broker answers again');
            this.brokerTrouble = undefined;
          },
          (err: unknown) => {
            if (this.brokerTrouble === undefined) this.log.warn({ err }, 'the broker does not answer; not ready until it does');
            this.brokerTrouble = errorMessage(err);
          },
        )
        .finally(() => (inFlight = false));
    }, BROKER_PROBE_MS);
    this.probeTimer.unref();
  }

  private runConsumer(consumer: Consumer): void {
    consumer.run((batch) => this.pipeline.handle(batch)).then(
      () => {
        if (this.stateNow === 'running' && this.consumer === consumer) this.reconnect(consumer, new Error('the Kafka consumer stopped on its own'));
      },
      (err: unknown) => {
        // A handler failure is the pipeline's own fatal error, reported already; anything else is the consumer's.
        if (err === this.pipeline.failure) return;
        if (this.stateNow === 'running' && this.consumer === consumer) this.reconnect(consumer, err);
      },
    );
  }

  /**
   * The Kafka consumer failed while running (a rejoin that failed for good, a broker that went away): what was
   * read through it is treated as revoked (the next member, or this one after the rejoin, reads it again from
   * the last commit), it is closed, and the group is joined again with backoff.
   */
  private reconnect(old: Consumer, cause: unknown): void {
    this.stateNow = 'reconnecting';
    this.lastConnectError = errorMessage(cause);
    this.log.warn({ err: cause }, 'the Kafka consumer failed; joining the group again (not ready meanwhile)');
    this.reconnecting = (async () => {
      this.pipeline.revoke(old.assignment());
      this.consumer = undefined;
      const closed = await within(CLOSE_TIMEOUT_MS, old.close());
      if (closed.timedOut || closed.error !== undefined) this.log.warn({ err: closed.error }, 'the failed consumer did not close cleanly');
      const joined = await this.connect();
      if (!joined) return;
      // Pauses asked while no consumer was there (sink retrying, stopping) hold for the new one too.
      if (this.pipeline.paused) this.consumer!.pause(this.opts.topic);
      this.stateNow = 'running';
      this.log.info({ assignment: this.consumer!.assignment() }, 'consuming again');
      this.runConsumer(this.consumer!);
    })().catch((err: unknown) => this.fail(err));
  }

  private onRebalance(e: RebalanceEvent): void {
    this.pipeline.revoke(e.revoked);
    this.log.info(
      { generation: e.generationId, assigned: e.assigned.map((p) => p.partition), revoked: e.revoked.map((p) => p.partition), assignment: e.assignment.map((p) => p.partition) },
      'partitions rebalanced',
    );
  }

  /**
   * Graceful stop: no new batches, every record handed out so far written (or dead-lettered) and committed,
   * the sink flushed, the group left. Rejects with SHUTDOWN_TIMEOUT when the drain took longer than
   * shutdownTimeoutMs (a sink still down); the records not written then stay uncommitted and come again on the
   * next start.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (this.stateNow === 'new') {
      this.stateNow = 'stopped';
      this.resolveDone();
      return;
    }
    this.stopRequested = true;
    this.connectAbort.abort();
    if (this.stateNow === 'starting') await this.starting?.catch(() => undefined);
    if (this.stateNow === 'reconnecting') await this.reconnecting;
    // Stopped before joining, failed (or failing): done says how. A consumer stopped while rejoining still
    // drains what the pipeline holds.
    if (this.stateNow !== 'running' && this.stateNow !== 'reconnecting') return this.done;
    this.stateNow = 'stopping';
    this.log.info('stopping: draining the batches in hand');
    this.pipeline.pauseFor('stopping');
    this.pipeline.stopAccepting();
    let failure: unknown;
    const timeoutMs = this.opts.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    const drained = await within(timeoutMs, this.pipeline.drain());
    if (drained.timedOut) {
      this.pipeline.abortRetries();
      failure = new StreamError('SHUTDOWN_TIMEOUT', `could not drain within ${timeoutMs} ms; records not written stay uncommitted`);
    } else if (drained.error !== undefined) {
      failure = drained.error;
    }
    if (failure === undefined && this.opts.sink.flush) {
      const flushed = await within(timeoutMs, this.opts.sink.flush());
      if (flushed.timedOut || flushed.error !== undefined) failure = flushed.error ?? new StreamError('SHUTDOWN_TIMEOUT', `sink flush took over ${timeoutMs} ms`);
    }
    // Every batch was committed as it completed (the pipeline commits after each write): nothing is left to commit.
    await this.closeAll();
    if (failure === undefined) {
      this.stateNow = 'stopped';
      this.log.info('stopped');
      this.resolveDone();
    } else {
      this.stateNow = 'failed';
      this.log.error({ err: failure }, 'stopped without draining everything');
      this.rejectDone(failure);
      throw failure;
    }
  }

  private fail(err: unknown): void {
    if (this.stateNow === 'failed' || this.stateNow === 'stopped' || this.stateNow === 'stopping') return;
    this.stopRequested = true;
    this.connectAbort.abort();
    this.stateNow = 'failed';
    this.log.error({ err }, 'stream consumer failed; stopping without committing further');
    void this.closeAll().finally(() => this.rejectDone(err));
  }

  /** Closes in dependency order, each step bounded; errors are logged, not thrown (the first failure is what matters). */
  private async closeAll(): Promise<void> {
    const step = async (what: string, fn: (() => Promise<void>) | undefined) => {
      if (!fn) return;
      const r = await within(CLOSE_TIMEOUT_MS, fn());
      if (r.timedOut) this.log.warn(`${what}: no answer within ${CLOSE_TIMEOUT_MS} ms`);
      else if (r.error !== undefined) this.log.warn({ err: r.error }, `${what} failed`);
    };
    clearInterval(this.probeTimer);
    const consumer = this.consumer;
    const producer = this.producer;
    await step('leave the group', consumer && (() => consumer.close()));
    this.metrics.unwatchLag();
    await step('close the producer', producer && (() => producer.close()));
    if (this.sinkStarted) await step('close the sink', this.opts.sink.close && (() => this.opts.sink.close!()));
    const http = this.http;
    await step('close the health server', http && (() => http.close()));
  }

  private requireConsumer(): Consumer {
    if (!this.consumer) throw new Error('the Kafka consumer is not started');
    return this.consumer;
  }

  private requireProducer(): Producer {
    if (!this.producer) throw new Error('the Kafka producer is not started');
    return this.producer;
  }
}

/** Creates a StreamConsumer and starts it (the sink first, then the group join). */
export async function runConsumer<K extends StreamKind>(opts: StreamConsumerOptions<K>): Promise<StreamConsumer<K>> {
  const consumer = new StreamConsumer(opts);
  await consumer.start();
  return consumer;
}

async function within(ms: number, p: Promise<unknown>): Promise<{ timedOut: boolean; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const r = await Promise.race([p.then(() => 'ok' as const), timeout]);
    return { timedOut: r === 'timeout' };
  } catch (error) {
    return { timedOut: false, error };
  } finally {
    clearTimeout(timer);
  }
}
