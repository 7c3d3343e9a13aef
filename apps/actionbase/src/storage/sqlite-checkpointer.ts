import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies the SQLite WAL back into the database file from a worker thread, on a connection of its own.
 * Left to the writing connection, a checkpoint runs inside the commit that crosses the
 * `wal_autocheckpoint` threshold: 80 MB of pages copied (and fsynced) while the event loop waits,
 * 100-400 ms every few thousand keys under batch load. A PASSIVE checkpoint neither waits for nor
 * blocks readers and writers; the writer restarts the WAL from its start once a checkpoint has caught
 * up, and its own autocheckpoint stays as the backstop should the worker fall behind.
 *
 * The worker is plain JavaScript run from a string, so that it needs no loader and no bundling step.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
let timer = null;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message ? err.message : err) });
  }
  timer = setTimeout(checkpoint, workerData.intervalMs);
};
timer = setTimeout(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

export class SqliteCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;
  private exited = false;

  constructor(path: string, onError: (message: string) => void, intervalMs = 100) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER, { eval: true, workerData: { driver, path, intervalMs } });
    this.worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
    this.worker.on('error', (err) => onError(`the WAL checkpointer stopped (${err.message}); checkpoints fall back to the writing connection`));
    this.worker.once('exit', () => (this.exited = true));
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
