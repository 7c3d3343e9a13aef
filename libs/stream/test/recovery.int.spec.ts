/**
 * A consumer never gives up on a transient fault, on a PRIVATE broker (own folder, own free ports) that the
 * test starts, kills with SIGKILL and starts again; the shared broker is never touched. The consumer app is its
 * own process (fixtures/consumer-main.ts) with its readiness probe on a loopback port: what is checked is what
 * an orchestrator sees (the process stays up, readiness 503 with a reason while it cannot consume, 200 after)
 * and what an operator checks (every record in the sink file).
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The broker for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { kafkaStatus, startKafka, stopKafka } from '@pipeline/stack';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { uniqueTopic, waitUntil } from '@pipeline/kafka/testing';
import { keyOf, walValue } from '../src/spec-helpers';
import { ConsumerProcess, readSinkFile, REPO_ROOT } from './helpers';

const PARTITIONS = 3;
let dir: string;
let stackDir: string;
let broker: { dir: string; port: number; controllerPort: number };
let bootstrap: string;
const processes: ConsumerProcess[] = [];

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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stream-recovery-'));
  // Under the repository's git-ignored .stack, like the stack's own private-broker test.
  stackDir = join(REPO_ROOT, '.stack', `it-stream-recovery-${process.pid}`);
  broker = { dir: join(stackDir, 'kafka'), port: await freePort(), controllerPort: await freePort() };
  bootstrap = `127.0.0.1:${broker.port}`;
});

afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.running) {
      p.kill('SIGKILL');
      await p.exited();
    }
  }
});

afterAll(async () => {
  await stopKafka({ ...broker, stopTimeoutMs: 10_000 }).catch(() => undefined);
  rmSync(stackDir, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

async function withClients<T>(fn: (admin: Admin, producer: Producer) => Promise<T>): Promise<T> {
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'stream-it-recovery' });
  const admin = await kafka.admin();
  const producer = await kafka.producer();
  try {
    return await fn(admin, producer);
  } finally {
    await producer.close();
    await admin.close();
  }
}

async function produce(producer: Producer, topic: string, from: number, to: number): Promise<void> {
  const messages = [];
  for (let n = from; n < to; n++) messages.push({ key: keyOf(n), value: walValue(n), partition: n % PARTITIONS });
  await producer.send(topic, messages);
}

async function readiness(port: number): Promise<{ status: number; body: { reasons?: string[] } }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health/readiness`, { signal: AbortSignal.timeout(2_000) });
    return { status: res.status, body: (await res.json()) as { reasons?: string[] } };
  } catch {
    return { status: 0, body: {} };
  }
}

function consumerProcess(env: Record<string, string>): ConsumerProcess {
  const p = new ConsumerProcess({
    KAFKA_BROKERS: bootstrap,
    KAFKA_CLIENT_ID: 'stream-it-recovery-child',
    LOG_LEVEL: 'info',
    BATCH_MAX_WAIT_MS: '50',
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...env,
  });
  processes.push(p);
  p.start();
  return p;
}

const items = (file: string) => new Set(readSinkFile(file).flatMap((l) => (l.item !== undefined ? [l.item] : [])));
const failedAttempts = (p: ConsumerProcess) => (p.output.match(/retrying \(not ready meanwhile\)/g) ?? []).length;

describe('a consumer that never gives up', () => {
  it('started while its broker is down: keeps retrying the join, not ready and alive, and consumes once the broker is up', async () => {
    const topic = uniqueTopic('stream-recovery-down');
    const sinkFile = join(dir, 'down.jsonl');
    const httpPort = await freePort();
    const p = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: `g-${topic}`, SINK_FILE: sinkFile, HTTP_PORT: String(httpPort) });

    // Several join attempts fail while nothing listens on the broker's port; the process stays up, not ready.
    await waitUntil('three failed attempts to reach the broker', () => failedAttempts(p) >= 3, 90_000, 200);
    expect(p.running).toBe(true);
    const down = await readiness(httpPort);
    expect(down.status).toBe(503);
    expect(down.body.reasons?.join(' ')).toMatch(/consumer is starting \(attempt \d+ failed: .*retrying with backoff\)/);

    await startKafka({ ...broker, readyTimeoutMs: 120_000 });
    await withClients(async (admin, producer) => {
      await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
      await produce(producer, topic, 0, 300);
    });
    await waitUntil('all 300 records in the sink', () => items(sinkFile).size === 300, 90_000, 200);
    await waitUntil('ready', async () => (await readiness(httpPort)).status === 200, 30_000, 200);
    expect(p.running).toBe(true);
    expect(p.output).toMatch(/joined the group after failed attempts/);
  }, 300_000);

  it('its broker killed with SIGKILL while it consumes, then started again: it rejoins by itself, never exits, and every record arrives', async () => {
    const topic = uniqueTopic('stream-recovery-kill');
    const sinkFile = join(dir, 'kill.jsonl');
    const httpPort = await freePort();
    await startKafka({ ...broker, readyTimeoutMs: 120_000 });
    await withClients(async (admin, producer) => {
      await admin.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
      await produce(producer, topic, 0, 200);
    });
    const p = consumerProcess({ TOPIC: topic, CONSUMER_GROUP: `g-${topic}`, SINK_FILE: sinkFile, HTTP_PORT: String(httpPort) });
    await waitUntil('the first 200 records in the sink', () => items(sinkFile).size === 200, 90_000, 200);

    for (let round = 1; round <= 2; round++) {
      const { pid } = await kafkaStatus(broker);
      expect(pid).toBeGreaterThan(0);
      process.kill(pid!, 'SIGKILL');
      await waitUntil('the broker gone', async () => !(await kafkaStatus(broker)).running, 30_000, 200);
      // The consumer notices: readiness goes down (the member cannot heartbeat or fetch) while the process stays up.
      await waitUntil('readiness 503 while the broker is down', async () => (await readiness(httpPort)).status === 503, 60_000, 250);
      expect(p.running).toBe(true);
      await startKafka({ ...broker, readyTimeoutMs: 120_000 });
      await withClients((_admin, producer) => produce(producer, topic, 200 * round, 200 * (round + 1)));
      await waitUntil(`all ${200 * (round + 1)} records in the sink after restart ${round}`, () => items(sinkFile).size === 200 * (round + 1), 120_000, 250);
      await waitUntil('ready again', async () => (await readiness(httpPort)).status === 200, 60_000, 250);
      expect(p.running).toBe(true);
    }
  }, 420_000);
});
