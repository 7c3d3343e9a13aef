import type { Logger } from 'pino';
import type { EdgeStore } from '../storage/edge-store';
import type { RecordSink } from './record-sink';

/**
 * Relays committed CDC records from the outbox to the sink, in commit order. Records are deleted
 * from the outbox only after the sink acknowledged them, so a crash anywhere between the state
 * commit and the publish loses nothing: the next start sends what is left (domain.md, step 6;
 * Actionbase issue #405). After a crash the last batch may be sent twice; consumers are idempotent.
 */
export class CdcRelay {
  private wake: (() => void) | null = null;
  private pending = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private lastSeq = 0;
  private failures = 0;
  relayed = 0;

  constructor(
    private readonly store: EdgeStore,
    private readonly sink: RecordSink,
    private readonly log: Logger,
    private readonly opts: { batchSize: number; maxBackoffMs: number } = { batchSize: 2000, maxBackoffMs: 5000 },
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Called after a commit: there is something new to send. */
  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  /** Records committed but not yet acknowledged by the sink. */
  backlog(): number {
    return this.store.outboxSize();
  }

  /** Stops after sending what is already committed (bounded by `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.store.readOutbox(this.lastSeq, 1).length > 0 && Date.now() < deadline && this.failures === 0) {
      this.notify();
      await new Promise((r) => setTimeout(r, 20));
    }
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      this.pending = false;
      const rows = this.store.readOutbox(this.lastSeq, this.opts.batchSize);
      if (rows.length === 0) {
        if (!this.pending) await this.sleep(1000);
        continue;
      }
      try {
        await this.sink.publishCdc(rows);
        const upto = rows[rows.length - 1]!.seq;
        this.store.deleteOutbox(upto);
        this.lastSeq = upto;
        this.relayed += rows.length;
        if (this.failures > 0) this.log.info({ backlog: this.backlog() }, 'CDC relay recovered');
        this.failures = 0;
      } catch (err) {
        this.failures++;
        // Full jitter; the same rows are retried in the same order, so per-key order holds.
        const cap = Math.min(this.opts.maxBackoffMs, 100 * 2 ** Math.min(this.failures, 10));
        if (this.failures === 1 || this.failures % 20 === 0)
          this.log.warn({ err, backlog: this.backlog(), attempt: this.failures }, 'CDC relay cannot publish; retrying (records stay in the outbox)');
        await this.sleep(Math.random() * cap);
      }
    }
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
