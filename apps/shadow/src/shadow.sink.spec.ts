import { describe, it, expect } from '@jest/globals';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Comparer } from './comparer';
import { keyId } from './keys';
import { ShadowSink } from './shadow.sink';
import { decoded, FakeCore } from './spec-helpers';

const logger = pino({ level: 'silent' });

function setup(countSampleRate = 0) {
  const primary = new FakeCore();
  const target = new FakeCore();
  const registry = new Registry();
  const comparer = new Comparer(primary.asClient(), target.asClient(), { settleMs: 0, settleRounds: 1, intervalMs: 10, batch: 100, maxPending: 100, maxDivergent: 10 }, logger, registry);
  const sink = new ShadowSink(primary.asClient(), target.asClient(), comparer, { maxBatch: 2, countSampleRate, random: () => 0.5 }, logger, registry);
  return { target, comparer, sink };
}

describe('ShadowSink', () => {
  it('mirrors what the primary applied, in WAL order per table, and skips queued records', async () => {
    const { target, comparer, sink } = setup();
    await sink.start();
    await sink.write([decoded(1), decoded(2, { queue: true }), decoded(3, { table: 'views' }), decoded(4), decoded(5), decoded(6, { queue: true, table: 'views' })]);
    expect(target.calls.map((c) => [c.table, c.items.map((i) => i.edge.target)])).toEqual([
      ['likes', [1, 4]], // maxBatch 2: chunked, in order
      ['likes', [5]],
      ['views', [3]],
    ]);
    expect(comparer.report().pending).toBe(4);
    expect(comparer.lagSeconds(1_764_115_200_005 + 1_000)).toBe(1);
  });

  it('adds the source OUT and target IN counts of a sampled edge', async () => {
    const { comparer, sink } = setup(0.6);
    await sink.write([decoded(1)]);
    const due = comparer.pending.due(Number.MAX_SAFE_INTEGER, 10).map((e) => e.id);
    expect(due).toEqual([
      keyId({ kind: 'edge', db: 'shop', table: 'likes', source: 'u-1', target: 1 }),
      keyId({ kind: 'count', db: 'shop', table: 'likes', direction: 'OUT', start: 'u-1' }),
      keyId({ kind: 'count', db: 'shop', table: 'likes', direction: 'IN', start: 1 }),
    ]);
  });

  it('touches no key when the target failed, so the runtime writes the batch again', async () => {
    const { target, comparer, sink } = setup();
    target.mutateForced = async () => {
      throw Object.assign(new Error('503'), { retryable: true });
    };
    await expect(sink.write([decoded(1)])).rejects.toThrow('503');
    expect(comparer.report().pending).toBe(0);
  });
});
