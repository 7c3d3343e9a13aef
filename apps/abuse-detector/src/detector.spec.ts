import { describe, it, expect } from '@jest/globals';
import type { CdcRecord } from '@pipeline/events';
import { Detector, type AlertDraft, type DetectorLimits, type StateEntry } from './detector';
import { parseRules, type RulesFile } from './rules';
import { cdc, seededRandom } from './spec-helpers';

const T = 1_764_115_200_000; // a window boundary for every window length used here
const limits: DetectorLimits = { maxKeys: 10_000, graceMs: 0 };

const rules = (tables: Record<string, unknown>): RulesFile => parseRules({ tables });
const burst = rules({ '*': { burst: [{ name: 'actor-burst', by: 'actor', limit: 5, windowMs: 1000 }] } });

/** Feeds records on one partition, one batch, and returns every alert (the watermark moved at the end). */
function run(d: Detector, records: CdcRecord[], partition = 'cdc:0'): AlertDraft[] {
  const out = records.flatMap((r) => d.observe(r, partition));
  return [...out, ...d.advance()];
}

describe('burst', () => {
  it('fires once when the N-th mutation of an actor falls into one window, and again in the next window', () => {
    const d = new Detector(burst, limits);
    const alerts = run(d, [
      ...Array.from({ length: 7 }, (_, i) => cdc({ at: T + i * 10, actor: 'bot', target: i })),
      ...Array.from({ length: 4 }, (_, i) => cdc({ at: T + i * 10, actor: 'human', target: i })),
      ...Array.from({ length: 5 }, (_, i) => cdc({ at: T + 1000 + i, actor: 'bot', target: i })),
    ]);
    expect(alerts).toEqual([
      expect.objectContaining({ alertId: `actor-burst:shop.likes:actor:bot:${T}`, rule: 'burst', users: ['bot'], observed: 5, threshold: 5, windowStart: T, windowEnd: T + 1000 }),
      expect.objectContaining({ alertId: `actor-burst:shop.likes:actor:bot:${T + 1000}` }),
    ]);
  });

  it('counts every event a CDC record merged, by source as well as by actor, and leaves out ignored actors', () => {
    const r = rules({ 'shop.likes': { burst: [{ name: 'src', by: 'source', limit: 6, windowMs: 1000 }] } });
    const d = new Detector(r, limits, new Set(['AsyncRequestProcessor']));
    expect(run(d, [cdc({ at: T, actor: 'AsyncRequestProcessor', source: 's', events: 10 })])).toEqual([]);
    expect(run(d, [cdc({ at: T, actor: 'a1', source: 's', events: 3 }), cdc({ at: T + 1, actor: 'a2', source: 's', events: 3 })])).toEqual([
      expect.objectContaining({ subject: { kind: 'source', id: 's' }, users: ['s'] }),
    ]);
    expect(run(d, [cdc({ at: T, actor: 'a1', source: 'x', table: 'views', events: 50 })])).toEqual([]);
  });
});

describe('flapping and fan-out', () => {
  const r = rules({
    '*': {
      flapping: [{ name: 'flap', toggles: 4, windowMs: 10_000 }],
      fanOut: [{ name: 'fan', targets: 5, windowMs: 10_000 }],
    },
  });

  it('flapping counts the insert/delete toggles of one edge, not its updates nor other edges', () => {
    const d = new Detector(r, limits);
    const toggles = ['CREATED', 'UPDATED', 'DELETED', 'IDLE', 'CREATED', 'DELETED'] as const;
    const alerts = run(d, [
      ...toggles.map((status, i) => cdc({ at: T + i, source: 'u', target: 9, status })),
      ...['CREATED', 'DELETED', 'CREATED'].map((s, i) => cdc({ at: T + 10 + i, source: 'u', target: 8, status: s as 'CREATED' })),
    ]);
    expect(alerts).toEqual([expect.objectContaining({ rule: 'flapping', subject: { kind: 'edge', id: 'u:9' }, users: ['u'], observed: 4 })]);
  });

  it('fan-out counts distinct targets of one source', () => {
    const d = new Detector(r, limits);
    const same = Array.from({ length: 20 }, (_, i) => cdc({ at: T + i, source: 'fan', target: i % 4, status: 'UPDATED' }));
    expect(run(d, same)).toEqual([]);
    const alerts = run(d, [cdc({ at: T + 30, source: 'fan', target: 77, status: 'UPDATED' }), cdc({ at: T + 31, source: 'fan', target: 78, status: 'UPDATED' })]);
    expect(alerts).toEqual([expect.objectContaining({ rule: 'fan-out', subject: { kind: 'source', id: 'fan' }, observed: 5, windowStart: T })]);
  });
});

