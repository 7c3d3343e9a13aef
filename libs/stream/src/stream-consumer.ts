/**
 * The lifecycle around the pipeline: start in the order conventions.md asks (probes, sink, DLQ topic,
 * producer, then join the group, so nothing is fetched before the sink is ready), and stop in the reverse
 * order (stop fetching, drain, flush the sink, commit, leave the group, close the clients).
 */
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { dlqTopicName, TOPICS } from '@pipeline/events';
import { createKafka, type Consumer, type Producer, type RebalanceEvent } from '@pipeline/kafka';
import { errorMessage, StreamError } from './errors';
import { startHealthServer, type HealthReport, type HealthServer } from './http';
import { StreamMetrics } from './metrics';
import { Pipeline } from './pipeline';
import type { RecordOf, StreamConsumerOptions, StreamKind } from './types';

export type StreamState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;
/** Closing a client is bounded on its own, so a broker gone at shutdown cannot hold the process forever. */
const CLOSE_TIMEOUT_MS = 10_000;

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
    if (this.stateNow !== 'running') reasons.push(`consumer is ${this.stateNow}`);
    else if (!this.consumer) reasons.push('consumer has not joined the group');
    if (!this.sinkStarted) reasons.push('sink not started');
    else if (this.opts.sink.isReady?.() === false) reasons.push('sink not ready');
    if (!this.pipeline.healthy) reasons.push('sink or DLQ failing: retrying with consumption paused');
    return { live: this.stateNow !== 'failed', ready: reasons.length === 0, reasons, state: this.stateNow };
  }

  /** Starts everything and joins the group; resolves once batches can flow. Rejects (StreamError START_FAILED) after cleaning up. */
  start(): Promise<void> {
    if (this.stateNow !== 'new') return Promise.reject(new Error(`start(): the consumer is ${this.stateNow}`));
    this.stateNow = 'starting';
    this.starting = this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const { opts } = this;
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
      await opts.sink.start?.();
      this.sinkStarted = true;
      const kafka = createKafka(opts.kafka);
      if (opts.ensureDlqTopic !== false) {
        const admin = await kafka.admin();
        try {
          await admin.ensureTopics([{ name: this.dlqTopic, partitions: TOPICS.dlq.defaultPartitions, retentionMs: TOPICS.dlq.defaultRetentionMs }]);
        } finally {
          await admin.close();
        }
      }
      this.producer = await kafka.producer();
      this.consumer = await kafka.consumer({
        ...opts.consumer,
        groupId: opts.groupId,
        topics: [opts.topic],
        onRebalance: (e) => this.onRebalance(e),
      });
    } catch (err) {
      const e = new StreamError('START_FAILED', `stream consumer ${opts.groupId} on ${opts.topic} could not start: ${errorMessage(err)}`, err);
      this.stateNow = 'failed';
      this.log.error({ err }, 'start failed');
      await this.closeAll();
      this.rejectDone(e);
      throw e;
    }
    const consumer = this.consumer;
    this.metrics.watchLag(() => this.pipeline.lag());
    this.stateNow = 'running';
    this.log.info({ dlqTopic: this.dlqTopic, assignment: consumer.assignment() }, 'consuming');
    consumer.run((batch) => this.pipeline.handle(batch)).then(
      () => {
        if (this.stateNow === 'running') this.fail(new StreamError('CONSUMER_FAILED', 'the Kafka consumer stopped on its own'));
      },
      (err: unknown) => {
        // A handler failure is the pipeline's own fatal error, reported already; anything else is the consumer's.
        if (err !== this.pipeline.failure) this.fail(new StreamError('CONSUMER_FAILED', `the Kafka consumer failed: ${errorMessage(err)}`, err));
      },
    );
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
    if (this.stateNow === 'starting') await this.starting?.catch(() => undefined);
    if (this.stateNow !== 'running') return this.done; // failed (or failing): done says how
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
