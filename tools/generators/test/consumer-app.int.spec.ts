/**
 * The real generator, run the documented way (`npx nx g @pipeline/generators:consumer-app`), into a
 * temporary copy of the workspace: a CDC app and a WAL app, each of which must then build, typecheck, lint
 * and pass its own unit tests and its integration tests on the real Kafka, and whose bundle must start.
 * The copy is removed afterwards, failure or not; the shared apps/ and docker/ are never written.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createKafka } from '@pipeline/kafka';
import { uniqueTopic } from '@pipeline/kafka/testing';
import { ensureKafka } from '@pipeline/stack';
import { freePort } from '@pipeline/testing';
import { kafkaPasswordVar } from '../src/generators/consumer-app/compose';
import { copyWorkspace, listApps, removeWorkspace, REPO_ROOT } from './workspace-copy';

const suffix = Date.now().toString(36);
const CDC_APP = `gen-cdc-${suffix}`;
const WAL_APP = `gen-wal-${suffix}`;
let dir: string;
let bootstrap: string;
/** The WAL app's --port: its serve target's HTTP_PORT. */
let walPort: number;

const nxEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  FORCE_COLOR: '0',
  NX_SKIP_NX_CACHE: 'true',
  // The copy has no .stack of its own: use the broker of the real workspace (started by beforeAll).
  STACK_DIR: process.env['STACK_DIR'] ?? join(REPO_ROOT, '.stack'),
});

