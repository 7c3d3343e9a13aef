/**
 * The lifecycle on real processes: small Node HTTP servers stand in for a service's JVMs (they take a port,
 * answer a readiness request, log, exit on SIGTERM or refuse to), so what is checked is the lifecycle itself:
 * pid files, detached starts, readiness, the errors, stop order, SIGKILL, clean.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { StackError } from './errors';
import { cleanService, serviceStatus, startService, stopService, type ProcessSpec, type ServiceSpec } from './lifecycle';
import { isAlive } from './process';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
    srv.on('error', reject);
  });
}

/** A server answering GET / with 200 after `delayMs`; `ignoreTerm` makes it survive SIGTERM; `crash` exits at once. */
function serverScript(port: number, opts: { delayMs?: number; ignoreTerm?: boolean; crash?: boolean; tag: string }): string {
  return [
    `// ${opts.tag}`,
    opts.crash ? "console.log('fatal: cannot open the data folder'); process.exit(3);" : '',
    opts.ignoreTerm ? "process.on('SIGTERM', () => console.log('ignoring SIGTERM'));" : "process.on('SIGTERM', () => { console.log('clean stop'); process.exit(0); });",
    `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening on ${port}')), ${opts.delayMs ?? 0});`,
  ].join('\n');
}

async function answers(port: number, timeoutMs: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
  } catch {
    return false;
  }
}