describe('target spike', () => {
  const r = rules({ '*': { targetSpike: [{ name: 'spike', bucketMs: 1000, alpha: 0.3, zScore: 4, minGrowth: 10, minStddev: 1 }] } });
  /** `n` new likes of `target` in the bucket starting at `start`. */
  const likes = (target: string, start: number, n: number) => Array.from({ length: n }, (_, i) => cdc({ at: start + i, source: `u${i}`, target }));

  it('judges a bucket against the EWMA of the earlier ones once the watermark passed it', () => {
    const d = new Detector(r, limits);
    const steady = [2, 3, 2, 3, 2, 3];
    let alerts: AlertDraft[] = [];
    steady.forEach((n, b) => (alerts = alerts.concat(run(d, likes('item', T + b * 1000, n)))));
    // A steady target, then 30 likes in one bucket: the bucket is not judged while it is open ...
    alerts = alerts.concat(run(d, likes('item', T + 6000, 30)));
    expect(alerts).toEqual([]);
    // ... and is once a later record moves the watermark past it.
    const spike = run(d, [cdc({ at: T + 7500, source: 'x', target: 'other' })]);
    expect(spike).toEqual([
      expect.objectContaining({ rule: 'target-spike', subject: { kind: 'target', id: 'item' }, users: ['item'], observed: 30, windowStart: T + 6000 }),
    ]);
    const { mean, zScore } = spike[0]!.baseline!;
    expect(mean).toBeGreaterThan(1.5);
    expect(mean).toBeLessThan(3);
    expect(zScore).toBeGreaterThanOrEqual(4);
  });

  it('nets deletes against inserts: a target liked and unliked again and again does not grow', () => {
    const d = new Detector(r, limits);
    const churn = Array.from({ length: 40 }, (_, i) => cdc({ at: T + i, source: `u${i % 2}`, target: 'item', status: i % 4 < 2 ? 'CREATED' : 'DELETED' }));
    expect([...run(d, churn), ...run(d, [cdc({ at: T + 5000, target: 'z' })])]).toEqual([]);
  });

  it('waits for every active partition: a partition behind holds the bucket open', () => {
    const d = new Detector(r, limits);
    run(d, likes('item', T, 12), 'cdc:0');
    run(d, [cdc({ at: T + 100, target: 'y' })], 'cdc:1');
    expect(run(d, [cdc({ at: T + 5000, target: 'z' })], 'cdc:0')).toEqual([]);
    expect(run(d, likes('item', T + 200, 3), 'cdc:1')).toEqual([]);
    const alerts = run(d, [cdc({ at: T + 5000, target: 'z' })], 'cdc:1');
    expect(alerts).toEqual([expect.objectContaining({ observed: 15 })]);
  });

  it('a partition not read yet holds the watermark; one read to its end does not', () => {
    const d = new Detector(r, limits);
    d.partitionState('cdc:0', false);
    d.partitionState('cdc:1', false);
    expect(run(d, [...likes('item', T, 12), cdc({ at: T + 9000, target: 'z' })], 'cdc:0')).toEqual([]);
    d.partitionState('cdc:0', true);
    expect(run(d, [], 'cdc:1')).toEqual([]); // cdc:1 unread: the bucket may still get records from it
    d.partitionState('cdc:1', true); // empty after all
    expect(run(d, [], 'cdc:1')).toEqual([expect.objectContaining({ observed: 12 })]);
  });
});

