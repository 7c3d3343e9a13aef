import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { backoffDelay } from '@pipeline/errors';
import type { EdgeStore, OutboxRow } from '../storage/edge-store';
import type { CdcOutlet, CdcSession } from './cdc-outlet';

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
  /** Rows per outbox read at most. */
  batchRows: number;
  /** Bytes of records per batch (keys and values); the batch ends at the first row that reaches it. */
  batchBytes: number;
  maxBackoffMs: number;
  /** A record larger than this is set aside without trying (the CDC topic's max.message.bytes). */
  maxRecordBytes: number;
  /** Where records the broker refuses are kept, one file per record, for an operator to look at. */
  parkDir: string;
  metrics?: Registry;
}

/** The `seq` of an encoded CDC record, or undefined (not JSON, no seq: a heartbeat, a foreign record). */
function seqOf(value: Buffer): number | undefined {
  try {
    const seq = (JSON.parse(value.toString('utf8')) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Relays committed CDC records from the outbox to the CDC topic, in commit (`seq`) order. Records are
 * deleted from the outbox only after Kafka acknowledged them, so a crash anywhere between the state
 * commit and the publish loses nothing: the next start sends what is left (docs/model.md, step 6;
 * Actionbase issue #405).
 *
 * **Sessions.** The relay talks to Kafka through a session: an idempotent producer of its own (not the
 * WAL's), with one produce request in flight: a batch is sent once the one before it is acknowledged (the
 * next batch is read from the outbox meanwhile).
 * A session that fails a send is closed and never used again; the next one gets a new producer id.
 * Reusing a producer after a failed send is what can lose records: the client numbers a partition's
 * batches from what it saw acknowledged, so a request it gave up on that the broker still appended (a
 * broker restart, a deadline that abandoned a request the client kept retrying) leaves its numbers behind
 * the broker's, and a later batch with the same numbers and record count is taken by the broker for a
 * retry of the earlier one: acknowledged and dropped. With another count the broker answers
 * OUT_OF_ORDER_SEQUENCE_NUMBER, which the client never recovers from, and the relay stalls.
 *
 * **No record sent twice.** Every session first reads back the last records of each partition (`resume`)
 * and skips the outbox rows they prove are on the topic already, so a restart, a leader takeover or a
 * failed send does not send again what the previous session published and had not yet deleted.
 *
 * Why not Kafka transactions: the outbox delete is in the store, not in Kafka, so a crash between a
 * committed transaction and the delete sends the batch again all the same; finding what is on the topic is
 * needed either way. Transactions would add two round trips per batch (AddPartitionsToTxn, EndTxn), and
 * every reader (libs/stream, Druid, kcat, wal-replay) would have to read committed only. What they would
 * add, fencing a leader that lost its lease while a request of it is still on its way, is the window left
 * here: such a request can land after the next session read the topic back, and its records are then on
 * the topic twice (never missing). The relay's client waits long for answers to keep that window rare.
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
  /** Highest seq acknowledged, skipped or set aside: the next read starts after it. */
  private lastSeq = 0;
  private failures = 0;
  /** Committed and not yet acknowledged: counted, so that readiness never scans the outbox. */
  private unsent = 0;
  /** Average bytes of a row, to turn the byte budget into a row limit for the next read. */
  private rowBytes = 1024;
  private session: CdcSession | null = null;
  /** Per partition: rows routed there with a seq up to this are on the topic already (see resume). */
  private readonly skipUpto = new Map<number, number>();
  private skipMax = 0;
  private readonly parkedCounter: Counter | undefined;
  private readonly skippedCounter: Counter | undefined;
  relayed = 0;
  parked = 0;
  skipped = 0;

  constructor(
    private readonly store: EdgeStore,
    private readonly outlet: CdcOutlet,
    private readonly log: Logger,
    private readonly opts: CdcRelayOptions,
  ) {
    this.parkedCounter = opts.metrics
      ? new Counter({ name: 'actionbase_cdc_parked_total', help: 'CDC records the broker refused, set aside in the park directory', registers: [opts.metrics] })
      : undefined;
    this.skippedCounter = opts.metrics
      ? new Counter({
          name: 'actionbase_cdc_skipped_total',
          help: 'CDC outbox rows found on the topic already when a relay session started (sent by an earlier one), not sent again',
          registers: [opts.metrics],
        })
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
    await this.endSession();
  }

  private async run(): Promise<void> {
    // Once, at start: what an earlier run left behind (commits from now on are counted by notify).
    this.unsent += await this.store.outboxSize();
    /** The next batch, read while the one before it was with Kafka. */
    let ahead: Promise<OutboxRow[]> | null = null;
    while (!this.stopping) {
      try {
        if (!this.session) await this.openSession();
        if (!ahead) this.pending = false;
        const rows: OutboxRow[] = await (ahead ?? this.read(this.lastSeq));
        ahead = null;
        if (rows.length === 0) {
          if (!this.pending) await this.sleep(1000);
          continue;
        }
        const upto = rows[rows.length - 1]!.seq;
        const publishing = this.publish(rows);
        // Read the next batch while this one is with Kafka (once its request is out: a store that answers at
        // once holds the thread while it reads). Nothing of it is sent before this batch is acknowledged, so
        // one request stays in flight; after a failure it is dropped and read again.
        this.pending = false;
        const next: Promise<OutboxRow[]> = new Promise<void>((r) => setImmediate(r)).then(() => this.read(upto));
        next.catch(() => undefined);
        try {
          await publishing;
          ahead = next;
        } catch (err) {
          await next.catch(() => undefined);
          if (!refusesRecord(err)) throw err;
          // Find the record(s) refused: one at a time, in order, up to the first that is.
          await this.isolate(rows);
        }
        if (this.failures > 0) this.log.info({ backlog: this.backlog() }, 'CDC relay recovered');
        this.failures = 0;
      } catch (err) {
        ahead = null;
        // The session is not used again (see the class comment); the next one resumes from the topic.
        await this.endSession();
        this.failures++;
        if (this.failures === 1 || this.failures % 20 === 0)
          this.log.warn({ err, backlog: this.backlog(), attempt: this.failures }, 'CDC relay cannot publish; retrying (records stay in the outbox)');
        // The same rows are retried in the same order, so per-key order holds.
        await this.sleep(backoffDelay(this.failures, { baseMs: 200, maxMs: this.opts.maxBackoffMs }));
      }
    }
  }

  private async openSession(): Promise<void> {
    const session = await this.outlet.open();
    try {
      await this.resume(session);
    } catch (err) {
      await session.close().catch(() => undefined);
      throw err;
    }
    this.session = session;
  }

  private async endSession(): Promise<void> {
    const s = this.session;
    this.session = null;
    await s?.close().catch((err: unknown) => this.log.warn({ err }, 'closing the CDC producer failed'));
  }

  /**
   * Finds, per partition, the highest `seq` up to which the outbox rows routed there are on the topic
   * already, so that this session does not send them again.
   *
   * The rule: if a record read back from partition p is byte for byte outbox row L (same seq, key and
   * value), sent with today's partition count, then every outbox row routed to p with a seq below L is on
   * p too (or was set aside as too large), and L itself is: skip rows of p with seq <= L. Why:
   * - A session sends the rows it reads in seq order, one request at a time, and ends at its first failed
   *   send. Its idempotent producer makes what lands in p a prefix of what it sent there: the broker
   *   appends a batch only if its first sequence number follows the last batch it appended for that
   *   producer id, so nothing lands after a gap. So the session that sent L also put on p every row it
   *   sent there before L.
   * - Rows routed to p below L that this session did not send before L were, when it read past them:
   *   deleted from the outbox, which happens only once Kafka acknowledged them (or they were set aside);
   *   or skipped by this rule at the start of the session, from an earlier session's record (by
   *   induction, on the topic). No row below L can appear after the session read past L: both stores make
   *   commits visible in seq order (SQLite has one writer; PostgreSQL takes the seq under a row lock held
   *   to the commit).
   * - The routing is a function of the key and the partition count; the header names the count the
   *   sender used, so a topic that gained partitions since then proves nothing and skips nothing.
   * The match on the outbox row is what makes a record ours: heartbeats, records of another core or of
   * the core this one was rebuilt to replace (its seqs are lower, see nextSeq in edge-store.ts), never
   * match; a copy of an older record sent again by an earlier relay proves less, not more. A record whose
   * row is no longer in the outbox proves nothing that matters: if it is ours, no row at or below it is
   * left (rows are deleted by seq prefix). A partition that cannot be read back skips nothing: at worst a
   * record is sent twice, never one left out.
   */
  private async resume(session: CdcSession): Promise<void> {
    this.skipUpto.clear();
    this.skipMax = 0;
    let tails;
    try {
      tails = await session.tails();
    } catch (err) {
      this.log.warn({ err }, 'cannot read the end of the CDC topic back: what the last relay sent and did not delete yet is sent again');
      return;
    }
    for (const [p, records] of tails) {
      for (const t of records) {
        if (t.key === null || t.routedWith !== session.partitions || session.partitionOf(t.key) !== p) continue;
        const seq = seqOf(t.value);
        if (seq === undefined || seq <= this.lastSeq) continue;
        const [row] = await this.store.readOutbox(seq - 1, 1);
        if (!row || row.seq !== seq) continue; // not in the outbox (any more): proves nothing
        if (row.key === t.key && Buffer.byteLength(row.value) === t.value.length && t.value.equals(Buffer.from(row.value))) {
          this.skipUpto.set(p, seq);
          this.skipMax = Math.max(this.skipMax, seq);
          break;
        }
      }
    }
    if (this.skipMax > 0) this.log.info({ skipUpto: Object.fromEntries(this.skipUpto) }, 'CDC relay resumes: outbox rows up to these seqs per partition are on the topic already and are not sent again');
  }

  /** The next batch after `afterSeq`: at most batchRows rows, ending at the first that reaches batchBytes. */
  private async read(afterSeq: number): Promise<OutboxRow[]> {
    const limit = Math.max(1, Math.min(this.opts.batchRows, Math.floor(this.opts.batchBytes / this.rowBytes) + 1));
    const rows = await this.store.readOutbox(afterSeq, limit);
    let bytes = 0;
    let n = 0;
    while (n < rows.length && bytes < this.opts.batchBytes) {
      const r = rows[n++]!;
      bytes += r.value.length + r.key.length;
    }
    if (n > 0) this.rowBytes = Math.max(64, Math.ceil(bytes / n));
    return n < rows.length ? rows.slice(0, n) : rows;
  }

  /** Whether the session found `r` on the topic already (see resume). */
  private onTopic(r: OutboxRow): boolean {
    if (r.seq > this.skipMax) return false;
    const upto = this.skipUpto.get(this.session!.partitionOf(r.key));
    return upto !== undefined && r.seq <= upto;
  }

  /**
   * Publishes `rows` and deletes them from the outbox; rows over the size limit (known to be refused) are
   * set aside without trying, rows the session found on the topic are not sent again.
   */
  private async publish(rows: OutboxRow[]): Promise<void> {
    const session = this.session!;
    const ok: OutboxRow[] = [];
    let skipped = 0;
    for (const r of rows) {
      if (this.onTopic(r)) {
        skipped++;
        continue;
      }
      const bytes = r.value.length * 3 + r.key.length * 3 <= this.opts.maxRecordBytes ? 0 : Buffer.byteLength(r.value) + Buffer.byteLength(r.key);
      if (bytes > this.opts.maxRecordBytes) {
        const before = ok.splice(0); // the ones before it, in order
        await session.send(before);
        await this.done(r.seq - 1, before.length, skipped);
        skipped = 0;
        await this.park(r, `${bytes} bytes, over the CDC topic's limit of ${this.opts.maxRecordBytes}`);
      } else ok.push(r);
    }
    await session.send(ok);
    await this.done(rows[rows.length - 1]!.seq, ok.length, skipped);
    if (rows[rows.length - 1]!.seq >= this.skipMax) {
      this.skipUpto.clear();
      this.skipMax = 0;
    }
  }

  private async isolate(rows: OutboxRow[]): Promise<void> {
    for (const r of rows) {
      if (r.seq <= this.lastSeq) continue;
      if (this.onTopic(r)) {
        await this.done(r.seq, 0, 1);
        continue;
      }
      try {
        await this.session!.send([r]);
        await this.done(r.seq, 1, 0);
      } catch (err) {
        if (!refusesRecord(err)) throw err;
        await this.park(r, `refused by the broker: ${(err as Error).message}`);
      }
    }
  }

  private async done(upto: number, sent: number, skipped: number): Promise<void> {
    if (upto > this.lastSeq) await this.store.deleteOutbox(upto);
    this.lastSeq = Math.max(this.lastSeq, upto);
    this.unsent = Math.max(0, this.unsent - sent - skipped);
    this.relayed += sent;
    if (skipped > 0) {
      this.skipped += skipped;
      this.skippedCounter?.inc(skipped);
    }
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
