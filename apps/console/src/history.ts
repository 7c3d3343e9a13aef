/**
 * The console's memory: one series of (time, value) per figure, kept for a window (an hour by default) and
 * pruned on every push. At one sample per 5 s an hour is 720 points per series: an array is plenty.
 * A null value is a gap (the source did not answer), drawn as a break in the line.
 */
export type Point = [t: number, v: number | null];

export interface SeriesInfo {
  label: string;
  unit: string;
}

export class History {
  private readonly series = new Map<string, { info: SeriesInfo; points: Point[] }>();

  constructor(private readonly windowMs: number) {}

  push(id: string, info: SeriesInfo, t: number, v: number | null | undefined): void {
    let s = this.series.get(id);
    if (!s) this.series.set(id, (s = { info, points: [] }));
    s.info = info;
    s.points.push([t, v === undefined || !Number.isFinite(v) ? null : v]);
    const from = t - this.windowMs;
    let drop = 0;
    while (drop < s.points.length && s.points[drop]![0] < from) drop++;
    if (drop) s.points.splice(0, drop);
  }

  points(id: string): Point[] {
    return this.series.get(id)?.points ?? [];
  }

  /** The points of the last `ms` (for trend rules such as "lag growing"). */
  recent(id: string, ms: number, now: number): Point[] {
    return this.points(id).filter(([t]) => t >= now - ms);
  }

  toJSON(): Record<string, SeriesInfo & { points: Point[] }> {
    return Object.fromEntries([...this.series].map(([id, s]) => [id, { ...s.info, points: s.points }]));
  }
}

/**
 * A lag that rose at every sample of the window (never fell nor held) and ends at `min` or more: the consumer is
 * falling behind rather than working through a burst (a working consumer's lag drops or holds at some sample).
 * Returns the reason, or undefined.
 */
export function lagGrowing(points: Point[], windowMs: number, min: number): string | undefined {
  const vals = points.filter((p): p is [number, number] => p[1] !== null);
  if (vals.length < 3) return undefined;
  if (vals.at(-1)![0] - vals[0]![0] < windowMs * 0.6) return undefined;
  for (let i = 1; i < vals.length; i++) if (vals[i]![1] <= vals[i - 1]![1]) return undefined;
  const first = vals[0]![1];
  const last = vals.at(-1)![1];
  if (last <= first || last < min) return undefined;
  return `lag growing: ${first} → ${last} records in ${Math.round((vals.at(-1)![0] - vals[0]![0]) / 1000)} s`;
}
