/**
 * @pipeline/kafka against the real Kafka 4 of tools/stack (started by ensureKafka if it is not running).
 * Every test uses its own topics and groups, so the suite can share the broker with other suites.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { Admin as PltAdmin } from '@platformatic/kafka';
// The broker for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka, stackDir, stopKafka } from '@pipeline/stack';
import {
  createKafka,
  isKafkaUnavailable,
  KafkaUnavailableError,
  partitionForKey,
  type Admin,
  type Consumer,
  type PartitionBatch,
  type Producer,
  type RebalanceEvent,
} from '../src/index';
import { isUnavailability, toKafkaError } from '../src/errors';
import { readAll, uniqueTopic, waitUntil } from '../src/testing';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let bootstrap: string;
let admin: Admin;
let producer: Producer;
const kafka = () => createKafka({ brokers: [bootstrap], clientId: 'kafka-int-test' });

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  admin = await kafka().admin();
  producer = await kafka().producer();
}, 180_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

/** Consumers of the running test; closed after it even when it failed, so jest can exit. */
const open: Consumer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
});

/** Collects batches of a consumer and commits each one after "the sink" took it. */
function collector(consumer: Consumer, opts: { commit?: boolean } = {}) {
  const batches: PartitionBatch[] = [];
  const values = () => batches.flatMap((b) => b.messages.map((m) => m.value?.toString() ?? ''));
  open.push(consumer);
  const done = consumer.run(async (batch) => {
    batches.push(batch);
    const last = batch.messages[batch.messages.length - 1];
    if (last && opts.commit !== false) await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1n }]);
  });
  return { batches, values, done };
}

describe('producer and admin', () => {
  it('creates topics idempotently, with partitions and retention', async () => {
    const topic = uniqueTopic('int-admin');
    await admin.ensureTopics([{ name: topic, partitions: 4, retentionMs: 7_200_000, configs: { 'cleanup.policy': 'delete' } }]);
    await admin.ensureTopics([{ name: topic, partitions: 4 }]); // exists: left as it is
    expect(await admin.listTopics()).toContain(topic);
    expect([...(await admin.endOffsets(topic)).keys()]).toEqual([0, 1, 2, 3]);

    const plt = new PltAdmin({ clientId: 'int-describe', bootstrapBrokers: [bootstrap] });
    try {
      const [cfg] = await plt.describeConfigs({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['retention.ms'] }] });
      expect(cfg?.configs.find((c) => c.name === 'retention.ms')?.value).toBe('7200000');
    } finally {
      await plt.close();
    }
    await admin.deleteTopics([topic, uniqueTopic('never-existed')]);
    await waitUntil('topic deleted', async () => !(await admin.listTopics()).includes(topic));
  });

  it('sends keyed records to the partition a Java producer would pick, and they read back intact', async () => {
    const topic = uniqueTopic('int-send');
    await admin.ensureTopics([{ name: topic, partitions: 6 }]);
    const keys = Array.from({ length: 60 }, (_, i) => `edge:user:${i}|follows|user:${i * 7}`);
    await producer.send(
      topic,
      keys.map((key, i) => ({ key, value: JSON.stringify({ i }), headers: { 'content-type': 'application/json' } })),
    );
    await producer.send(topic, [{ key: null, value: Buffer.from('no key') }, { key: 'explicit', value: 'p5', partition: 5 }]);

    const all = await readAll(bootstrap, topic, { count: 62, timeoutMs: 15_000 });
    expect(all).toHaveLength(62);
    for (const m of all.filter((x) => x.key && x.key.toString() !== 'explicit')) {
      expect(m.partition).toBe(partitionForKey(m.key!.toString(), 6));
      expect(m.headers['content-type']?.toString()).toBe('application/json');
    }
    // Per key, order is kept (one partition, offsets increasing in send order).
    const byKey = all.filter((m) => m.key?.toString().startsWith('edge:'));
    expect(byKey.map((m) => JSON.parse(m.value!.toString()).i).sort((a: number, b: number) => a - b)).toEqual(keys.map((_, i) => i));
    expect(all.find((m) => m.key?.toString() === 'explicit')?.partition).toBe(5);
    expect(all.find((m) => m.key === null)?.value?.toString()).toBe('no key');
    const ends = await admin.endOffsets(topic);
    expect([...ends.values()].reduce((s, o) => s + o, 0n)).toBe(62n);
  });

  it('places keys like a Java-compatible producer (kcat with murmur2_random) does', async () => {
    const topic = uniqueTopic('int-kcat');
    await admin.ensureTopics([{ name: topic, partitions: 5 }]);
    const keys = Array.from({ length: 40 }, (_, i) => `k-${i}-${'x'.repeat(i % 7)}`);
    const input = keys.map((k) => `${k}\t${k}`).join('\n') + '\n';
    const kcat = execFile('kcat', ['-P', '-b', bootstrap, '-t', topic, '-K', '\t', '-X', 'topic.partitioner=murmur2_random']);
    const exited = new Promise<number | null>((resolve, reject) => {
      kcat.on('error', (err) => reject(new Error(`kcat is needed (bash tools/scripts/install-system-deps.sh): ${err.message}`)));
      kcat.on('exit', resolve);
    });
    kcat.stdin?.end(input);
    expect(await exited).toBe(0);
    const all = await readAll(bootstrap, topic, { count: keys.length, timeoutMs: 15_000 });
    for (const m of all) expect(m.partition).toBe(partitionForKey(m.key!.toString(), 5));

    // And the other way round: what our producer wrote, kcat reads from the same partitions.
    const topic2 = uniqueTopic('int-kcat-back');
    await admin.ensureTopics([{ name: topic2, partitions: 5 }]);
    await producer.send(topic2, keys.map((key) => ({ key, value: 'v' })));
    const { stdout } = await run('kcat', ['-C', '-b', bootstrap, '-t', topic2, '-e', '-q', '-f', '%k %p\n']);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(keys.length);
    for (const line of lines) {
      const [k, p] = line.split(' ');
      expect(Number(p)).toBe(partitionForKey(k!, 5));
    }
  });
});

