import { describe, it, expect } from '@jest/globals';
import { TokenBucket, type Clock } from './token-bucket';

/** A clock that moves only when someone sleeps: waits are counted exactly, without real time. */
function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

describe('TokenBucket', () => {
  it('lets a burst of the bucket size through at once, then holds the rate', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(100, 10, clock);
    expect(await b.take(10)).toBe(0);
    // 10 more at 100/s: 100 ms
    expect(await b.take(10)).toBeCloseTo(100, 5);
    // 1000 mutations in takes of 10 take 10 s at 100/s
    const start = clock.t;
    for (let i = 0; i < 100; i++) await b.take(10);
    expect((clock.t - start) / 1000).toBeCloseTo(10, 1);
  });

  it('a take larger than the bucket goes when the bucket is full and leaves a debt that the next take waits out', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(100, 10, clock);
    expect(await b.take(50)).toBe(0); // never split a request: it goes, in debt
    expect(b.available()).toBeCloseTo(-40, 5);
    expect(await b.take(10)).toBeCloseTo(500, 5); // from -40 to 10 at 100/s
  });

  it('serves waiters in order', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(10, 1, clock);
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => b.take(1).then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
  });

  it('refuses a rate of 0 (RATE_LIMIT_PER_SEC=0 means no limiter at all)', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(RangeError);
  });
});
