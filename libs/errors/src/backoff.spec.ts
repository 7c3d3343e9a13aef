import { describe, it, expect } from '@jest/globals';
import { backoffCap, backoffDelay, sleep } from './backoff';

const policy = { baseMs: 100, maxMs: 5_000 };

describe('backoff with full jitter', () => {
  it('the cap doubles from baseMs and stops at maxMs', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffCap(n, policy))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('never exceeds maxMs, even after very many retries', () => {
    expect(backoffCap(10_000, policy)).toBe(5_000);
    expect(backoffDelay(10_000, policy, () => 0.999999)).toBeLessThan(5_000);
  });

  it('draws uniformly from [0, cap): the whole window, down to zero', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(399);
    for (let retry = 1; retry <= 12; retry++) {
      for (let i = 0; i < 200; i++) {
        const d = backoffDelay(retry, policy);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCap(retry, policy));
      }
    }
  });

  it('spreads the retries of many consumers (not all the same delay)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6, policy)));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('a sleep ends early, with the signal reason, when its signal aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = sleep(60_000, ac.signal);
    const reason = new Error('stopped');
    ac.abort(reason);
    await expect(p).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(sleep(10, ac.signal)).rejects.toBe(reason);
    await expect(sleep(5)).resolves.toBeUndefined();
  });
});
