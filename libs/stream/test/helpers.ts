/** Shared by the integration tests of libs/stream. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import type { DecodedRecord, Sink } from '../src/index';
import { SinkError } from '../src/index';
import { itemOf } from '../src/spec-helpers';
import type { SinkLine } from './fixtures/file-sink';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONSUMER_MAIN = fileURLToPath(new URL('./fixtures/consumer-main.ts', import.meta.url));

/** An in-memory sink for in-process tests; `down` makes every write fail with a retryable SinkError. */
export class MemorySink implements Sink<WalRecord | CdcRecord> {
  received: DecodedRecord[] = [];
  failedWrites = 0;
  down = false;
  started = false;

  async start(): Promise<void> {
    this.started = true;
  }

  async write(batch: DecodedRecord[]): Promise<void> {
    if (this.down) {
      this.failedWrites++;
      throw new SinkError('SINK_UNAVAILABLE', 'test sink is down', { retryable: true });
    }
    this.received.push(...batch);
  }

  items(): number[] {
    return this.received.map((d) => itemOf(d.record));
  }

  /** Offsets written per partition. */
  offsets(partition: number): Set<bigint> {
    return new Set(this.received.filter((d) => d.partition === partition).map((d) => d.offset));
  }
}

export function readSinkFile(path: string): SinkLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as SinkLine];
      } catch {
        return []; // a line cut by kill -9
      }
    });
}

/** A consumer app (fixtures/consumer-main.ts) in its own process, so a test can kill -9 it. */
export class ConsumerProcess {
  child: ChildProcess | undefined;
  output = '';

  constructor(private readonly env: Record<string, string>) {}

  start(): void {
    this.output = '';
    this.child = spawn(process.execPath, ['--import', 'tsx', CONSUMER_MAIN], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code (null when killed by a signal). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const c = this.child;
    if (!c) return Promise.resolve({ code: null, signal: null });
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
    return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
  }

  kill(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** The last lines of its log, for failure messages. */
  tail(n = 30): string {
    return this.output.split('\n').slice(-n).join('\n');
  }
}
