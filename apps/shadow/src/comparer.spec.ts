import { describe, it, expect } from '@jest/globals';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Comparer } from './comparer';
import { keyId, type KeyRef } from './keys';
import { FakeCore } from './spec-helpers';

const logger = pino({ level: 'silent' });
const edge = (t: number): KeyRef => ({ kind: 'edge', db: 'shop', table: 'likes', source: 'u', target: t });
const out: KeyRef = { kind: 'count', db: 'shop', table: 'likes', direction: 'OUT', start: 'u' };

function setup() {
  const primary = new FakeCore();
  const target = new FakeCore();
  const registry = new Registry();
  const c = new Comparer(primary.asClient(), target.asClient(), { settleMs: 100, settleRounds: 2, intervalMs: 10, batch: 100, maxPending: 100, maxDivergent: 10 }, logger, registry);
  const gauge = async (name: string) => (await registry.getSingleMetric(name)!.get()).values[0]?.value;
  return { primary, target, c, gauge };
}

describe('Comparer', () => {
  it('settles keys both cores answer alike, only once they rested', async () => {
    const { primary, target, c, gauge } = setup();
    for (const core of [primary, target]) core.put({ version: 5, source: 'u', target: 1, properties: { created_at: 5, note: null } });
    target.put({ version: 5, source: 'u', target: 1, properties: { created_at: 5 } }); // a null property reads as unset
    c.touched([edge(1), edge(2), out], 1_000, 0);
    await c.round(50);
    expect(c.report(50).compared).toEqual({ equal: 0, differs: 0 });
    await c.round(100);
    expect(c.report(100)).toMatchObject({ pending: 0, compared: { equal: 3, differs: 0 }, divergentCount: 0 });
    expect(await gauge('shadow_divergent_keys')).toBe(0);
  });

  it('declares a key divergent after settleRounds failures, with both sides, and clears it once they agree', async () => {
    const { primary, target, c, gauge } = setup();
    primary.put({ version: 7, source: 'u', target: 1, properties: { created_at: 7 } });
    c.touched([edge(1), out], null, 0);
    await c.round(100); // first failure: read again later (the target may only be behind)
    expect(c.report(100)).toMatchObject({ pending: 2, divergentCount: 0 });
    await c.round(200);
    const r = c.report(200);
    expect(r.pending).toBe(0);
    expect(r.divergent.map((d) => d.key).sort()).toEqual([keyId(out), keyId(edge(1))].sort());
    expect(r.divergent.find((d) => d.key === keyId(edge(1)))).toMatchObject({
      primary: { edge: { version: 7, source: 'u', target: '1', properties: { created_at: 7 } } },
      target: { edge: null },
    });
    expect(r.divergent.find((d) => d.key === keyId(out))).toMatchObject({ primary: { count: 1 }, target: { count: 0 } });
    expect(await gauge('shadow_divergent_keys')).toBe(2);
    target.put({ version: 7, source: 'u', target: 1, properties: { created_at: 7 } });
    await c.round(300); // divergent keys are read every round
    expect(c.report(300).divergentCount).toBe(0);
  });

  it('a write to a key waiting for a second look starts it over', async () => {
    const { primary, c } = setup();
    primary.put({ version: 7, source: 'u', target: 1, properties: {} });
    c.touched([edge(1)], null, 0);
    await c.round(100);
    c.touched([edge(1)], null, 150);
    await c.round(250);
    expect(c.report(250)).toMatchObject({ pending: 1, divergentCount: 0 });
  });

  it('keeps the keys pending when a core does not answer', async () => {
    const { target, c } = setup();
    target.failReads = true;
    c.touched([edge(1)], null, 0);
    await c.round(100);
    await c.round(200);
    await c.round(300);
    expect(c.report(300)).toMatchObject({ pending: 1, divergentCount: 0, compared: { equal: 0, differs: 0 } });
  });

  it('reports lag from the newest mirrored record', () => {
    const { c } = setup();
    expect(c.lagSeconds(5_000)).toBeNull();
    c.touched([], 1_000, 0);
    c.touched([], 500, 0);
    expect(c.lagSeconds(5_000)).toBe(4);
  });
});
