/**
 * A consumer app in its own OS process (fixtures/consumer-main.ts, file-backed sink) against the real Kafka:
 * kill -9 in the middle of a batch, and SIGTERM under load. What is checked is what an operator would check:
 * the sink file against the topic, and the group's committed offsets against the sink file.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The broker for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureKafka } from '@pipeline/stack';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { keyOf, walHeartbeat, walValue } from '../src/spec-helpers';
import { ConsumerProcess, readSinkFile } from './helpers';
import type { SinkLine } from './fixtures/file-sink';

const PARTITIONS = 3;
let bootstrap: string;
let admin: Admin;
let producer: Producer;
let dir: string;
const processes: ConsumerProcess[] = [];

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'stream-int-process' });
  admin = await kafka.admin();
  producer = await kafka.producer();
  dir = mkdtempSync(join(tmpdir(), 'stream-it-'));
}, 180_000);

afterEach(async () => {
  // A failed test must not leave a consumer running.
  for (const p of processes.splice(0)) {
    if (p.running) {
      p.kill('SIGKILL');
      await p.exited();
    }
  }
});

afterAll(async () => {
  await producer?.close();
  await admin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Item n goes to partition n % PARTITIONS; every 25th message of a partition is a heartbeat (skipped, committed). */
async function produce(topic: string, from: number, to: number): Promise<void> {
  const messages = [];
  for (let n = from; n < to; n++) {
    messages.push({ key: keyOf(n), value: walValue(n), partition: n % PARTITIONS });
    if (n % 25 === 0) messages.push({ key: 'core-1:heartbeat', value: walHeartbeat(n), partition: n % PARTITIONS });
  }
  await producer.send(topic, messages);
}

function consumerProcess(env: Record<string, string>): ConsumerProcess {
  const p = new ConsumerProcess({
    KAFKA_BROKERS: bootstrap,
    KAFKA_CLIENT_ID: 'stream-it-child',
    LOG_LEVEL: 'warn',
    HTTP_PORT: '0',
    BATCH_MAX_WAIT_MS: '50',
    RETRY_BASE_MS: '50',
    RETRY_MAX_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...env,
  });
  processes.push(p);
  p.start();
  return p;
}

const records = (lines: SinkLine[]) => lines.filter((l) => l.item !== undefined);

/** Items written to the sink, with how many times each was. */
function deliveries(lines: SinkLine[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of records(lines)) out.set(l.item!, (out.get(l.item!) ?? 0) + 1);
  return out;
}

/**
 * The rule the runtime exists for: below the committed offset of a partition, every data record was written.
 * Heartbeats are not written, so only the data offsets are checked (they are known from the produce order).
 */
async function expectNothingCommittedUnwritten(group: string, topic: string, lines: SinkLine[], dataOffsets: Map<number, Set<bigint>>) {
  const written = new Map<number, Set<bigint>>();
  for (const l of records(lines)) {
    if (!written.has(l.p!)) written.set(l.p!, new Set());
    written.get(l.p!)!.add(BigInt(l.o!));
  }
  const committed = await admin.committedOffsets(group, topic);
  for (const [partition, offsets] of dataOffsets) {
    const upTo = committed.get(partition) ?? 0n;
    const missing = [...offsets].filter((o) => o < upTo && !written.get(partition)?.has(o));
    expect({ partition, committedPastUnwritten: missing }).toEqual({ partition, committedPastUnwritten: [] });
  }
  return committed;
}

/** Data offsets per partition, from the produce order (one heartbeat after every 25th item). */
function dataOffsetsOf(total: number): Map<number, Set<bigint>> {
  const next = new Map<number, bigint>();
  const out = new Map<number, Set<bigint>>();
  for (let n = 0; n < total; n++) {
    const p = n % PARTITIONS;
    const o = next.get(p) ?? 0n;
    if (!out.has(p)) out.set(p, new Set());
    out.get(p)!.add(o);
    next.set(p, o + (n % 25 === 0 ? 2n : 1n));
  }
  return out;
}

