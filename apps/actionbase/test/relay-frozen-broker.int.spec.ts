/**
 * A broker that answers late: a private broker frozen with SIGSTOP while a produce request is on its way,
 * then let go with SIGCONT. The client gives up on the request after its retries time out and leaves the
 * connection open; the broker appends the request once it runs again.
 *
 * - The hazard, with one idempotent producer of the client kept after the failed send: it numbers its next
 *   batch from what it saw acknowledged, so a next batch with the same record count is taken by the broker for
 *   a retry of the appended one, acknowledged, and dropped. Records acknowledged and not on the topic.
 * - The project's producer (@pipeline/kafka, RenewingProducer) in the same situation: the next batch goes out
 *   under a new producer id and lands.
 * - The CDC relay in the same situation: the failed send ends its session (a new producer id), and the new
 *   session reads the end of the topic back before it sends: every record once.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { KafkaClient } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { startKafka, stopKafka } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import type { EdgeStore, OutboxRow } from '../src/storage/edge-store';
import { KafkaCdcOutlet } from '../src/publish/cdc-outlet';
import { CdcRelay } from '../src/publish/cdc-relay';

const REQUEST_TIMEOUT_MS = 1_500;
/** Longer than the client's retries of a request that times out (3 attempts of 1.5 s, 250 ms apart). */
const FREEZE_MS = REQUEST_TIMEOUT_MS * 6;

/** Whether every thread of the process is stopped by a signal (state T in /proc/<pid>/task/<tid>/stat). */
function allThreadsStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      return true; // the thread ended meanwhile
    }
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so the state follows the last ')'.
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'T';
  });
}

/** An outbox in memory (the relay's contract with its store); rows are added while the relay runs. */
class MemoryOutbox {
  rows: OutboxRow[] = [];
  private seq = 1;
  add(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = this.seq++;
      this.rows.push({ seq, key: `u${seq % 13}:${seq % 5}`, value: JSON.stringify({ version: '3', seq, pad: 'x'.repeat(300) }) });
    }
  }
  store(): EdgeStore {
    return {
      readOutbox: (after: number, limit: number) => Promise.resolve(this.rows.filter((r) => r.seq > after).slice(0, limit)),
      deleteOutbox: (upto: number) => Promise.resolve(void (this.rows = this.rows.filter((r) => r.seq > upto))),
      outboxSize: () => Promise.resolve(this.rows.length),
    } as unknown as EdgeStore;
  }
}

