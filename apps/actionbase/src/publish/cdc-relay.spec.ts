import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { EdgeStore, OutboxRow } from '../storage/edge-store';
import { CdcRelay } from './cdc-relay';
import type { KeyedRecord, RecordSink } from './record-sink';

/**
 * The relay's contract with its store and sink, on an outbox in memory whose calls answer with promises
 * (as a networked store does): order, deletion only after acknowledgement, the O(1) backlog, retries.
 * The relay against SQLite and a real broker is covered by test/wal-cdc and test/abuse/relay.
 */
class MemoryOutbox {
  rows: OutboxRow[] = [];
  private seq = 100;
  add(n: number): void {
    for (let i = 0; i < n; i++) {
      const seq = this.seq++;
      this.rows.push({ seq, key: `k${seq % 7}`, value: JSON.stringify({ seq, pad: 'x'.repeat(200) }) });
    }
  }
  store(): EdgeStore {
    const later = <T>(v: () => T) => new Promise<T>((r) => setImmediate(() => r(v())));
    return {
      readOutbox: (after: number, limit: number) => later(() => this.rows.filter((r) => r.seq > after).slice(0, limit)),
      deleteOutbox: (upto: number) => later(() => void (this.rows = this.rows.filter((r) => r.seq > upto))),
      outboxSize: () => later(() => this.rows.length),
    } as unknown as EdgeStore;
  }
}

class RecordingSink implements RecordSink {
  readonly kind = 'kafka';
  cdc: KeyedRecord[] = [];
  calls = 0;
  failNext = 0;
  publishWal(): Promise<void> {
    return Promise.resolve();
  }
  async publishCdc(records: KeyedRecord[]): Promise<void> {
    this.calls++;
    await new Promise((r) => setTimeout(r, 2));
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('broker unavailable'), { code: 'KAFKA_UNAVAILABLE' });
    }
    this.cdc.push(...records);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const seqs = (records: KeyedRecord[]) => records.map((r) => (JSON.parse(r.value) as { seq: number }).seq);

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function relayOf(outbox: MemoryOutbox, sink: RecordSink): CdcRelay {
  return new CdcRelay(outbox.store(), sink, pino({ level: 'silent' }), {
    batchSize: 10,
    maxBackoffMs: 20,
    maxRecordBytes: 1 << 20,
    parkDir: join(mkdtempSync(join(tmpdir(), 'relay-spec-')), 'parked'),
  });
}

describe('CdcRelay', () => {
  it('relays a backlog left by an earlier run, in commit order, in batches of at most batchSize rows, and deletes what was acknowledged', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(500);
    const sink = new RecordingSink();
    const relay = relayOf(outbox, sink);
    relay.start();
    await until('the outbox emptied', () => outbox.rows.length === 0 && relay.backlog() === 0);
    expect(seqs(sink.cdc)).toEqual([...Array(500).keys()].map((i) => i + 100));
    expect(sink.calls).toBeGreaterThanOrEqual(500 / 10);
    await relay.stop();
  });

  it('counts commits it is told about, sends them, and keeps the order across a failed send', async () => {
    const outbox = new MemoryOutbox();
    const sink = new RecordingSink();
    const relay = relayOf(outbox, sink);
    relay.start();
    for (let i = 0; i < 10; i++) {
      outbox.add(37);
      relay.notify(37);
      if (i === 4) sink.failNext = 2;
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(relay.backlog()).toBeGreaterThan(0);
    await until('every record acknowledged', () => relay.backlog() === 0 && outbox.rows.length === 0);
    const sent = seqs(sink.cdc);
    // nothing lost; a record sent again after a failure never comes before one committed before it
    expect(new Set(sent).size).toBe(370);
    const firstOf = new Map<number, number>();
    sent.forEach((s, i) => firstOf.has(s) || firstOf.set(s, i));
    const order = [...firstOf.keys()];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    await relay.stop();
  });
});