describe('a consumer process', () => {
  it('killed with SIGKILL in the middle of a batch, then restarted: every record reaches the sink at least once, none is skipped', async () => {
    const topic = uniqueTopic('stream-kill');
    const group = uniqueTopic('g-kill');
    const file = join(dir, `${group}.jsonl`);
    const total = 300;
    await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    await produce(topic, 0, total);

    const first = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: group, SINK_FILE: file, BATCH_MAX_RECORDS: '25', MID_BATCH_PAUSE_MS: '300' });
    // Some batches done (and committed), and the current one half written: the process is inside write().
    await waitUntil(
      `a batch half written (log: ${first.tail()})`,
      () => {
        const lines = readSinkFile(file);
        const last = lines[lines.length - 1];
        return lines.filter((l) => l.end).length >= 2 && last !== undefined && !last.end;
      },
      60_000,
      5,
    );
    first.kill('SIGKILL');
    expect(await first.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    const afterKill = readSinkFile(file);
    expect(afterKill[afterKill.length - 1]!.end).toBeUndefined();
    const committedAtKill = await expectNothingCommittedUnwritten(group, topic, afterKill, dataOffsetsOf(total));
    expect([...committedAtKill.values()].some((o) => o > 0n)).toBe(true);
    expect(deliveries(afterKill).size).toBeLessThan(total);

    const second = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: group, SINK_FILE: file, BATCH_MAX_RECORDS: '25' });
    await waitUntil(`every record in the sink (log: ${second.tail()})`, () => deliveries(readSinkFile(file)).size === total, 60_000);
    second.kill('SIGTERM');
    expect(await second.exited()).toEqual({ code: 0, signal: null });

    const lines = readSinkFile(file);
    const seen = deliveries(lines);
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    // The half-written batch was not committed, so its first half came again after the restart: at least once.
    expect([...seen.values()].some((n) => n > 1)).toBe(true);
    const committed = await expectNothingCommittedUnwritten(group, topic, lines, dataOffsetsOf(total));
    expect(committed).toEqual(await admin.endOffsets(topic));
  });

  it('on SIGTERM under load it drains and exits 0: every record it handed to the sink is committed, the rest comes on the next start', async () => {
    const topic = uniqueTopic('stream-term');
    const group = uniqueTopic('g-term');
    const file = join(dir, `${group}.jsonl`);
    await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    let produced = 0;
    await produce(topic, 0, (produced = 60));

    const first = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: group, SINK_FILE: file, BATCH_MAX_RECORDS: '20', MID_BATCH_PAUSE_MS: '40' });
    // Load: records keep coming while the process works and while it drains.
    let loading = true;
    const load = (async () => {
      while (loading) {
        await produce(topic, produced, produced + 10);
        produced += 10;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      await waitUntil(`100 records written (log: ${first.tail()})`, () => records(readSinkFile(file)).length >= 100, 60_000);
      first.kill('SIGTERM');
      const exit = await first.exited();
      expect({ exit, log: exit.code === 0 ? '' : first.tail() }).toEqual({ exit: { code: 0, signal: null }, log: '' });
    } finally {
      loading = false;
      await load;
    }

    const handedOut = readSinkFile(file);
    expect(handedOut[handedOut.length - 1]!.end).toBe(true); // the batch in flight at SIGTERM was finished
    const committed = await expectNothingCommittedUnwritten(group, topic, handedOut, dataOffsetsOf(produced));
    // Drained: every record written before the exit is below its partition's committed offset.
    for (const l of records(handedOut)) expect(BigInt(l.o!)).toBeLessThan(committed.get(l.p!) ?? 0n);
    expect(deliveries(handedOut).size).toBeLessThan(produced); // it stopped under load, with records left to read

    const second = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: group, SINK_FILE: file, BATCH_MAX_RECORDS: '20' });
    await waitUntil(`every record in the sink (log: ${second.tail()})`, () => deliveries(readSinkFile(file)).size === produced, 60_000);
    second.kill('SIGTERM');
    expect(await second.exited()).toEqual({ code: 0, signal: null });
    const seen = deliveries(readSinkFile(file));
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: produced }, (_, i) => i));
    // A clean stop committed everything it wrote, so the restart re-delivered nothing.
    expect([...seen.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(await admin.committedOffsets(group, topic)).toEqual(await admin.endOffsets(topic));
  });
});
