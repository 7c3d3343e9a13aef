import { describe, it, expect } from '@jest/globals';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { AlertRecordSchema, type AlertRecord } from '@pipeline/events';
import { SinkError } from '@pipeline/stream';
import { tempDir } from '@pipeline/testing';
import type { AlertOutput } from './alert-publisher';
import { AbuseDetectorSink, DetectorMetrics, type PartitionOffsets } from './abuse-detector.sink';
import { parseRules } from './rules';
import { at, cdc } from './spec-helpers';

const T = 1_764_115_200_000;
const rules = parseRules({ tables: { '*': { burst: [{ name: 'b', by: 'actor', limit: 4, windowMs: 10_000 }] } } });

/** Alerts kept in memory; `failNext` makes the next publish fail like a broker outage. */
class MemoryOutput implements AlertOutput {
  alerts: AlertRecord[] = [];
  failNext = false;
  started = false;
  async start() {
    this.started = true;
  }
  async publish(alerts: AlertRecord[]) {
    if (this.failNext) {
      this.failNext = false;
      throw new SinkError('ALERTS_TOPIC_FAILED', 'broker down', { retryable: true });
    }
    this.alerts.push(...alerts.map((a) => AlertRecordSchema.parse(a)));
  }
  async close() {
    this.started = false;
  }
}

const farEnds: PartitionOffsets = { endOffsets: async () => new Map([[0, 1000n]]), committedOffsets: async () => new Map(), groupMembers: async () => [] };

function sink(statePath: string, output: AlertOutput, registry = new Registry(), offsets = farEnds) {
  return new AbuseDetectorSink({
    rules,
    limits: { maxKeys: 1000, graceMs: 0 },
    ignoredActors: [],
    statePath,
    offsets,
    output,
    metrics: new DetectorMetrics(registry),
    logger: pino({ level: 'silent' }),
    groupCheckMs: 60_000,
    now: () => 42,
  });
}

const bot = (i: number) => at(cdc({ at: T + i, actor: 'bot', target: i }), 0, i);

describe('AbuseDetectorSink', () => {
  it('keeps its windows across a restart and skips the records the store already holds', async () => {
    const path = join(tempDir('abuse'), 'state.db');
    const out = new MemoryOutput();
    const first = sink(path, out);
    await first.start();
    await first.write([bot(0), bot(1)]);
    await first.close(); // as after kill -9: nothing flushed beyond what write() saved
    const registry = new Registry();
    const second = sink(path, out, registry);
    await second.start();
    // The group's committed offset can lag the store: records 0 and 1 come again and must not count twice.
    await second.write([bot(0), bot(1), bot(2)]);
    expect(out.alerts).toEqual([]);
    await second.write([bot(3)]);
    expect(out.alerts).toEqual([expect.objectContaining({ alertId: `b:shop.likes:actor:bot:${T}`, observed: 4, emittedAt: 42 })]);
    expect(await registry.getSingleMetricAsString('abuse_detector_replayed_records_total')).toMatch(/ 2$/);
    expect(await registry.getSingleMetricAsString('abuse_detector_alerts_total')).toContain('abuse_detector_alerts_total{rule="burst",table="shop.likes"} 1');
    await second.close();
  });

  it('a failed publish counts nothing: the retried batch fires the alert once', async () => {
    const path = join(tempDir('abuse'), 'state.db');
    const out = new MemoryOutput();
    const s = sink(path, out);
    await s.start();
    await s.write([bot(0), bot(1)]);
    out.failNext = true;
    await expect(s.write([bot(2), bot(3)])).rejects.toThrow('broker down');
    await s.write([bot(2), bot(3)]);
    await s.write([bot(4)]);
    expect(out.alerts.map((a) => a.alertId)).toEqual([`b:shop.likes:actor:bot:${T}`]);
    await s.close();
  });

  it('a record past the end offsets it was last told asks again at once: a partition shown read to its end does not let the watermark pass what it still holds', async () => {
    let ends = new Map([[0, 1n], [1, 2n]]);
    let asked = 0;
    const offsets: PartitionOffsets = {
      endOffsets: async () => (asked++, ends),
      committedOffsets: async () => new Map(),
      groupMembers: async () => [],
    };
    const out = new MemoryOutput();
    const s = sink(join(tempDir('abuse'), 'state.db'), out, new Registry(), offsets);
    await s.start();
    const human = (offset: number, time: number) => at(cdc({ at: time, actor: 'human' }), 0, offset);
    const botOn1 = (offset: number) => at(cdc({ at: T + offset, actor: 'bot', target: offset }), 1, offset);
    // Both partitions read to their end: the watermark may follow the newest record.
    await s.write([human(0, T), botOn1(0), botOn1(1)]);
    // A backlog lands on both partitions (a relay catching up), and partition 0's comes first, a minute ahead;
    // the answer of the first write is still fresh, but this record lies past its end.
    ends = new Map([[0, 2n], [1, 4n]]);
    await s.write([human(1, T + 60_000)]);
    expect(asked).toBe(2);
    // Partition 1's backlog still falls in the bot's open window.
    await s.write([botOn1(2), botOn1(3)]);
    expect(out.alerts.map((a) => a.alertId)).toEqual([`b:shop.likes:actor:bot:${T}`]);
    await s.close();
  });

  it('is not ready while its consumer group has another member, and says who; an unanswered look changes nothing', async () => {
    const member = (n: number) => ({ memberId: `m${n}`, clientId: 'abuse-detector', clientHost: `/10.0.0.${n}` });
    let answer: () => Promise<ReturnType<typeof member>[]> = async () => [member(1), member(2)];
    const offsets: PartitionOffsets = { ...farEnds, groupMembers: () => answer() };
    const registry = new Registry();
    const s = sink(join(tempDir('abuse'), 'state.db'), new MemoryOutput(), registry, offsets);
    await s.start();
    expect(s.isReady()).toBe(true);
    await s.checkGroup();
    expect(s.isReady()).toBe(false);
    expect(s.whyNotReady()).toMatch(/Run one replica of abuse-detector per group .*\(members: abuse-detector@\/10\.0\.0\.1, abuse-detector@\/10\.0\.0\.2\)$/);
    expect(await registry.getSingleMetricAsString('abuse_detector_group_members')).toMatch(/ 2$/);
    answer = async () => {
      throw new Error('coordinator moving');
    };
    await s.checkGroup();
    expect(s.isReady()).toBe(false);
    answer = async () => [member(1)];
    await s.checkGroup();
    expect(s.isReady()).toBe(true);
    expect(await registry.getSingleMetricAsString('abuse_detector_group_members')).toMatch(/ 1$/);
    await s.close();
  });
});
