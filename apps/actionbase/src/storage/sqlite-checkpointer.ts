import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the SQLite WAL back into the database file from a worker thread, on a connection of its own.
 * Left to the writing connection, a checkpoint runs inside the commit that crosses the
 * `wal_autocheckpoint` threshold: 80 MB of pages copied (and fsynced) while the event loop waits,
 * 100-400 ms every few thousand keys under batch load. A PASSIVE checkpoint neither waits for nor
 * blocks readers and writers; the writer's own autocheckpoint stays as the backstop should the worker
 * fall behind.
 *
 * **When.** Every checkpoint that catches up lets the writer restart the WAL from its start, and the
 * commit that restarts it fsyncs the new WAL header on the event loop (SQLite does so whatever the
 * `synchronous` level, so that a power cut cannot replay old frames): 1-40 ms on this machine's disk.
 * Checkpointing every 100 ms whatever the load put one such fsync in the event loop about every 100 ms
 * under single-edge traffic (perf trace of the core, bench/README.md). So the worker looks every
 * `intervalMs` at how many frames the WAL holds, in the WAL-index header (`mxFrame`, a 32-bit integer at
 * byte 16 of the `-shm` file, in the machine's byte order: SQLite's documented WAL-index format), and
 * checkpoints once they reach `minFrames`, or after `maxIntervalMs` with anything in it: under batch load
 * that is every look, as before; under light traffic a restart every few seconds instead of ten a second.
 *
 * The worker is plain JavaScript run from a string, so that it needs no loader and no bundling step.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
parentPort.postMessage({ ready: true });
let shm = null;
const header = Buffer.alloc(4);
const little = require('node:os').endianness() === 'LE';
const framesInWal = () => {
  try {
    if (shm === null) shm = openSync(workerData.path + '-shm', 'r');
    if (readSync(shm, header, 0, 4, 16) < 4) return Infinity;
    return little ? header.readUInt32LE(0) : header.readUInt32BE(0);
  } catch {
    return Infinity; // cannot tell: checkpoint
  }
};
let timer = null;
let last = Date.now();
const look = () => {
  const frames = framesInWal();
  if (frames >= workerData.minFrames || (frames > 0 && Date.now() - last >= workerData.maxIntervalMs)) {
    last = Date.now();
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
    }
  }
  timer = setTimeout(look, workerData.intervalMs);
};
timer = setTimeout(look, workerData.intervalMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  if (shm !== null) closeSync(shm);
  db.close();
  parentPort.close();
});
`;

export interface CheckpointPace {
  /** How often the worker looks at the WAL. */
  intervalMs: number;
  /** Frames (pages) in the WAL from which it checkpoints at once (4,096: 16 MiB of 4 KiB pages). */
  minFrames: number;
  /** Longest a non-empty WAL waits for a checkpoint. */
  maxIntervalMs: number;
}

const DEFAULT_PACE: CheckpointPace = { intervalMs: 100, minFrames: 4096, maxIntervalMs: 2000 };

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;
  private exited = false;
  /** Settles once the worker has its connection and its first look is scheduled (or once it has stopped). */
  readonly started: Promise<void>;

  constructor(path: string, onError: (message: string) => void, pace: Partial<CheckpointPace> = {}) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { driver, path, ...DEFAULT_PACE, ...pace } });
    let started!: () => void;
    this.started = new Promise<void>((resolve) => (started = resolve));
    this.worker.on('message', (m: { error?: string; ready?: boolean }) => (m.ready ? started() : m.error && onError(m.error)));
    this.worker.on('error', (err) => onError(`the WAL checkpointer stopped (${err.message}); checkpoints fall back to the writing connection`));
    this.worker.once('exit', () => {
      this.exited = true;
      started();
    });
    this.worker.unref(); // never what keeps the process alive
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.ref(); // until it has closed its connection
      this.worker.once('exit', () => resolve());
      this.worker.postMessage('close');
    });
    return this.closed;
  }
}