let dir: string;
const sockets: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'stack-lifecycle-'));
});
afterEach(async () => {
  // Whatever a failed test left running.
  for (const f of ['a', 'b', 'c', 'svc'].map((n) => path.join(dir, `${n}.pid`))) {
    if (!existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8'));
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const s of sockets.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function proc(
  name: string,
  port: number,
  opts: { delayMs?: number; ignoreTerm?: boolean; crash?: boolean; readyBeforeNext?: boolean; base?: string } = {},
): ProcessSpec {
  const base = opts.base ?? dir;
  const script = path.join(base, `${name}.cjs`);
  writeFileSync(script, serverScript(port, { ...opts, tag: `stack-test ${base}` }));
  return {
    name,
    ports: [{ port, env: `${name.toUpperCase()}_PORT` }],
    pidFile: path.join(base, `${name}.pid`),
    isOurs: (cmd) => cmd.includes(script),
    outFile: path.join(base, 'logs', `${name}.out`),
    command: () => ({ command: process.execPath, args: [script] }),
    ready: (ms) => answers(port, ms),
    ...(opts.readyBeforeNext ? { readyBeforeNext: true } : {}),
  };
}

function spec(processes: ProcessSpec[], over: Partial<ServiceSpec> = {}): ServiceSpec & { messages: string[] } {
  const messages: string[] = [];
  const ports = processes.map((p) => p.ports[0]!.port);
  return {
    service: 'svc',
    title: 'the test service',
    dir,
    address: `127.0.0.1:${ports[0]}`,
    processes,
    ready: async (ms) => (await Promise.all(ports.map((p) => answers(p, ms)))).every(Boolean),
    readyTimeoutMs: 10_000,
    stopTimeoutMs: 5_000,
    pollMs: 50,
    cleanPaths: [path.join(dir, 'logs')],
    progress: (m) => messages.push(m),
    messages,
    ...over,
  };
}

describe('one process', () => {
  it('starts detached with a pid file and its output in a log, once, however many callers ask at once', async () => {
    const port = await freePort();
    const s = spec([proc('svc', port, { delayMs: 300 })]);
    const results = await Promise.all([1, 2, 3].map(() => startService(s)));
    expect(results.filter((r) => r.started)).toHaveLength(1);
    const pid = results.find((r) => r.started)!.pids['svc']!;
    expect(results.map((r) => r.pids['svc'])).toEqual([pid, pid, pid]);
    expect(readFileSync(path.join(dir, 'svc.pid'), 'utf8').trim()).toBe(String(pid));
    expect(readFileSync(path.join(dir, 'logs', 'svc.out'), 'utf8')).toContain(`listening on ${port}`);
    expect(s.messages.some((m) => m.startsWith(`ready at 127.0.0.1:${port} in`))).toBe(true);
    expect(await serviceStatus(s)).toEqual({ running: true, pids: { svc: pid }, down: [], foreign: false });

    const stop = await stopService(s);
    expect(stop).toEqual({ stopped: ['svc'], pids: { svc: pid }, how: 'terminated' });
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(path.join(dir, 'svc.pid'))).toBe(false);
    expect(readFileSync(path.join(dir, 'logs', 'svc.out'), 'utf8')).toContain('clean stop');
    expect(await serviceStatus(s)).toEqual({ running: false, pids: {}, down: ['svc'], foreign: false });
    expect(await stopService(s)).toEqual({ stopped: [], pids: {} });
    expect(s.messages.at(-1)).toBe('not running');
  });

  it('kills what ignores SIGTERM once the stop timeout has passed', async () => {
    const s = spec([proc('svc', await freePort(), { ignoreTerm: true })], { stopTimeoutMs: 500 });
    const { pids } = await startService(s);
    const stop = await stopService(s);
    expect(stop.how).toBe('killed');
    expect(isAlive(pids['svc']!)).toBe(false);
    expect(s.messages).toContain('did not stop in time: killed');
  });

  it('says at once when the process exits during start-up, with its last log lines and what to do', async () => {
    const s = spec([proc('svc', await freePort(), { crash: true })], { readyTimeoutMs: 60_000, hint: 'read the logs, then up again' });
    const t0 = Date.now();
    const err = await startService(s).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(err).toBeInstanceOf(StackError);
    expect((err as Error).message).toContain('svc: svc exited during start-up');
    expect((err as Error).message).toContain('fatal: cannot open the data folder');
    expect((err as Error).message).toContain('What to do: read the logs, then up again');
    expect(existsSync(path.join(dir, 'svc.pid'))).toBe(false);
  });

  it('gives up after the ready timeout, stops what it started, and said meanwhile that it was waiting', async () => {
    const port = await freePort();
    const s = spec([proc('svc', port, { delayMs: 60_000 })], { readyTimeoutMs: 16_000 });
    const err = await startService(s).catch((e: unknown) => e);
    expect((err as Error).message).toContain('the test service did not answer within 16 s');
    expect(s.messages.some((m) => /^still waiting for 127\.0\.0\.1:\d+ \(1\d s of 16 s\)$/.test(m))).toBe(true);
    const pid = Number(/started the test service \(pid (\d+)\)/.exec(s.messages.join('\n'))?.[1]);
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(path.join(dir, 'svc.pid'))).toBe(false);
  }, 30_000);

  it('uses a ready service another folder started on its port, and refuses a port held by something else', async () => {
    const port = await freePort();
    const otherDir = mkdtempSync(path.join(tmpdir(), 'stack-lifecycle-other-'));
    const other = spec([proc('svc', port, { base: otherDir })], { dir: otherDir });
    const { pids } = await startService(other);
    try {
      const mine = spec([proc('svc', port)]);
      expect(await startService(mine)).toEqual({ pids: {}, started: false, foreign: true });
      expect(await serviceStatus(mine)).toMatchObject({ running: true, foreign: true });
      expect(await stopService(mine)).toEqual({ stopped: [], pids: {} });
      expect(isAlive(pids['svc']!)).toBe(true);
    } finally {
      await stopService(other);
      rmSync(otherDir, { recursive: true, force: true });
    }

    const holder = createServer().listen(port, '127.0.0.1');
    sockets.push(holder);
    await new Promise((r) => holder.once('listening', r));
    const err = await startService(spec([proc('svc', port)])).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`port ${port} (svc) on 127.0.0.1 is taken by a process this stack folder did not start`);
    expect((err as Error).message).toContain('pick another with SVC_PORT');
  });

  it('ignores a pid file whose process is not its own (pids are reused)', async () => {
    const s = spec([proc('svc', await freePort())]);
    writeFileSync(path.join(dir, 'svc.pid'), `${process.pid}\n`);
    expect((await serviceStatus(s)).pids).toEqual({});
    expect(existsSync(path.join(dir, 'svc.pid'))).toBe(false);
    expect(await stopService(s)).toEqual({ stopped: [], pids: {} });
    expect(isAlive(process.pid)).toBe(true);
  });

  it('clean stops it and deletes what the service names', async () => {
    const s = spec([proc('svc', await freePort())]);
    await startService(s);
    expect(existsSync(path.join(dir, 'logs'))).toBe(true);
    expect((await cleanService(s)).stopped).toEqual(['svc']);
    expect(existsSync(path.join(dir, 'logs'))).toBe(false);
  });

  it('runs prepare only when something starts', async () => {
    let prepared = 0;
    const s = spec([proc('svc', await freePort())], {
      prepare: async () => {
        prepared++;
      },
    });
    await startService(s);
    await startService(s);
    expect(prepared).toBe(1);
    await stopService(s);
  });
});

describe('several processes', () => {
  it('waits for a process others need before starting the next, restarts only what is gone, stops in reverse', async () => {
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    const s = spec([proc('a', pa, { delayMs: 500, readyBeforeNext: true }), proc('b', pb), proc('c', pc)]);
    const first = await startService(s);
    expect(Object.keys(first.pids)).toEqual(['a', 'b', 'c']);
    const started = s.messages.filter((m) => m.startsWith('started '));
    expect(started.map((m) => m.split(' ')[1])).toEqual(['a', 'b', 'c']);
    // b was started only once a answered.
    expect(s.messages.indexOf(started[1]!)).toBeGreaterThan(s.messages.findIndex((m) => m.startsWith('started a')));

    process.kill(-first.pids['b']!, 'SIGKILL');
    for (const deadline = Date.now() + 10_000; isAlive(first.pids['b']!) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    const st = await serviceStatus(s);
    expect(st).toMatchObject({ running: false, down: ['b'] });
    expect(st.pids).toEqual({ a: first.pids['a'], c: first.pids['c'] });

    s.messages.length = 0;
    const again = await startService(s);
    expect(again.started).toBe(true);
    expect(s.messages.filter((m) => m.startsWith('started ')).map((m) => m.split(' ')[1])).toEqual(['b']);
    expect(again.pids['a']).toBe(first.pids['a']);
    expect(again.pids['b']).not.toBe(first.pids['b']);

    s.messages.length = 0;
    const stop = await stopService(s);
    expect(stop.stopped).toEqual(['c', 'b', 'a']);
  });

  it('stops the processes it started when one of them fails', async () => {
    const [pa, pb] = [await freePort(), await freePort()];
    const s = spec([proc('a', pa, { readyBeforeNext: true }), proc('b', pb, { crash: true })]);
    const err = await startService(s).catch((e: unknown) => e);
    expect((err as Error).message).toContain('b exited during start-up');
    expect((err as Error).message).toContain(path.join(dir, 'logs', 'b.out'));
    const a = Number(/started a \(pid (\d+)\)/.exec(s.messages.join('\n'))?.[1]);
    expect(isAlive(a)).toBe(false);
    expect((await serviceStatus(s)).pids).toEqual({});
  });
});