describe('consumer group', () => {
  it('commits after the batch and resumes from the committed offset after close and reopen', async () => {
    const topic = uniqueTopic('int-commit');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await producer.send(topic, Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })));

    const c1 = await kafka().consumer({ groupId, topics: [topic] });
    expect(c1.assignment().map((tp) => tp.partition)).toEqual([0, 1, 2]);
    const r1 = collector(c1);
    await waitUntil('30 records', () => r1.values().length === 30);
    await waitUntil('lag 0', async () => (await c1.lag()).every((l) => l.lag === 0n && l.committed !== undefined));
    expect(r1.batches.every((b) => b.highWatermark >= BigInt(b.messages.length))).toBe(true);
    expect(await admin.groupMembers(groupId)).toEqual([expect.objectContaining({ memberId: expect.any(String), clientId: expect.any(String) })]);
    await c1.close();
    await r1.done;
    expect(await admin.groupMembers(groupId)).toEqual([]);

    const committed = await admin.committedOffsets(groupId, topic);
    expect(committed).toEqual(await admin.endOffsets(topic));

    await producer.send(topic, Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })));
    const c2 = await kafka().consumer({ groupId, topics: [topic] });
    const r2 = collector(c2);
    await waitUntil('12 new records', () => r2.values().length >= 12);
    await new Promise((r) => setTimeout(r, 500));
    expect(r2.values().sort()).toEqual(Array.from({ length: 12 }, (_, i) => `second-${i}`).sort());
    await c2.close();
    await r2.done;
  });

  it('does not commit what the handler did not commit (uncommitted batches are read again)', async () => {
    const topic = uniqueTopic('int-nocommit');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await producer.send(topic, Array.from({ length: 5 }, (_, i) => ({ key: 'k', value: `v${i}` })));
    const c1 = await kafka().consumer({ groupId, topics: [topic] });
    const r1 = collector(c1, { commit: false });
    await waitUntil('5 records', () => r1.values().length === 5);
    await c1.close();
    await r1.done;
    expect((await admin.committedOffsets(groupId, topic)).size).toBe(0);

    const c2 = await kafka().consumer({ groupId, topics: [topic] });
    const r2 = collector(c2);
    await waitUntil('the same 5 again', () => r2.values().length === 5);
    expect(r2.values()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    await c2.close();
    await r2.done;
  });

  it('starts again from the earliest offset when the committed one is out of range', async () => {
    const topic = uniqueTopic('int-range');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await producer.send(topic, ['a', 'b', 'c'].map((v) => ({ key: 'k', value: v })));
    const c1 = await kafka().consumer({ groupId, topics: [topic] });
    open.push(c1);
    await c1.commit([{ topic, partition: 0, offset: 1_000n }]); // beyond the end (as after retention)
    await c1.close();
    expect((await admin.committedOffsets(groupId, topic)).get(0)).toBe(1_000n);
    const c2 = await kafka().consumer({ groupId, topics: [topic] });
    const r = collector(c2);
    await waitUntil('a, b, c from the start', () => r.values().length === 3);
    expect(r.values()).toEqual(['a', 'b', 'c']);
    await waitUntil('commit repaired', async () => (await admin.committedOffsets(groupId, topic)).get(0) === 3n);
  });

  it('rebalances between two members without losing records, and reports it', async () => {
    const topic = uniqueTopic('int-rebalance');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 4 }]);
    const eventsA: RebalanceEvent[] = [];
    const a = await kafka().consumer({ groupId, topics: [topic], onRebalance: (e) => void eventsA.push(e) });
    const ra = collector(a);
    await waitUntil('A owns 4', () => a.assignment().length === 4);

    const b = await kafka().consumer({ groupId, topics: [topic] });
    const rb = collector(b);
    await waitUntil('A and B split 4 partitions', () => a.assignment().length > 0 && b.assignment().length > 0 && a.assignment().length + b.assignment().length === 4, 20_000);
    const owned = new Set([...a.assignment(), ...b.assignment()].map((tp) => tp.partition));
    expect(owned.size).toBe(4);

    await producer.send(topic, Array.from({ length: 80 }, (_, i) => ({ key: null, value: `m${i}`, partition: i % 4 })));
    await waitUntil('80 records across A and B', () => new Set([...ra.values(), ...rb.values()]).size === 80, 20_000);
    expect(rb.values().length).toBeGreaterThan(0);
    expect(ra.values().length).toBeGreaterThan(0);

    await b.close();
    await rb.done;
    await waitUntil('A owns 4 again', () => a.assignment().length === 4, 20_000);
    await producer.send(topic, Array.from({ length: 8 }, (_, i) => ({ key: null, value: `after-${i}`, partition: i % 4 })));
    await waitUntil('A reads what comes after B left', () => ra.values().filter((v) => v.startsWith('after-')).length === 8, 20_000);
    expect(eventsA.some((e) => e.revoked.length > 0)).toBe(true);
    expect(eventsA.at(-1)?.assignment).toHaveLength(4);

    await a.close();
    await ra.done;
    const committed = await admin.committedOffsets(groupId, topic);
    expect(committed).toEqual(await admin.endOffsets(topic));
  }, 60_000);

  it('pauses and resumes single partitions, and reports lag', async () => {
    const topic = uniqueTopic('int-pause');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    const c = await kafka().consumer({ groupId, topics: [topic] });
    const r = collector(c);
    c.pause(topic, [0]);
    await producer.send(topic, Array.from({ length: 30 }, (_, i) => ({ key: null, value: `p${i % 3}-${i}`, partition: i % 3 })));
    await waitUntil('partitions 1 and 2', () => r.values().length === 20);
    await new Promise((res) => setTimeout(res, 1_000));
    expect(r.values().filter((v) => v.startsWith('p0-'))).toEqual([]);
    const lag0 = (await c.lag()).find((l) => l.partition === 0);
    expect(lag0?.paused).toBe(true);
    expect(lag0?.lag).toBe(10n);

    c.pause(topic); // the whole topic
    c.resume(topic, [0]); // still paused through the topic
    await new Promise((res) => setTimeout(res, 800));
    expect(r.values()).toHaveLength(20);
    c.resume(topic);
    await waitUntil('partition 0 after resume', () => r.values().length === 30);
    await waitUntil('lag 0', async () => (await c.lag()).every((l) => l.lag === 0n));
    await c.close();
    await r.done;
  });

  it('rejects run() when the handler throws, without committing that batch', async () => {
    const topic = uniqueTopic('int-throw');
    const groupId = `${topic}-g`;
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    await producer.send(topic, [{ key: 'k', value: 'boom' }]);
    const c = await kafka().consumer({ groupId, topics: [topic] });
    open.push(c);
    await expect(
      c.run(async () => {
        throw new Error('sink down');
      }),
    ).rejects.toThrow('sink down');
    await c.close();
    expect((await admin.committedOffsets(groupId, topic)).size).toBe(0);
  });
});

