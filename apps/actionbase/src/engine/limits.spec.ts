import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SliceSizer, sortInSlices, yieldToEventLoop } from './limits';

describe('slices of heavy work', () => {
  it('resume one per turn of the event loop, first come first served, with I/O polled between turns', async () => {
    const order: string[] = [];
    const worker = async (name: string) => {
      for (let i = 0; i < 3; i++) {
        await yieldToEventLoop();
        order.push(`${name}${i}`);
        const end = performance.now() + 2;
        while (performance.now() < end); // a slice that holds the loop for 2 ms
      }
    };
    // A timer due at once stands for a probe: with one setImmediate per waiter, all three workers ran a
    // slice in the same turn and the timer came after the three of them.
    const probe = new Promise<void>((resolve) => setTimeout(() => (order.push('probe'), resolve()), 0));
    await Promise.all([worker('a'), worker('b'), worker('c'), probe]);
    expect(order.filter((x) => x !== 'probe')).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
    expect(order.indexOf('probe')).toBeLessThan(2);
  });

  it('size commits towards the budget, within their bounds', () => {
    const s = new SliceSizer(64, 32, 250, 4);
    s.observe(64, 2); // room for 128: halfway there
    expect(s.size).toBe(96);
    for (let i = 0; i < 20; i++) s.observe(s.size, s.size * 0.01); // 10 µs per key: 400 would fit
    expect(s.size).toBe(250);
    for (let i = 0; i < 20; i++) s.observe(s.size, s.size * 1); // 1 ms per key: 4 would fit
    expect(s.size).toBe(32);
  });

  it('sortInSlices gives what a stable sort gives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.nat()), { maxLength: 4_000 }), async (xs) => {
        const expected = xs.map((x, i) => [x, i] as const).sort(([a], [b]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([x]) => x);
        expect(await sortInSlices(xs, (x) => x[0])).toEqual(expected);
      }),
      { numRuns: 30 },
    );
  });
});
