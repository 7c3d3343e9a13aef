/**
 * The worker side of worker-consumer.ts: a Kafka consumer on its own thread. It fetches and parses record
 * batches (the Kafka client's share of the work, about half of a consumer's CPU) and hands each partition batch
 * to the main thread packed into one transferred buffer, so the main thread only decodes records and runs the
 * sink. A batch's handler is awaited across the threads before the next batch of that partition, as in-thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createKafka, type Consumer, type ConsumerOptions, type KafkaConfig, type RebalanceEvent } from '@pipeline/kafka';
import { errorToWire, packBatch, type FromWorker, type ToWorker } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('fetch-worker.ts runs as a worker thread of worker-consumer.ts');
const { config, options } = workerData as { config: KafkaConfig; options: Omit<ConsumerOptions, 'onRebalance'> };

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

let nextId = 1;
const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
const answer = (id: number) => new Promise<void>((resolve, reject) => waiting.set(id, { resolve, reject }));

async function onRebalance(event: RebalanceEvent): Promise<void> {
  const id = nextId++;
  const done = answer(id);
  post({ type: 'rebalance', id, event });
  await done;
}

let consumer: Consumer;
try {
  consumer = await createKafka(config).consumer({ ...options, onRebalance });
  post({ type: 'joined', assignment: consumer.assignment() });
} catch (err) {
  post({ type: 'join-failed', error: errorToWire(err) });
  port.close();
  throw err;
}

async function reply(id: number, work: () => unknown): Promise<void> {
  try {
    post({ type: 'reply', id, ok: true, value: await work() });
  } catch (err) {
    post({ type: 'reply', id, ok: false, error: errorToWire(err) });
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'ack': {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (!w) return;
      if (m.error) w.reject(Object.assign(new Error(m.error.message), m.error));
      else w.resolve();
      return;
    }
    case 'run':
      consumer
        .run(async (batch) => {
          const id = nextId++;
          const done = answer(id);
          const { packed, transfer } = packBatch(batch, id);
          post(packed, transfer);
          await done;
        })
        .then(
          () => post({ type: 'run-ended' }),
          (err: unknown) => post({ type: 'run-ended', error: errorToWire(err) }),
        );
      return;
    case 'commit':
      void reply(m.id, () => consumer.commit(m.offsets));
      return;
    case 'pause':
      consumer.pause(m.topic, m.partitions);
      return;
    case 'resume':
      consumer.resume(m.topic, m.partitions);
      return;
    case 'seek':
      consumer.seek(m.topic, m.partition, m.offset);
      return;
    case 'lag':
      void reply(m.id, () => consumer.lag());
      return;
    case 'close':
      void reply(m.id, async () => {
        await consumer.close();
        // Handlers still waiting for an answer will not get one: the main thread is done with this consumer.
        for (const w of waiting.values()) w.reject(new Error('consumer closed'));
        waiting.clear();
      }).then(() => port.close());
      return;
  }
});