describe('a broker that answers after the client gave up (private broker, SIGSTOP / SIGCONT)', () => {
  const stackDir = join(repoRoot, '.stack', `it-frozen-broker-${process.pid}`);
  let broker: { dir: string; port: number; controllerPort: number; readyTimeoutMs: number };
  let bootstrap: string;
  let pid: number;
  let kafka: KafkaClient;
  /** Admin calls wait as usual: only the producers under test give up early. */
  let patient: KafkaClient;

  beforeAll(async () => {
    broker = { dir: join(stackDir, 'kafka'), port: await freePort(), controllerPort: await freePort(), readyTimeoutMs: 540_000 };
    const started = await startKafka(broker);
    if (started.pid === undefined) throw new Error('the private broker has no pid');
    pid = started.pid;
    bootstrap = `127.0.0.1:${broker.port}`;
    const { createKafka } = await import('@pipeline/kafka'); // loaded lazily, as the core does
    kafka = createKafka({ brokers: [bootstrap], clientId: 'it-frozen', requestTimeoutMs: REQUEST_TIMEOUT_MS });
    patient = createKafka({ brokers: [bootstrap], clientId: 'it-frozen-admin', requestTimeoutMs: 30_000 });
  }, 600_000);

  afterAll(async () => {
    if (pid) process.kill(pid, 'SIGCONT');
    await stopKafka({ ...broker, stopTimeoutMs: 10_000 }).catch(() => undefined);
    rmSync(stackDir, { recursive: true, force: true });
  }, 60_000);

  /**
   * Freezes the broker while `during` runs, and for at least `atLeastMs`: a send is let go only once the client
   * has given up on it (how long its retries take depends on the client's metadata refreshes and the machine's
   * load, so no fixed span is long enough).
   */
  async function frozen<T>(during: () => Promise<T>, atLeastMs: number): Promise<T> {
    process.kill(pid, 'SIGSTOP');
    // kill() returns once the signal is queued; a thread of the broker that is running can still answer a request
    // until it stops too. Nothing is sent before every thread of the JVM reports itself stopped.
    await waitFor('every thread of the broker stopped', async () => allThreadsStopped(pid), 10_000);
    const minimum = new Promise((r) => setTimeout(r, atLeastMs));
    try {
      return await during();
    } finally {
      await minimum;
      process.kill(pid, 'SIGCONT');
    }
  }

  async function endOffset(topic: string): Promise<bigint> {
    const admin = await patient.admin();
    try {
      return (await admin.endOffsets(topic)).get(0) ?? 0n;
    } finally {
      await admin.close();
    }
  }

  const batch = (tag: string) => [1, 2, 3].map((i) => ({ key: `k${i}`, value: `${tag}${i}` }));

  /** a, then b while the broker is frozen (the client gives up on it, the broker appends it later), then c. */
  async function abc(send: (topic: string, records: { key: string; value: string }[]) => Promise<void>): Promise<string[]> {
    const topic = uniqueName('it-frozen.hazard');
    const admin = await patient.admin();
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await admin.close();
    await send(topic, batch('a'));
    const failed = await frozen(() => send(topic, batch('b')).then(() => 'sent', (err: unknown) => err), 0);
    expect(failed).toBeInstanceOf(Error); // the client gave up on b
    await waitFor('the broker to append b once it runs again', async () => (await endOffset(topic)) === 6n, 30_000);
    await send(topic, batch('c')); // acknowledged
    return (await readAll(bootstrap, topic)).map((m) => String(m.value));
  }

  it("the client's idempotent producer, kept after a send it gave up on, acknowledges a later batch that the broker drops", async () => {
    const { Producer } = await import('@platformatic/kafka');
    const producer = new Producer({ clientId: 'it-frozen-raw', bootstrapBrokers: [bootstrap], idempotent: true, acks: -1, retries: 2, retryDelay: 250, requestTimeout: REQUEST_TIMEOUT_MS });
    try {
      const send = async (topic: string, records: { key: string; value: string }[]) => {
        await producer.send({ messages: records.map((r) => ({ topic, key: Buffer.from(r.key), value: Buffer.from(r.value) })) });
      };
      expect(await abc(send)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3']); // c acknowledged, and not on the topic
    } finally {
      await producer.close().catch(() => undefined);
    }
  }, 120_000);

  it("the project's producer sends the batch after a failed send under a new producer id: it lands", async () => {
    const producer = await kafka.producer();
    try {
      expect(await abc((topic, records) => producer.send(topic, records))).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3']);
    } finally {
      await producer.close();
    }
  }, 120_000);

  it('the CDC relay: a failed send ends the session, the next one resumes from the topic, every record once', async () => {
    const topic = uniqueName('it-frozen.cdc');
    const admin = await patient.admin();
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await admin.close();
    const outbox = new MemoryOutbox();
    const relay = new CdcRelay(outbox.store(), new KafkaCdcOutlet(kafka, topic), pino({ level: 'silent' }), {
      batchRows: 500,
      batchBytes: 64 * 1024,
      maxBackoffMs: 500,
      maxRecordBytes: 1 << 20,
      parkDir: join(tempDir('relay-frozen'), 'parked'),
    });
    relay.start();
    try {
      outbox.add(2000);
      relay.notify(2000);
      await waitFor('the relay under way', async () => relay.relayed > 0, 30_000);
      await frozen(async () => {
        outbox.add(1000);
        relay.notify(1000);
        await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS * 2));
      }, FREEZE_MS);
      outbox.add(1000);
      relay.notify(1000);
      await waitFor('the outbox emptied', async () => outbox.rows.length === 0, 90_000);
    } finally {
      await relay.stop();
    }
    const seqs = (await readAll(bootstrap, topic, { timeoutMs: 30_000 })).map((m) => (JSON.parse(String(m.value)) as { seq: number }).seq);
    expect(seqs.length).toBe(4000);
    expect(new Set(seqs).size).toBe(4000);
  }, 180_000);
});