/** Runs a command in the copy; throws with its output when it fails. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, {
    cwd: dir,
    encoding: 'utf8',
    env: nxEnv(),
    maxBuffer: 64 * 1024 * 1024,
    timeout: 150_000,
  });
  // eslint-disable-next-line no-control-regex
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '');
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${output.slice(-4000)}`);
  return output;
}

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  walPort = await freePort();
  dir = copyWorkspace();
}, 180_000);

afterAll(() => {
  if (dir) removeWorkspace(dir);
  // Nothing of the generated apps may reach the shared tree.
  expect(existsSync(join(REPO_ROOT, 'apps', CDC_APP))).toBe(false);
  expect(readFileSync(join(REPO_ROOT, 'docker/compose.yaml'), 'utf8')).not.toContain(suffix);
});

describe('nx g @pipeline/generators:consumer-app (real generator, copy of the workspace)', () => {
  it('generates a CDC and a WAL app, with their compose services and health paths', () => {
    run('npx', ['nx', 'g', '@pipeline/generators:consumer-app', CDC_APP, '--topic', 'cdc', '--no-interactive']);
    run('npx', ['nx', 'g', '@pipeline/generators:consumer-app', WAL_APP, '--topic=wal', `--port=${walPort}`, '--no-interactive']);
    expect(listApps(dir)).toEqual([CDC_APP, WAL_APP].sort());
    const compose = parse(readFileSync(join(dir, 'docker/compose.yaml'), 'utf8'), { merge: true });
    expect(compose.services[CDC_APP].build.args).toEqual({ APP: CDC_APP });
    expect(compose.services[WAL_APP].environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', WAL_TOPIC: 'actionbase.wal' });
    const health = JSON.parse(readFileSync(join(dir, 'docker/health-paths.json'), 'utf8'));
    expect([health[CDC_APP], health[WAL_APP]]).toEqual(['/health/readiness', '/health/readiness']);
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')).packages;
    expect([lock[`apps/${CDC_APP}`]?.name, lock[`node_modules/@pipeline/${WAL_APP}`]?.resolved]).toEqual([`@pipeline/${CDC_APP}`, `apps/${WAL_APP}`]);
    // The same check docker/src/compose.spec.ts makes, by the tool compose users run.
    run('docker-compose', ['-f', 'docker/compose.yaml', 'config', '-q']);
  }, 120_000);

  it("passes docker/'s checks of compose.secure.yaml and prometheus.yml as generated: own Kafka principal, scraped", () => {
    // Only those parts: the copy holds the generated apps alone, so the checks that compare compose.yaml with
    // apps/ belong to the real tree.
    const out = run('npx', ['nx', 'test', 'docker', '--outputStyle=stream', '--testNamePattern=compose.secure.yaml|prometheus.yml']);
    for (const app of [CDC_APP, WAL_APP]) expect(out).toContain(`✓ ${app}: scraped on its probe port`);
    expect(out).toMatch(new RegExp(`${CDC_APP}: its own SCRAM principal`));
    expect(out).toMatch(new RegExp(`${WAL_APP}: its own SCRAM principal`));
    expect(out).toMatch(new RegExp(`refuses to start without ${kafkaPasswordVar(WAL_APP)}`));
    expect(out).toMatch(/Tests:\s+\d+ skipped, \d+ passed, \d+ total/); // run() has thrown on any failure
  }, 170_000);

  it('builds, typechecks, lints and passes its unit tests as generated', () => {
    const out = run('npx', ['nx', 'run-many', '-t', 'build', 'typecheck', 'lint', 'test', '-p', CDC_APP, WAL_APP, '--parallel=2']);
    expect(out).toMatch(/Successfully ran targets build, typecheck, lint, test for 2 projects/);
    for (const app of [CDC_APP, WAL_APP]) {
      expect(existsSync(join(dir, 'dist/apps', app, 'main.js'))).toBe(true);
      expect(existsSync(join(dir, 'dist/apps', app, 'package.json'))).toBe(true);
    }
  }, 170_000);

  it('passes its integration tests on the real Kafka (records produced to a fresh topic reach the sink)', () => {
    const out = run('npx', ['nx', 'run-many', '-t', 'test-integration', '-p', CDC_APP, WAL_APP, '--parallel=1']);
    expect(out).toMatch(/Successfully ran target test-integration for 2 projects/);
    expect(out.match(/Tests:\s+2 passed, 2 total/g)?.length).toBe(2);
  }, 170_000);

  it('serves with `npx nx serve <app>` against the local Kafka: ready on its --port, drains on SIGTERM', async () => {
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'generators-int-test' }).admin();
    const topic = uniqueTopic(`${WAL_APP}-serve`);
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    // The serve target fixes KAFKA_BROKERS and HTTP_PORT; topic and group come from the environment.
    const child = spawn('npx', ['nx', 'serve', WAL_APP, '--outputStyle=stream'], {
      cwd: dir,
      env: { ...nxEnv(), WAL_TOPIC: topic, CONSUMER_GROUP: topic },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: nx, tsx and the app get the signal together, as from a terminal
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    // 'close', not 'exit': npx can exit before the app it started has written its last lines; the pipes
    // close only when every process holding them (nx, tsx, the app) is gone.
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`nx serve exited ${child.exitCode}:\n${output.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${walPort}/health/readiness`).catch(() => undefined);
        if (r?.status === 200) break;
        if (Date.now() > deadline) throw new Error(`nx serve not ready after 60 s:\n${output.slice(-2000)}`);
        await new Promise((res) => setTimeout(res, 200));
      }
      expect(output).toContain(`"topic":"${topic}"`);
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      expect(output).toContain('"msg":"sink flushed"');
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      await admin.deleteTopics([topic, `${topic}.dlq`]).catch(() => undefined);
      await admin.close();
    }
  }, 90_000);

  it('runs its esbuild bundle (what the image runs): ready on /health/readiness, exits 0 on SIGTERM', async () => {
    const port = await freePort();
    // A fresh topic: the shared actionbase.cdc is not this test's to consume.
    const admin = await createKafka({ brokers: [bootstrap], clientId: 'generators-int-test' }).admin();
    const topic = uniqueTopic(`${CDC_APP}-bundle`);
    await admin.ensureTopics([{ name: topic, partitions: 1 }]);
    const child = spawn(process.execPath, [join(dir, 'dist/apps', CDC_APP, 'main.js')], {
      cwd: dir,
      env: { ...process.env, KAFKA_BROKERS: bootstrap, CONSUMER_GROUP: topic, CDC_TOPIC: topic, HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`bundle exited ${child.exitCode}:\n${output.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${port}/health/readiness`).catch(() => undefined);
        if (r?.status === 200) break;
        if (Date.now() > deadline) throw new Error(`bundle not ready after 30 s:\n${output.slice(-2000)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"sink flushed"');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await admin.deleteTopics([topic, `${topic}.dlq`]).catch(() => undefined);
      await admin.close();
    }
  }, 60_000);
});
