/** Shared by the processor's integration tests and its benchmark: the processor as its own OS process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { api, freePort, repoRoot, startCoreOnFreshTopics, waitFor } from '@pipeline/testing';

export class ProcessorProcess {
  child: ChildProcess | null = null;
  output = '';
  port = 0;
  constructor(readonly env: Record<string, string>) {}

  /** Waits for readiness, or only liveness (`live`) when the core is meant to be down. */
  async start(until: 'ready' | 'live' = 'ready'): Promise<void> {
    this.output = '';
    this.port = await freePort();
    this.child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/async-processor/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', HTTP_PORT: String(this.port), HTTP_HOST: '127.0.0.1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      'the processor to be ready',
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`processor exited: ${this.output.slice(-2000)}`);
        const r = await fetch(`http://127.0.0.1:${this.port}/health/${until === 'ready' ? 'readiness' : 'liveness'}`).catch(() => undefined);
        return r?.ok;
      },
      60_000,
    );
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  exited(): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c?.exitCode ?? null);
    return new Promise((r) => c.once('exit', (code) => r(code)));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const done = this.exited();
    this.child.kill(signal);
    await done;
  }
}

/** A core on fresh WAL/CDC topics (3 partitions) and a fresh storage file. */
export const freshCore = (bootstrap: string) => startCoreOnFreshTopics(bootstrap, 'ap');

/** Recent Views: user (STRING) -> product (LONG), viewed_at, newest-first index `recent`. */
export async function createRecentViews(url: string, table: string, mode = 'ASYNC'): Promise<void> {
  await api(url, 'POST', '/graph/v3/databases', { database: 'shop' });
  const r = await api(url, 'POST', '/graph/v3/databases/shop/tables', {
    table,
    type: 'EDGE',
    schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'viewed_at', type: 'LONG', nullable: false }] },
    direction: 'BOTH',
    indexes: [{ index: 'recent', fields: [{ field: 'viewed_at', order: 'DESC' }] }],
    mode,
  });
  if (r.status !== 200) throw new Error(`create table ${table}: ${JSON.stringify(r.body)}`);
}

export const view = (user: string, product: number, at: number) => ({
  type: 'INSERT',
  edge: { version: at, source: user, target: product, properties: { viewed_at: at } },
});

export async function post(url: string, table: string, mutations: unknown[], requestId?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/graph/v3/databases/shop/tables/${table}/edges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-actor-id': 'shopper-app', ...(requestId ? { 'x-request-id': requestId } : {}) },
    body: JSON.stringify({ mutations }),
  });
  return { status: res.status, body: await res.json() };
}
