/** main.ts as its own OS process (so a test can kill -9 it), and reads of what it wrote. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AlertRecordSchema, type AlertRecord } from '@pipeline/events';
import type { Admin } from '@pipeline/kafka';
import { freePort, kcatRead, waitFor } from '@pipeline/testing';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export class DetectorProcess {
  child: ChildProcess | null = null;
  output = '';
  port = 0;

  constructor(readonly env: Record<string, string>) {}

  /** Spawns main.ts and waits until it is ready (or, with `until: 'live'`, until it answers at all). */
  async start(until: 'ready' | 'live' = 'ready'): Promise<void> {
    this.port = await freePort();
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env, HTTP_PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(
      `the detector ${until} on /health/${until === 'ready' ? 'readiness' : 'liveness'}`,
      async () => {
        if (this.child?.exitCode !== null) throw new Error(`detector exited ${this.child?.exitCode}:\n${this.output.slice(-2000)}`);
        return (await this.probe(until === 'ready' ? 'readiness' : 'liveness')) === 200;
      },
      90_000,
    );
  }

  /** The status of /health/<what>; undefined when nothing answers. */
  async probe(what: 'readiness' | 'liveness'): Promise<number | undefined> {
    return (await fetch(`http://127.0.0.1:${this.port}/health/${what}`).catch(() => undefined))?.status;
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    c.kill(signal);
    return exited;
  }
}

/** Waits until the group committed every record of the topic (as the end offsets were when called). */
export async function waitCaughtUp(admin: Admin, group: string, topic: string, timeoutMs = 60_000): Promise<void> {
  const ends = await admin.endOffsets(topic);
  await waitFor(
    `${group} caught up with ${topic}`,
    async () => {
      const committed = await admin.committedOffsets(group, topic);
      return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
    },
    timeoutMs,
  );
}

/** The alerts on a topic, validated, deduplicated on alertId (delivery is at least once); how many copies there were. */
export async function readAlerts(bootstrap: string, topic: string): Promise<{ alerts: Map<string, AlertRecord>; copies: number }> {
  const alerts = new Map<string, AlertRecord>();
  const records = await kcatRead(bootstrap, topic);
  for (const r of records) {
    const a = AlertRecordSchema.parse(JSON.parse(r.payload ?? 'null'));
    alerts.set(a.alertId, a);
  }
  return { alerts, copies: records.length };
}

/** An alert without the one field a reprocessing changes. */
export const comparable = ({ emittedAt: _, ...rest }: AlertRecord) => rest;

export const LOOKUP_TOKEN = 'abuse.agent:abuse-token-Xq7vZ2mX9pL4-0001';

/** The support lookup of apps/es-indexer (ROLE=api) as its own process, reading `<prefix>-*`. */
export async function startLookup(o: { bootstrap: string; esUrl: string; prefix: string; auditFile: string }): Promise<{ url: string; stop: () => void }> {
  const [apiPort, httpPort] = [await freePort(), await freePort()];
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../es-indexer/src/main.ts', import.meta.url))], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ROLE: 'api',
      KAFKA_BROKERS: o.bootstrap,
      ES_URL: o.esUrl,
      INDEX_PREFIX: o.prefix,
      API_PORT: String(apiPort),
      API_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      LOOKUP_TOKENS: LOOKUP_TOKEN,
      AUDIT_LOG_PATH: o.auditFile,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${apiPort}`;
  await waitFor(
    'the lookup API answering',
    async () => {
      if (child.exitCode !== null) throw new Error(`lookup exited ${child.exitCode}: ${output.slice(-2000)}`);
      return (await fetch(`${url}/`).catch(() => undefined))?.ok;
    },
    90_000,
  );
  return { url, stop: () => child.kill('SIGKILL') };
}
