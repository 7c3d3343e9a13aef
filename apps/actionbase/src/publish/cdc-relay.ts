import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { EdgeStore, OutboxRow } from '../storage/edge-store';
import type { RecordSink } from './record-sink';

/** Broker answers that refuse a record itself: sending it again can never succeed. */
const POISON_API_IDS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'CORRUPT_MESSAGE']);

function refusesRecord(err: unknown, depth = 0): boolean {
  if (depth > 8 || typeof err !== 'object' || err === null) return false;
  const e = err as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.apiId === 'string' && POISON_API_IDS.has(e.apiId)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => refusesRecord(x, depth + 1))) return true;
  return refusesRecord(e.cause, depth + 1);
}

export interface CdcRelayOptions {
  batchSize: number;
  maxBackoffMs: number;
  /** A record larger than this is set aside without trying (the CDC topic's max.message.bytes). */
  maxRecordBytes: number;
  /** Where records the broker refuses are kept, one file per record, for an operator to look at. */
  parkDir: string;
  metrics?: Registry;
}

/**
 * Relays committed CDC records from the outbox to the sink, in commit order. Records are deleted
 * from the outbox only after the sink acknowledged them, so a crash anywhere between the state
 * commit and the publish loses nothing: the next start sends what is left (docs/model.md, step 6;
 * Actionbase issue #405). After a crash the last batch may be sent twice; consumers are idempotent.
 *
 * One record the broker refuses (too large, invalid) must not hold back every later one: it is
 * written to `parkDir` (fsynced), counted in `actionbase_cdc_parked_total`, logged, and the relay
 * goes on. Unavailability (broker down) is retried, with the records kept in order.
 */
export class CdcRelay {
  private wake: (() => void) | null = null;
  private pending = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private lastSeq = 0;
  private failures = 0;
  /** Committed and not yet acknowledged: counted, so that readiness never scans the outbox. */
  private unsent: number;
  private readonly parkedCounter: Counter | undefined;
  relayed = 0;
  parked = 0;

  constructor(
    private readonly store: EdgeStore,
    private readonly sink: RecordSink,
    private readonly log: Logger,
    private readonly opts: CdcRelayOptions,
  ) {
    this.unsent = 0; // counted once, when the loop starts
    this.parkedCounter = opts.metrics
      ? new Counter({ name: 'actionbase_cdc_parked_total', help: 'CDC records the broker refused, set aside in the park directory', registers: [opts.metrics] })
      : undefined;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Called after a commit of `records` CDC records: there is something new to send. */
  notify(records = 0): void {
    this.unsent += records;
    this.pending = true;
    this.wake?.();
  }

  /** Records committed but not yet acknowledged by the sink (O(1)). */
  backlog(): number {
    return this.unsent;
  }

  /** Stops after sending what is already committed (bounded by `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.store.readOutbox(this.lastSeq, 1)).length > 0 && Date.now() < deadline && this.failures === 0) {
      this.notify();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    this.unsent += await this.store.outboxSize();
    while (!this.stopping) {
      this.pending = false;
      const rows = await this.store.readOutbox(this.lastSeq, this.opts.batchSize);
      if (rows.length === 0) {
        if (!this.pending) await this.sleep(1000);
        continue;
      }
      try {
        const sent = await this.publish(rows);
        await this.done(rows[rows.length - 1]!.seq, sent);
        if (this.failures > 0) this.log.info({ backlog: this.backlog() }, 'CDC relay recovered');
        this.failures = 0;
      } catch (err) {
        if (refusesRecord(err)) {
          // Find the record(s) refused: one at a time, in order, up to the first that is.
          await this.isolate(rows);
          continue;
        }
        this.failures++;
        // Full jitter; the same rows are retried in the same order, so per-key order holds.
        const cap = Math.min(this.opts.maxBackoffMs, 100 * 2 ** Math.min(this.failures, 10));
        if (this.failures === 1 || this.failures % 20 === 0)
          this.log.warn({ err, backlog: this.backlog(), attempt: this.failures }, 'CDC relay cannot publish; retrying (records stay in the outbox)');
        await this.sleep(Math.random() * cap);
      }
    }
  }

  /**
   * Publishes `rows`, setting aside those over the size limit (known to be refused) without trying.
   * Returns how many were published.
   */
  private async publish(rows: OutboxRow[]): Promise<number> {
    const ok: OutboxRow[] = [];
    let sent = 0;
    for (const r of rows) {
      const bytes = Buffer.byteLength(r.value) + Buffer.byteLength(r.key);
      if (bytes > this.opts.maxRecordBytes) {
        const before = ok.splice(0); // the ones before it, in order
        await this.sink.publishCdc(before);
        sent += before.length;
        await this.park(r, `${bytes} bytes, over the CDC topic's limit of ${this.opts.maxRecordBytes}`);
      } else ok.push(r);
    }
    await this.sink.publishCdc(ok);
    return sent + ok.length;
  }

  private async isolate(rows: OutboxRow[]): Promise<void> {
    for (const r of rows) {
      try {
        await this.sink.publishCdc([r]);
        await this.done(r.seq, 1);
      } catch (err) {
        if (!refusesRecord(err)) throw err;
        await this.park(r, `refused by the broker: ${(err as Error).message}`);
      }
    }
  }

  private async done(upto: number, sent: number): Promise<void> {
    await this.store.deleteOutbox(upto);
    this.lastSeq = Math.max(this.lastSeq, upto);
    this.unsent = Math.max(0, this.unsent - sent);
    this.relayed += sent;
  }

  private async park(r: OutboxRow, reason: string): Promise<void> {
    mkdirSync(this.opts.parkDir, { recursive: true });
    const file = join(this.opts.parkDir, `${r.seq}.json`);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ seq: r.seq, key: r.key, reason, value: r.value }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    await this.store.deleteOutbox(r.seq);
    this.lastSeq = Math.max(this.lastSeq, r.seq);
    this.unsent = Math.max(0, this.unsent - 1);
    this.parked++;
    this.parkedCounter?.inc();
    this.log.error({ seq: r.seq, key: r.key, bytes: Buffer.byteLength(r.value), file, reason }, 'CDC record set aside: the broker cannot take it; later records keep flowing');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
