import { describe, expect, it } from '@jest/globals';
import { History, lagGrowing, type Point } from './history';

describe('history', () => {
  it('keeps only the window and turns a missing value into a gap', () => {
    const h = new History(10_000);
    for (let t = 0; t <= 20_000; t += 5_000) h.push('s', { label: 's', unit: '' }, t, t === 15_000 ? undefined : t / 1000);
    expect(h.points('s')).toEqual([[10_000, 10], [15_000, null], [20_000, 20]]);
    expect(h.recent('s', 5_000, 20_000)).toEqual([[15_000, null], [20_000, 20]]);
    expect(h.toJSON()['s']).toMatchObject({ label: 's', points: [[10_000, 10], [15_000, null], [20_000, 20]] });
  });

  it('calls a lag growing only when it rose at every sample over most of the window and ends high enough', () => {
    const series = (...v: number[]): Point[] => v.map((x, i) => [i * 10_000, x]);
    expect(lagGrowing(series(100, 400, 900, 1500, 2200, 3000, 3900), 60_000, 500)).toBe('lag growing: 100 → 3900 records in 60 s');
    expect(lagGrowing(series(100, 400, 300, 1500, 2200, 3000, 3900), 60_000, 500)).toBeUndefined(); // it fell once: catching up
    expect(lagGrowing(series(1, 2, 3, 4, 5, 6, 7), 60_000, 500)).toBeUndefined(); // too small to matter
    expect(lagGrowing(series(100, 900, 3000), 60_000, 500)).toBeUndefined(); // 20 s of a 60 s window: too soon to tell
    expect(lagGrowing(series(800, 800, 800, 800, 800), 40_000, 500)).toBeUndefined(); // steady
    expect(lagGrowing(series(100, 400, 900, 900, 2200, 3000, 3900), 60_000, 500)).toBeUndefined(); // held once: it works
  });
});
