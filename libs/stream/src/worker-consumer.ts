/**
 * A Kafka consumer whose fetching runs on a worker thread (fetch-worker.ts), behind the same Consumer interface
 * as createKafka().consumer(). The Kafka client's own CPU work (fetch requests, record batch parsing, CRCs) then
 * runs beside the main thread's decoding and sink instead of before it: on two or more cores the runtime's
 * throughput is bounded by the larger of the two rather than their sum (bench/stream-runtime.ts).
 *
 * Same contract as in-thread: a partition's next batch waits for its handler; rebalance callbacks run on the
 * main thread, in order with the batches (a revocation is seen after every batch handed out before it and
 * before any after it); errors keep their code and retryable flag, so isKafkaUnavailable still recognises
 * them. Messages' Buffers are views of one transferred buffer per batch.
 *
 * The worker loads fetch-worker.ts by path with tsx's loader, so it needs the TypeScript sources and tsx; a
 * bundle that does not ship them cannot use it (fetchWorkerAvailable() tells).
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Consumer, ConsumerOptions, KafkaConfig, PartitionBatch, PartitionLag, TopicPartition } from '@pipeline/kafka';
import { errorFromWire, errorToWire, unpackBatch, type FromWorker, type ToWorker } from './worker-protocol';

const WORKER_URL = new URL('./fetch-worker.ts', import.meta.url);

/** Whether this build can start the fetch worker: the source entry is there, and tsx to load it. */
export function fetchWorkerAvailable(): boolean {
  if (WORKER_URL.protocol !== 'file:' || !existsSync(fileURLToPath(WORKER_URL))) return false;
  try {
    createRequire(import.meta.url).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

/** Like `createKafka(config).consumer(options)`: resolves once the group is joined, rejects as that would. */
export async function workerConsumer(config: KafkaConfig, options: ConsumerOptions): Promise<Consumer> {
  if (!fetchWorkerAvailable()) {
    throw new Error(`the fetch worker needs its source entry ${WORKER_URL.href} and tsx (a bundled build has neither): turn the fetch worker off`);
  }
  const { onRebalance, ...rest } = options;
  // Only tsx's loader: the parent's own flags (a test runner's, an inspector's) are not for this thread.
  const worker = new Worker(WORKER_URL, { workerData: { config, options: rest }, execArgv: ['--import', 'tsx'] });
  const send = (m: ToWorker) => worker.postMessage(m);
  let assignment: TopicPartition[] = [];
  let nextId = 1;
  const replies = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const request = <T>(make: (id: number) => ToWorker): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      replies.set(id, { resolve: resolve as (v: unknown) => void, reject });
      send(make(id));
    });
  let handler: ((batch: PartitionBatch) => Promise<void>) | undefined;
  let handlerError: unknown;
  let runSettle: { resolve: () => void; reject: (e: unknown) => void } | undefined;
  let exited: Error | undefined;
  let joined!: { resolve: () => void; reject: (e: unknown) => void };
  const join = new Promise<void>((resolve, reject) => (joined = { resolve, reject }));
  // Messages are handled one at a time, in order: a rebalance is seen after the batches sent before it.
  let queue: Promise<void> = Promise.resolve();

  const onMessage = async (m: FromWorker): Promise<void> => {
    switch (m.type) {
      case 'joined':
        assignment = m.assignment;
        joined.resolve();
        return;
      case 'join-failed':
        joined.reject(errorFromWire(m.error));
        return;
      case 'batch': {
        const batch = unpackBatch(m);
        // The batch is in the handler's hands when it returns; its promise is answered when it settles, without
        // holding the queue (other partitions' batches go on, as in-thread).
        const h = handler;
        if (!h) return send({ type: 'ack', id: m.id, error: { name: 'Error', message: 'no handler: run() was not called' } });
        h(batch).then(
          () => send({ type: 'ack', id: m.id }),
          (err: unknown) => {
            handlerError = err;
            send({ type: 'ack', id: m.id, error: errorToWire(err) });
          },
        );
        return;
      }
      case 'rebalance':
        assignment = m.event.assignment;
        try {
          await onRebalance?.(m.event);
        } finally {
          send({ type: 'ack', id: m.id });
        }
        return;
      case 'reply': {
        const r = replies.get(m.id);
        replies.delete(m.id);
        if (!r) return;
        if (m.ok) r.resolve(m.value);
        else r.reject(errorFromWire(m.error));
        return;
      }
      case 'run-ended': {
        const settle = runSettle;
        runSettle = undefined;
        if (!settle) return;
        if (!m.error) settle.resolve();
        // A handler's failure comes back as itself, as it would in-thread.
        else settle.reject(handlerError ?? errorFromWire(m.error));
        return;
      }
    }
  };
  worker.on('message', (m: FromWorker) => {
    queue = queue.then(() => onMessage(m)).catch(() => undefined);
  });
  let closing = false;
  const gone = (err: Error) => {
    exited ??= err;
    joined.reject(err);
    for (const r of replies.values()) r.reject(err);
    replies.clear();
    // After close() the worker is meant to end: run() resolves, as it does in-thread.
    if (closing) runSettle?.resolve();
    else runSettle?.reject(err);
    runSettle = undefined;
  };
  worker.on('error', (err) => gone(err));
  worker.on('exit', (code) => gone(new Error(`the Kafka fetch worker exited (code ${code})`)));

  try {
    await join;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return {
    run(onBatch) {
      if (handler) return Promise.reject(new Error('run() was already called'));
      handler = onBatch;
      return new Promise<void>((resolve, reject) => {
        if (exited) return reject(exited);
        runSettle = { resolve, reject };
        send({ type: 'run' });
      });
    },
    commit: (offsets) => request<void>((id) => ({ type: 'commit', id, offsets })),
    pause: (topic, partitions) => send({ type: 'pause', topic, ...(partitions && { partitions }) }),
    resume: (topic, partitions) => send({ type: 'resume', topic, ...(partitions && { partitions }) }),
    seek: (topic, partition, offset) => send({ type: 'seek', topic, partition, offset }),
    assignment: () => assignment,
    lag: () => request<PartitionLag[]>((id) => ({ type: 'lag', id })),
    async close() {
      if (exited) return;
      closing = true;
      try {
        await request<void>((id) => ({ type: 'close', id }));
      } finally {
        // The worker ends on its own once its port is closed; terminate() is the bound if it does not.
        const ended = new Promise<void>((r) => worker.once('exit', () => r()));
        const timer = setTimeout(() => void worker.terminate(), 5_000);
        await ended;
        clearTimeout(timer);
        runSettle?.resolve();
        runSettle = undefined;
      }
    },
  };
}
