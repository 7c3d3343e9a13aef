import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Change } from './changelog';
import { eventOrder, PointInTimeFold, type Example } from './fold';

/** A random but valid history over a few users and items: each change flips or keeps one edge's activity. */
const history = fc
  .array(fc.record({ user: fc.integer({ min: 0, max: 4 }), item: fc.integer({ min: 0, max: 5 }), gap: fc.integer({ min: 0, max: 3 }), op: fc.constantFrom('on', 'off', 'touch') }), {
    minLength: 1,
    maxLength: 80,
  })
  .map((steps) => {
    const active = new Set<string>();
    let at = 1_000;
    return steps.map((s, i): Change => {
      at += s.gap;
      const source = `u${s.user}`;
      const target = `i${s.item}`;
      const k = `${source}|${target}`;
      const was = active.has(k);
      const now = s.op === 'on' ? true : s.op === 'off' ? false : was;
      if (now) active.add(k);
      else active.delete(k);
      const side = (a: boolean) => ({ source, target, edgeId: null, active: a, version: at });
      return { processedAtMs: at, seq: BigInt(i + 1), partition: i % 3, offset: BigInt(i), before: i % 2 === 0 && !was ? null : side(was), after: side(now) };
    });
  });

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let x = seed || 1;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function foldAll(changes: Change[], negatives = 0, seed = 1): { examples: Example[]; fold: PointInTimeFold } {
  const fold = new PointInTimeFold({ negatives, seed });
  const examples: Example[] = [];
  for (const c of [...changes].sort(eventOrder)) examples.push(...fold.fold(c));
  return { examples, fold };
}

/** The counts from the changes strictly before `until` in event order, replayed from scratch (the oracle). */
function countsBefore(changes: Change[], until: Change): { inCount: Map<string, number>; outCount: Map<string, number> } {
  const inCount = new Map<string, number>();
  const outCount = new Map<string, number>();
  for (const c of changes) {
    if (eventOrder(c, until) >= 0) continue;
    const add = (m: Map<string, number>, k: string, d: number) => m.set(k, (m.get(k) ?? 0) + d);
    if (c.before?.active) {
      add(inCount, c.before.target, -1);
      add(outCount, c.before.source, -1);
    }
    if (c.after?.active) {
      add(inCount, c.after.target, 1);
      add(outCount, c.after.source, 1);
    }
  }
  return { inCount, outCount };
}

describe('PointInTimeFold', () => {
  it('every feature equals the counts replayed from the changes strictly before the example, whatever the input order', () => {
    fc.assert(
      fc.property(history, fc.integer({ min: 0, max: 1000 }), (changes, seed) => {
        const { examples, fold } = foldAll(shuffled(changes, seed), 2, seed);
        const bySeq = new Map(changes.map((c) => [c.seq, c]));
        for (const e of examples) {
          const { inCount, outCount } = countsBefore(changes, bySeq.get(e.seq!)!);
          expect(e.itemInCount).toBe(inCount.get(e.item) ?? 0);
          expect(e.userOutCount).toBe(outCount.get(e.user) ?? 0);
        }
        expect(fold.stats.inconsistencies).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('a history cut at any time gives exactly the full history examples before that time (the future changes nothing)', () => {
    fc.assert(
      fc.property(history, fc.nat(), (changes, pick) => {
        const cutAt = changes[pick % changes.length]!.processedAtMs;
        const full = foldAll(changes, 1, 7).examples.filter((e) => e.eventTimeMs < cutAt);
        const prefix = foldAll(changes.filter((c) => c.processedAtMs < cutAt), 1, 7).examples;
        expect(prefix).toEqual(full);
      }),
      { numRuns: 200 },
    );
  });

  it('labels an edge turning active "active", turning inactive "removed", and makes no example when it stays as it was', () => {
    const s = (active: boolean) => ({ source: 'u', target: 'i', edgeId: null, active, version: 1 });
    const c = (seq: number, before: boolean | null, after: boolean | null): Change => ({
      processedAtMs: seq,
      seq: BigInt(seq),
      partition: 0,
      offset: BigInt(seq),
      before: before === null ? null : s(before),
      after: after === null ? null : s(after),
    });
    const { examples } = foldAll([c(1, null, true), c(2, true, true), c(3, true, false), c(4, false, false)]);
    expect(examples.map((e) => [e.label, e.itemInCount])).toEqual([
      ['active', 0],
      ['removed', 1],
    ]);
  });

  it('moves a multi-edge whose ends change on update from the old ends counts to the new ones', () => {
    const side = (source: string, target: string, active: boolean) => ({ source, target, edgeId: '7', active, version: 1 });
    const changes: Change[] = [
      { processedAtMs: 1, seq: 1n, partition: 0, offset: 0n, before: null, after: side('a', 'x', true) },
      { processedAtMs: 2, seq: 2n, partition: 0, offset: 1n, before: side('a', 'x', true), after: side('b', 'y', true) },
    ];
    const { fold } = foldAll(changes);
    expect([...fold.inCount]).toEqual([['y', 1]]);
    expect([...fold.outCount]).toEqual([['b', 1]]);
    expect(fold.active.get('id:7')).toMatchObject({ source: 'b', target: 'y', order: 2n });
  });

  it('refuses a change older than the last one folded', () => {
    const fold = new PointInTimeFold({ negatives: 0, seed: 1 });
    const c = (at: number): Change => ({ processedAtMs: at, seq: BigInt(at), partition: 0, offset: 0n, before: null, after: { source: 'u', target: `i${at}`, edgeId: null, active: true, version: 1 } });
    fold.fold(c(5));
    expect(() => fold.fold(c(4))).toThrow(/out of event-time order/);
  });

  describe('negative sampling', () => {
    it('draws only items seen before the example that the user has no active edge to then, and never the positive', () => {
      fc.assert(
        fc.property(history, fc.integer({ min: 0, max: 1000 }), (changes, seed) => {
          const { examples } = foldAll(changes, 3, seed);
          const sorted = [...changes].sort(eventOrder);
          for (const e of examples.filter((x) => x.label === 'negative')) {
            const until = sorted.find((c) => c.seq === e.seq)!;
            const before = sorted.filter((c) => eventOrder(c, until) < 0);
            expect(before.some((c) => c.after?.active && c.after.target === e.item)).toBe(true);
            const linked = countsBefore(
              before.filter((c) => (c.after ?? c.before)!.source === e.user),
              until,
            ).inCount;
            expect(linked.get(e.item) ?? 0).toBe(0);
            expect(e.item).not.toBe(until.after!.target);
          }
        }),
        { numRuns: 100 },
      );
    });

    it('gives the same negatives for the same seed and other ones for another seed', () => {
      const changes: Change[] = Array.from({ length: 60 }, (_, i) => ({
        processedAtMs: i,
        seq: BigInt(i + 1),
        partition: 0,
        offset: BigInt(i),
        before: null,
        after: { source: `u${i % 5}`, target: `i${i}`, edgeId: null, active: true, version: i },
      }));
      const negs = (seed: number) => foldAll(changes, 4, seed).examples.filter((e) => e.label === 'negative').map((e) => `${e.user}>${e.item}`);
      expect(negs(42)).toEqual(negs(42));
      expect(negs(42)).not.toEqual(negs(43));
      expect(negs(42).length).toBeGreaterThan(200);
    });
  });
});
