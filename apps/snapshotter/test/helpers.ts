/**
 * Integration-test helpers: the snapshotter as a child process (so tests can kill -9 it), the independent
 * Python readers (pyiceberg, pyarrow) from the stack's venv, and the core's view of its active edges.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { services, stackDir } from '@pipeline/stack';
import { api, repoRoot, tempDir as testingTempDir, waitFor } from '@pipeline/testing';

const run = promisify(execFile);
const here = import.meta.dirname;

export async function ensurePython(): Promise<string> {
  await services['pyiceberg']!.up(() => undefined);
  return path.join(stackDir(), 'venv', 'bin', 'python');
}

export interface IcebergRead {
  metadata: string;
  formatVersion: number;
  schema: [number, string, string, boolean][];
  current: number | null;
  summary: Record<string, string> | null;
  rows: IcebergRow[];
  snapshots?: { id: number; parent: number | null; summary: Record<string, string>; rows: IcebergRow[] }[];
  snapshotLog?: number[];
}

export interface IcebergRow {
  source: string;
  target: string;
  edge_id: string | null;
  active: boolean;
  version: number;
  created_at: number | null;
  deleted_at: number | null;
  seq: number;
  properties: string | null;
  updated_at_ms: string;
}

async function py<T>(python: string, script: string, args: string[]): Promise<T> {
  const { stdout } = await run(python, [path.join(here, script), ...args], { maxBuffer: 512 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

export const readIceberg = (python: string, location: string, snapshots = false) =>
  py<IcebergRead>(python, 'read_iceberg.py', [location, ...(snapshots ? ['--snapshots'] : [])]);

export const checkFiles = (python: string, metadataFile: string) =>
  py<{ snapshots: number; files: number; problems: string[] }>(python, 'check_files.py', [metadataFile]);

export const readChangeLog = (python: string, dir: string) =>
  py<{ files: number; rows: number; coordinates: [number, number][]; tables: Record<string, number>; hours: string[]; seqs: (number | null)[]; statuses: Record<string, number>; schema: string[] }>(
    python,
    'read_changelog.py',
    [dir],
  );

export class SnapshotterProcess {
  child: ChildProcess | null = null;
  output = '';
  constructor(readonly env: Record<string, string>) {}

  start(extraEnv: Record<string, string> = {}): void {
    this.output = '';
    this.child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/snapshotter/src/main.ts')], {
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'info', HTTP_PORT: '0', ...this.env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
  }

  /**
   * Waits until the process logged `pattern` (default: it consumes); on timeout the error carries how the process
   * ended, if it did, and the end of its output, so a slow start and a crash read differently in a CI log.
   */
  async waitForLog(what: string, pattern: RegExp | string = '"msg":"consuming"', timeoutMs = 60_000): Promise<void> {
    const seen = () => (typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output));
    try {
      await waitFor(what, async () => seen(), timeoutMs);
    } catch (err) {
      const c = this.child;
      const ended = c && (c.exitCode !== null || c.signalCode !== null) ? `exited (code ${c.exitCode}, signal ${c.signalCode})` : 'still running';
      throw new Error(`${(err as Error).message}; the snapshotter is ${ended}; its output ends with:\n${this.output.slice(-3000)}`);
    }
  }

  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const c = this.child;
    if (!c) return Promise.resolve({ code: null, signal: null });
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
    return new Promise((r) => c.once('exit', (code, signal) => r({ code, signal })));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const done = this.exited();
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return done;
  }
}

/** `snapshotter-it-<prefix>-XXXXXX`, removed after the test file (libs/testing). */
export const tempDir = (prefix: string) => testingTempDir(`snapshotter-it-${prefix}`);

/** Active edges of a likes-shaped table as the core answers them (edges/get over every source x target). */
export async function coreActiveEdges(url: string, table: string, sources: string[], targets: number[], db = 'shop'): Promise<Map<string, { version: number; createdAt: unknown }>> {
  const out = new Map<string, { version: number; createdAt: unknown }>();
  for (const s of sources) {
    const r = await api(url, 'GET', `/graph/v3/databases/${db}/tables/${table}/edges/get?source=${encodeURIComponent(s)}&target=${targets.join(',')}`);
    if (r.status !== 200) throw new Error(`edges/get ${table}: ${r.status} ${JSON.stringify(r.body)}`);
    for (const e of r.body.edges as { source: string; target: number; version: number; properties: Record<string, unknown> }[]) {
      out.set(`${e.source}|${e.target}`, { version: e.version, createdAt: e.properties['created_at'] });
    }
  }
  return out;
}

export function icebergEdges(rows: IcebergRow[]): Map<string, { version: number; createdAt: unknown }> {
  const out = new Map<string, { version: number; createdAt: unknown }>();
  for (const r of rows) out.set(`${r.source}|${r.target}`, { version: r.version, createdAt: (JSON.parse(r.properties ?? '{}') as Record<string, unknown>)['created_at'] });
  return out;
}

export const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));

export { waitFor };

/** pyiceberg's SqlCatalog on the JDBC catalog's PostgreSQL tables: the table's rows, like readIceberg. */
export const readCatalog = (python: string, url: string, catalogName: string, table: string, snapshots = false) =>
  py<IcebergRead & { tables: string[] }>(python, 'read_catalog.py', [url, catalogName, table, ...(snapshots ? ['--snapshots'] : [])]);

/** A DuckDB query over a table's metadata file (iceberg extension from its PyPI package); the table is `t`. */
export const duckdb = (python: string, metadataFile: string, sql: string) => py<{ columns: string[]; rows: unknown[][] }>(python, 'duckdb_query.py', [metadataFile, sql]);

/** `maintain.ts <args>` with the environment; resolves with its exit code, stdout (JSON) and stderr (progress). */
export function maintain(env: Record<string, string>, args: string[]): Promise<{ code: number; out: string; progress: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'apps/snapshotter/src/maintain.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code: code ?? 1, out, progress: err }));
  });
}