describe('order independence, bounds, restore', () => {
  const mixed = rules({
    '*': {
      burst: [{ name: 'b', by: 'actor', limit: 8, windowMs: 1000 }],
      flapping: [{ name: 'f', toggles: 4, windowMs: 2000 }],
      fanOut: [{ name: 'o', targets: 6, windowMs: 2000 }],
      targetSpike: [{ name: 's', bucketMs: 1000, minGrowth: 6, zScore: 3 }],
    },
  });
  /** A seeded workload over 3 partitions: each partition's records in event-time order, as the core writes them. */
  function workload(seed: number): CdcRecord[][] {
    const rnd = seededRandom(seed);
    const parts: CdcRecord[][] = [[], [], []];
    for (let i = 0; i < 3000; i++) {
      const actor = `u${Math.floor(rnd() * 12)}`;
      const status = rnd() < 0.7 ? 'CREATED' : 'DELETED';
      parts[Math.floor(rnd() * 3)]!.push(cdc({ at: T + i * 3, actor, target: Math.floor(rnd() * 15), status }));
    }
    return parts;
  }
  /** Reads the partitions in a random interleaving and random batch sizes; returns the alert ids. */
  function consume(d: Detector, parts: CdcRecord[][], seed: number, stopAfter = Infinity): { ids: string[]; consumed: number[] } {
    let x = seed;
    const rnd = () => ((x = (x * 69069 + 1) % 2 ** 32) / 2 ** 32);
    const pos = parts.map(() => 0);
    const mark = () => parts.forEach((records, i) => d.partitionState(`cdc:${i}`, pos[i]! >= records.length));
    mark();
    const ids: string[] = [];
    let total = 0;
    while (pos.some((p, i) => p < parts[i]!.length) && total < stopAfter) {
      const i = Math.floor(rnd() * parts.length);
      // Up to a third of the workload at once: one partition can run far ahead of the others.
      const n = 1 + Math.floor(rnd() * 1000);
      for (const r of parts[i]!.slice(pos[i], pos[i]! + n)) ids.push(...d.observe(r, `cdc:${i}`).map((a) => a.alertId));
      total += Math.min(n, parts[i]!.length - pos[i]!);
      pos[i] = Math.min(parts[i]!.length, pos[i]! + n);
      mark();
      ids.push(...d.advance().map((a) => a.alertId));
    }
    return { ids, consumed: pos };
  }

  it('the same records give the same alerts whatever the interleaving of partitions and the batch sizes', () => {
    const parts = workload(7);
    const first = consume(new Detector(mixed, { ...limits, graceMs: 0 }), parts, 1).ids.sort();
    expect(new Set(first.map((id) => id.split(':')[0])).size).toBe(4); // every rule fired in this workload
    for (const seed of [2, 3, 4]) expect(consume(new Detector(mixed, limits), parts, seed).ids.sort()).toEqual(first);
  });

  it('a detector restored from its saved entries mid-way goes on exactly as one that never stopped', () => {
    const parts = workload(11);
    const whole = consume(new Detector(mixed, limits), parts, 5).ids.sort();
    const a = new Detector(mixed, limits);
    const saved = new Map<string, StateEntry>();
    const save = () => {
      const c = a.takeChanges();
      for (const [k, e] of c.upserts) saved.set(k, structuredClone(e));
      for (const k of c.deletes) saved.delete(k);
    };
    const { ids: before, consumed } = consume(a, parts, 5, 1500);
    save();
    const b = new Detector(mixed, limits);
    for (const [k, e] of saved) b.restore(k, structuredClone(e));
    for (const [p, progress] of a.partitions) b.restorePartition(p, progress);
    const rest = parts.map((records, i) => records.slice(consumed[i]));
    expect([...before, ...consume(b, rest, 9).ids].sort()).toEqual(whole);
  });

  it('holds at most maxKeys entries, dropping the least recently updated', () => {
    const d = new Detector(burst, { ...limits, maxKeys: 100 });
    run(d, Array.from({ length: 1000 }, (_, i) => cdc({ at: T + i, actor: `a${i}` })));
    expect(d.size).toBe(100);
    expect(d.stats.evicted).toBe(900);
    const kept = d.takeChanges().upserts.map(([k]) => k.split('\u0000')[2]);
    expect(kept).toContain('a999');
    expect(kept).not.toContain('a0');
  });

  it('drops every window the watermark closed, so the state shrinks back once traffic moves on', () => {
    const d = new Detector(mixed, limits);
    run(d, Array.from({ length: 500 }, (_, i) => cdc({ at: T + i, actor: `a${i}`, target: i })));
    expect(d.size).toBeGreaterThan(1000);
    run(d, [cdc({ at: T + 60_000, actor: 'late-comer', target: 1, status: 'UPDATED' })]);
    // Only the newest record's windows remain (and targets whose baseline has not decayed yet).
    const left = d.takeChanges().upserts.map(([k]) => k.split('\u0000')[1]);
    expect(left.filter((rule) => rule !== 's')).toEqual(['b', 'o']);
  });

  it('does not count a record whose window the watermark already closed', () => {
    const d = new Detector(burst, { ...limits, graceMs: 500 });
    run(d, [cdc({ at: T + 3000, actor: 'x' })]);
    expect(run(d, Array.from({ length: 10 }, () => cdc({ at: T + 100, actor: 'late' })))).toEqual([]);
    expect(d.stats.late).toBe(10);
    expect(run(d, Array.from({ length: 10 }, () => cdc({ at: T + 2000, actor: 'in-grace' })))).toHaveLength(1);
  });
});
