import { describe, it, expect } from '@jest/globals';
import type { KeyRef } from './keys';
import { PendingKeys } from './pending';

const ref = (t: number): KeyRef => ({ kind: 'edge', db: 'shop', table: 'likes', source: 'u', target: t });

describe('PendingKeys', () => {
  it('hands out keys once they rested, oldest first, a touched key moving back', () => {
    const p = new PendingKeys(10);
    p.touch(ref(1), 0, 100);
    p.touch(ref(2), 10, 100);
    p.touch(ref(1), 50, 100); // written again: due later
    expect(p.due(109, 10)).toEqual([]);
    expect(p.due(110, 10).map((e) => e.ref)).toEqual([ref(2)]);
    expect(p.due(150, 10).map((e) => e.ref)).toEqual([ref(2), ref(1)]);
    expect(p.due(150, 1)).toHaveLength(1);
  });

  it('keeps at most max keys and counts the ones it could not keep', () => {
    const p = new PendingKeys(2);
    expect(p.touch(ref(1), 0, 0)).toBe(true);
    expect(p.touch(ref(2), 0, 0)).toBe(true);
    expect(p.touch(ref(3), 0, 0)).toBe(false);
    expect(p.touch(ref(1), 1, 0)).toBe(true); // a key already waiting is kept
    expect(p.size).toBe(2);
    expect(p.dropped).toBe(1);
  });

  it('does not settle or retry a key touched after it was read', () => {
    const p = new PendingKeys(10);
    p.touch(ref(1), 0, 0);
    const [seen] = p.due(0, 10);
    p.touch(ref(1), 5, 0);
    p.settle(seen!);
    expect(p.size).toBe(1);
    p.retry(seen!, 5, 100, true);
    expect(p.due(5, 10)[0]).toMatchObject({ failures: 0 });
    const [now] = p.due(5, 10);
    p.retry(now!, 5, 100, true);
    expect(p.due(105, 10)[0]).toMatchObject({ failures: 1 });
    p.settle(p.due(105, 10)[0]!);
    expect(p.size).toBe(0);
  });
});
