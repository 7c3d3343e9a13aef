/**
 * The stack's Kafka for real: a private broker (own folder under .stack/, own free ports), so the shared
 * one that other suites use is not touched. Started through the CLI (which exits), checked, used with a
 * client from outside the project (kcat), stopped.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Admin } from '@platformatic/kafka';
import { ensureKafka, kafkaStatus, repoRoot, stackDir, startKafka, stopKafka, StackError } from '../src/index';

const exec = promisify(execFile);

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

const root = repoRoot();
const cli = path.join(root, 'tools/stack/src/cli.ts');
const testStack = path.join(stackDir(), `it-stack-${process.pid}`);
const dir = path.join(testStack, 'kafka');
let port: number;
let controllerPort: number;
let env: NodeJS.ProcessEnv;

async function runCli(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('npx', ['tsx', cli, ...args], { cwd: root, env, timeout: 170_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  port = await freePort();
  controllerPort = await freePort();
  env = { ...process.env, STACK_DIR: testStack, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort) };
});

afterAll(async () => {
  await stopKafka({ dir, port, controllerPort });
  await rm(testStack, { recursive: true, force: true });
});

describe('stack kafka', () => {
  it('up through the CLI: the broker outlives the CLI and answers', async () => {
    const up = await runCli('up', 'kafka');
    expect(up.out).toContain(`ready at 127.0.0.1:${port}`);
    expect(up.code).toBe(0);

    const status = await kafkaStatus({ dir, port, controllerPort });
    expect(status).toMatchObject({ running: true, bootstrap: `127.0.0.1:${port}` });
    expect(status.pid).toBeGreaterThan(0);
    expect(readFileSync(path.join(dir, 'kafka.pid'), 'utf8').trim()).toBe(String(status.pid));

    const cliStatus = await runCli('status', 'kafka');
    expect(cliStatus.code).toBe(0);
    expect(cliStatus.out).toContain(`kafka: running at 127.0.0.1:${port} (pid ${status.pid})`);
    // The broker logs through log4j2 to logs/server.log.
    expect(readFileSync(path.join(dir, 'logs', 'server.log'), 'utf8')).toContain('Kafka Server started');
  }, 180_000);

  it('is idempotent, also when several callers ensure it at once', async () => {
    const before = await kafkaStatus({ dir, port, controllerPort });
    const results = await Promise.all([1, 2, 3].map(() => ensureKafka({ dir, port, controllerPort })));
    expect(results.map((r) => r.bootstrap)).toEqual(Array(3).fill(`127.0.0.1:${port}`));
    const again = await startKafka({ dir, port, controllerPort });
    expect(again.started).toBe(false);
    expect((await kafkaStatus({ dir, port, controllerPort })).pid).toBe(before.pid);
  });

  it('serves a topic created with an admin client, written and read with kcat', async () => {
    const bootstrap = `127.0.0.1:${port}`;
    const topic = `stack-it-${Date.now()}`;
    const admin = new Admin({ clientId: 'stack-it', bootstrapBrokers: [bootstrap] });
    try {
      await admin.createTopics({ topics: [topic], partitions: 2, replicas: 1 });
    } finally {
      await admin.close();
    }
    const producer = execFile('kcat', ['-P', '-b', bootstrap, '-t', topic, '-K', ':']);
    const exited = new Promise<number | null>((resolve, reject) => {
      producer.on('error', (err) => reject(new Error(`kcat is needed (bash tools/scripts/install-system-deps.sh): ${err.message}`)));
      producer.on('exit', resolve);
    });
    producer.stdin?.end('a:one\nb:two\nc:three\n');
    expect(await exited).toBe(0);
    const { stdout } = await exec('kcat', ['-C', '-b', bootstrap, '-t', topic, '-e', '-q', '-f', '%k=%s\n'], { timeout: 30_000 });
    expect(stdout.trim().split('\n').sort()).toEqual(['a=one', 'b=two', 'c=three']);
    // auto.create.topics.enable=false: an unknown topic is not created by a consumer asking for it.
    await exec('kcat', ['-L', '-b', bootstrap, '-t', `${topic}-absent`], { timeout: 30_000 }).catch(() => undefined);
    const { stdout: md } = await exec('kcat', ['-L', '-b', bootstrap], { timeout: 30_000 });
    expect(md).not.toContain(`${topic}-absent`);
  }, 60_000);

  it('down stops it (SIGTERM, clean shutdown) and status says so', async () => {
    const { pid } = await kafkaStatus({ dir, port, controllerPort });
    const down = await runCli('down', 'kafka');
    expect(down.code).toBe(0);
    expect(down.out).toContain('stopped');
    expect(await kafkaStatus({ dir, port, controllerPort })).toEqual({ running: false, bootstrap: `127.0.0.1:${port}` });
    expect(existsSync(path.join(dir, 'kafka.pid'))).toBe(false);
    expect(() => process.kill(pid!, 0)).toThrow();
    expect(readFileSync(path.join(dir, 'logs', 'server.log'), 'utf8')).toContain('shut down completed');
    const status = await runCli('status', 'kafka');
    expect(status.code).toBe(3);
    expect(status.out).toContain('not running');
  }, 60_000);

  it('starts again from the cache: no Maven run, data kept', async () => {
    const mavenLog = path.join(dir, 'maven.log');
    const before = readFileSync(mavenLog, 'utf8');
    const messages: string[] = [];
    const r = await startKafka({ dir, port, controllerPort, onProgress: (m) => messages.push(m) });
    expect(r.started).toBe(true);
    expect(messages.some((m) => m.includes('resolving'))).toBe(false);
    expect(messages.some((m) => m.includes('formatting'))).toBe(false);
    expect(readFileSync(mavenLog, 'utf8')).toBe(before);
    await stopKafka({ dir, port, controllerPort });
  }, 120_000);

  it('says what failed and what to do when the Kafka version cannot be downloaded', async () => {
    const badDir = path.join(testStack, 'kafka-bad');
    const err = await startKafka({ dir: badDir, port: await freePort(), controllerPort: await freePort(), version: '4.99.99' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackError);
    const msg = (err as Error).message;
    expect(msg).toContain('org.apache.kafka:kafka_2.13:4.99.99');
    expect(msg).toContain('What to do');
    expect(msg).toContain('KAFKA_VERSION');
    expect(existsSync(path.join(badDir, 'lib'))).toBe(false);
  }, 180_000);
});