describe('retriable broker answers', () => {
  it('an answer the client flags retriable (UNKNOWN_TOPIC_OR_PARTITION from a real broker) is retryable; one it does not stays the client\'s own error', async () => {
    const plt = new PltAdmin({ clientId: 'kafka-int-retriable', bootstrapBrokers: [bootstrap], retries: 1, retryDelay: 50 });
    try {
      const err = await plt.deleteTopics({ topics: [uniqueTopic('int-never-created')] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      // The flag is the client's (no list of ours): the broker's answer carries canRetry, and we follow it.
      const answers = (e: unknown): { apiId?: unknown; canRetry?: unknown }[] => {
        const x = e as { apiId?: unknown; canRetry?: unknown; errors?: unknown[]; cause?: unknown };
        return [...(x.apiId ? [x] : []), ...(x.errors ?? []).flatMap(answers), ...(x.cause ? answers(x.cause) : [])];
      };
      expect(answers(err).map((a) => [a.apiId, a.canRetry])).toContainEqual(['UNKNOWN_TOPIC_OR_PARTITION', true]);
      expect(isUnavailability(err)).toBe(true);
      const wrapped = toKafkaError(err, 'delete topics', [bootstrap]);
      expect(wrapped).toBeInstanceOf(KafkaUnavailableError);
      expect(wrapped).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
    } finally {
      await plt.close();
    }

    // The client itself turns an unknown topic on a send into a UserError (canRetry false): not wrapped, not retryable.
    const unknown = await producer.send(uniqueTopic('int-never-created'), [{ key: 'k', value: 'v' }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(unknown).toBeInstanceOf(Error);
    expect(isKafkaUnavailable(unknown)).toBe(false);
    expect((unknown as Error).message).toMatch(/unknown topic/i);
  }, 60_000);
});

describe('unavailable broker', () => {
  const dead = () => createKafka({ brokers: ['127.0.0.1:1'], clientId: 'kafka-int-dead', requestTimeoutMs: 1_000 });

  it('fails producer(), admin() and consumer() with KafkaUnavailableError within seconds', async () => {
    for (const make of [() => dead().producer(), () => dead().admin(), () => dead().consumer({ groupId: 'g-dead', topics: ['t'] })]) {
      const t0 = Date.now();
      const err = await make().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(KafkaUnavailableError);
      expect(isKafkaUnavailable(err)).toBe(true);
      expect(err).toMatchObject({ code: 'KAFKA_UNAVAILABLE', retryable: true });
      expect((err as KafkaUnavailableError).cause).toBeDefined();
      expect(Date.now() - t0).toBeLessThan(5_000);
    }
  });

  it('a stopped broker fails a send within seconds; producer and consumer carry on once it is back', async () => {
    // A private broker (own folder, free ports), not the shared one, stopped under a working producer and consumer.
    const root = path.join(stackDir(), `it-kafka-private-${process.pid}`);
    const opts = { dir: path.join(root, 'kafka'), port: await freePort(), controllerPort: await freePort() };
    try {
      const { bootstrap: privateBootstrap } = await ensureKafka(opts);
      const k = createKafka({ brokers: [privateBootstrap], clientId: 'kafka-int-outage', requestTimeoutMs: 1_000 });
      const privAdmin = await k.admin();
      const topic = uniqueTopic('int-outage');
      await privAdmin.ensureTopics([{ name: topic, partitions: 2 }]);
      const p = await k.producer();
      const c = await k.consumer({ groupId: `${topic}-g`, topics: [topic], sessionTimeoutMs: 10_000 });
      const r = collector(c);
      await p.send(topic, [{ key: 'k', value: 'before' }]);
      await waitUntil('before', () => r.values().includes('before'));

      await stopKafka(opts);
      const t0 = Date.now();
      const err = await p.send(topic, [{ key: 'k', value: 'during' }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = Date.now() - t0;
      expect(err).toBeInstanceOf(KafkaUnavailableError);
      expect(elapsed).toBeLessThan(8_000);

      await ensureKafka(opts);
      // The same producer object works again once the broker is back (the caller retries on retryable errors).
      await waitUntil(
        'a send after the restart',
        () => p.send(topic, [{ key: 'k', value: 'after' }]).then(() => true, (e: unknown) => { if (!isKafkaUnavailable(e)) throw e; return false; }),
        60_000,
        500,
      );
      await waitUntil('the consumer reads what was sent after the restart', () => r.values().includes('after'), 60_000);
      await waitUntil('its commits land', async () => {
        const [committed, ends] = await Promise.all([privAdmin.committedOffsets(`${topic}-g`, topic), privAdmin.endOffsets(topic)]);
        return [...ends].every(([partition, end]) => end === 0n || committed.get(partition) === end);
      }, 30_000);
      expect(r.values().filter((v) => v === 'before')).toHaveLength(1);
      await c.close();
      await r.done;
      await p.close();
      await privAdmin.close();
    } finally {
      await stopKafka(opts);
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000); // a private broker started twice: the first start alone took over two minutes on a loaded machine
});
