import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { tempDir } from '@pipeline/testing';
import type { EdgeStore, OutboxRow } from '../storage/edge-store';
import { SinkCdcOutlet, type CdcOutlet, type CdcSession, type TailRecord } from './cdc-outlet';
import { CdcRelay } from './cdc-relay';
import type { KeyedRecord, RecordSink } from './record-sink';

/**
 * The relay's contract with its store and sink, on an outbox in memory whose calls answer with promises
 * (as a networked store does): order, deletion only after acknowledgement, the O(1) backlog, retries.
 * The relay against SQLite and a real broker is covered by test/wal-cdc and test/abuse/relay; resuming
 * without sending twice, on a real broker, by test/wal-cdc.
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

function relayOf(outbox: MemoryOutbox, sink: RecordSink | CdcOutlet): CdcRelay {
  const outlet = 'open' in sink ? sink : new SinkCdcOutlet(sink);
  return new CdcRelay(outbox.store(), outlet, pino({ level: 'silent' }), {
    batchRows: 10,
    batchBytes: 1 << 20,
    maxBackoffMs: 20,
    maxRecordBytes: 1 << 20,
    parkDir: join(tempDir('relay-spec'), 'parked'),
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

/**
 * A topic in memory with `partitions` partitions, the routing of a key fixed by its number. A send appends
 * every record to its partition (a produce that landed); `loseAcks` makes the next sends throw after
 * appending, as when the broker appended a request and its answer never came back.
 */
class MemoryTopic implements CdcOutlet {
  readonly logs: { key: string; value: string; routedWith: number }[][];
  loseAcks = 0;
  opened = 0;
  closed = 0;
  constructor(readonly partitions = 3) {
    this.logs = Array.from({ length: partitions }, () => []);
  }
  partitionOf(key: string): number {
    return Number(key.replace(/\D/g, '')) % this.partitions;
  }
  open(): Promise<CdcSession> {
    this.opened++;
    const topic: MemoryTopic = this; // eslint-disable-line @typescript-eslint/no-this-alias -- the session's methods are its own object's
    return Promise.resolve({
      partitions: this.partitions,
      partitionOf: (key: string) => this.partitionOf(key),
      tails: () => {
        const out = new Map<number, TailRecord[]>();
        topic.logs.forEach((log, p) =>
          out.set(
            p,
            log
              .map((r, i) => ({ partition: p, offset: BigInt(i), key: r.key, value: Buffer.from(r.value), routedWith: r.routedWith }))
              .slice(-64)
              .reverse(),
          ),
        );
        return Promise.resolve(out);
      },
      send: async (records: KeyedRecord[]) => {
        await new Promise((r) => setImmediate(r));
        for (const r of records) topic.logs[topic.partitionOf(r.key)]!.push({ key: r.key, value: r.value, routedWith: topic.partitions });
        if (topic.loseAcks > 0) {
          topic.loseAcks--;
          throw Object.assign(new Error('no answer from the broker'), { code: 'KAFKA_UNAVAILABLE' });
        }
      },
      close: () => {
        topic.closed++;
        return Promise.resolve();
      },
    });
  }
  all(): number[] {
    return this.logs.flatMap((log) => seqs(log));
  }
}

describe('CdcRelay resuming from the topic', () => {
  it('does not send again what a relay before it published and had not deleted (a crash between the publish and the delete)', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(300);
    const topic = new MemoryTopic();
    // The first relay's last requests landed unevenly: every row up to seq 250, and partition 1 up to 280.
    for (const r of outbox.rows) if (r.seq <= 250 || (r.seq <= 280 && topic.partitionOf(r.key) === 1)) topic.logs[topic.partitionOf(r.key)]!.push({ key: r.key, value: r.value, routedWith: 3 });
    outbox.rows = outbox.rows.filter((r) => r.seq > 200); // it deleted up to 200
    const landed = topic.logs.reduce((n, log) => n + log.length, 0);
    const relay = relayOf(outbox, topic);
    relay.start();
    await until('the outbox emptied', () => outbox.rows.length === 0 && relay.backlog() === 0);
    await relay.stop();
    const all = topic.all();
    expect(all.length).toBe(300);
    expect(new Set(all).size).toBe(300);
    // each partition in seq order, as consumers read it
    for (const log of topic.logs) expect(seqs(log)).toEqual([...seqs(log)].sort((a, b) => a - b));
    expect(relay.skipped).toBe(landed - 101); // what landed, less what the first relay deleted (100..200)
  });

  it('after a send whose answer was lost, a new session finds what landed and sends only the rest', async () => {
    const outbox = new MemoryOutbox();
    const topic = new MemoryTopic();
    const relay = relayOf(outbox, topic);
    relay.start();
    for (let i = 0; i < 12; i++) {
      outbox.add(25);
      relay.notify(25);
      if (i === 3 || i === 7) topic.loseAcks = 2;
      await new Promise((r) => setTimeout(r, 3));
    }
    await until('every record acknowledged', () => relay.backlog() === 0 && outbox.rows.length === 0);
    await relay.stop();
    const all = topic.all();
    expect(all.length).toBe(300);
    expect(new Set(all).size).toBe(300);
    expect(topic.opened).toBeGreaterThanOrEqual(3); // a new session (a new producer) after each failed send
    expect(topic.closed).toBe(topic.opened);
    expect(relay.skipped).toBeGreaterThan(0);
  });

  it('skips nothing on records it cannot prove are its own: another value at the same seq, another partition count, heartbeats', async () => {
    const outbox = new MemoryOutbox();
    outbox.add(30);
    const topic = new MemoryTopic();
    const [a, b, c] = [outbox.rows[20]!, outbox.rows[25]!, outbox.rows[28]!];
    expect(new Set([a, b, c].map((r) => topic.partitionOf(r.key))).size).toBe(3);
    // a record of another core with a seq this outbox also holds
    topic.logs[topic.partitionOf(a.key)]!.push({ key: a.key, value: JSON.stringify({ seq: a.seq, other: true }), routedWith: 3 });
    // this outbox's record, routed when the topic had another partition count
    topic.logs[topic.partitionOf(b.key)]!.push({ key: b.key, value: b.value, routedWith: 2 });
    // a relay before this one sent c's partition up to c, then a heartbeat (no seq) came
    for (const r of outbox.rows) if (r.seq <= c.seq && topic.partitionOf(r.key) === topic.partitionOf(c.key)) topic.logs[topic.partitionOf(c.key)]!.push({ key: r.key, value: r.value, routedWith: 3 });
    topic.logs[topic.partitionOf(c.key)]!.push({ key: 'server-1', value: '{"context":{"database":"sys"}}', routedWith: 3 });
    const relay = relayOf(outbox, topic);
    relay.start();
    await until('the outbox emptied', () => outbox.rows.length === 0);
    await relay.stop();
    const all = topic.all();
    const times = (seq: number) => all.filter((x) => x === seq).length;
    expect(times(c.seq)).toBe(1); // proven on the topic: not sent again
    expect(times(a.seq)).toBe(2); // the other core's record, and this one's
    expect(times(b.seq)).toBe(2); // routed with another partition count: proves nothing
    expect(new Set(all.filter((x) => x !== undefined)).size).toBe(30);
    const cPartition = topic.partitionOf(c.key);
    expect(relay.skipped).toBe(Array.from({ length: 29 }, (_, i) => 100 + i).filter((seq) => topic.partitionOf(`k${seq % 7}`) === cPartition).length);
    expect(topic.logs[cPartition]!.length).toBe(new Set(topic.logs[cPartition]!.map((r) => r.value)).size); // nothing twice there
  });
});
