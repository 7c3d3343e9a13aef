/**
 * Reads the Prometheus text exposition format (what prom-client serves on every app's /metrics) into samples.
 * prom-client writes this format but cannot read it, and the format is a line per sample: a small reader here
 * beats a dependency. Comments (# HELP, # TYPE) are skipped; timestamps, if any, are ignored.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

const unescape = (s: string) => s.replace(/\\(n|\\|")/g, (_, c: string) => (c === 'n' ? '\n' : c));

export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) {
      LABEL.lastIndex = 0;
      let l: RegExpExecArray | null;
      while ((l = LABEL.exec(m[2])) !== null) labels[l[1]!] = unescape(l[2]!);
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

/** Sum of the samples of one name whose labels include `match`. Undefined when there is none. */
export function sumOf(samples: Sample[], name: string, match: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).some(([k, v]) => s.labels[k] !== v)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}

/** Cumulative bucket counts of a histogram (summed over the other labels), by upper bound, ascending. */
export function bucketsOf(samples: Sample[], name: string, match: Record<string, string> = {}): Map<number, number> {
  const by = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== `${name}_bucket` || s.labels['le'] === undefined) continue;
    if (Object.entries(match).some(([k, v]) => s.labels[k] !== v)) continue;
    const le = s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']);
    by.set(le, (by.get(le) ?? 0) + s.value);
  }
  return new Map([...by].sort((a, b) => a[0] - b[0]));
}

/**
 * The q-quantile of the observations between two readings of a histogram, interpolated linearly inside the
 * bucket that holds it (as Prometheus's histogram_quantile). Undefined when nothing was observed in between.
 * A quantile in the +Inf bucket is reported as the highest finite bound.
 */
export function quantileBetween(q: number, before: Map<number, number> | undefined, now: Map<number, number>): number | undefined {
  const deltas = [...now].map(([le, c]) => [le, c - (before?.get(le) ?? 0)] as const);
  const total = deltas.at(-1)?.[1] ?? 0;
  // A restarted process resets its counters: a negative delta means "no comparable interval".
  if (total <= 0 || deltas.some(([, d]) => d < 0)) return undefined;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of deltas) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = c - prevCount;
      return inBucket <= 0 ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}
