/**
 * What every benchmark reports the same way: min/median/max over rounds, the machine's load while it ran, and
 * one final JSON line (`BENCH_RESULT {...}`) that bench/run-all.ts collects into bench/results/. With
 * `--json <file>` (or BENCH_JSON=<file>) the same object is also written to that file.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export interface Spread {
  min: number;
  median: number;
  max: number;
  n: number;
}

export function spread(xs: readonly number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return { min: NaN, median: NaN, max: NaN, n: 0 };
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s[s.length - 1]!, n: s.length };
}

const fmtNum = (x: number, digits: number): string =>
  !Number.isFinite(x) ? 'n/a' : digits === 0 ? Math.round(x).toLocaleString('en') : x.toFixed(digits);

/** `median (min–max)`, e.g. `104,519 (98,000–110,212)`. */
export function fmtSpread(s: Spread, digits = 0): string {
  return `${fmtNum(s.median, digits)} (${fmtNum(s.min, digits)}–${fmtNum(s.max, digits)})`;
}

/** The 1-minute load average against the core count: on a shared 2-core machine this explains most spread. */
export function machineLoad(): { load1: number; load5: number; cores: number } {
  const [load1, load5] = loadavg();
  return { load1: Number(load1!.toFixed(2)), load5: Number(load5!.toFixed(2)), cores: cpus().length };
}

export function printLoad(when: string): { load1: number; load5: number; cores: number } {
  const l = machineLoad();
  console.log(`machine load ${when}: ${l.load1} (1 min), ${l.load5} (5 min) on ${l.cores} cores`);
  return l;
}

/** One row of a benchmark's result: what was measured, its spread over rounds, and optionally its ratio to the baseline. */
export interface ResultRow {
  name: string;
  unit: string;
  value: Spread;
  /** Ratio to the baseline row, taken per round (same round, same load) and summarised the same way. */
  ratio?: Spread;
  /** What the ratio is against. */
  baseline?: string;
  /** The goal the ratio is held to, if any (e.g. 0.8). */
  target?: number;
}

export interface BenchResult {
  bench: string;
  rounds: number;
  params: Record<string, unknown>;
  load: { before: ReturnType<typeof machineLoad>; after: ReturnType<typeof machineLoad> };
  rows: ResultRow[];
  notes?: string[];
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** `--json <file>` from argv, else BENCH_JSON (how bench/run-all.ts asks), if either is given. */
export function jsonOutArg(argv: readonly string[] = process.argv): string | undefined {
  const i = argv.indexOf('--json');
  return i >= 0 ? argv[i + 1] : process.env['BENCH_JSON'] || undefined;
}

/** Positional arguments (everything but `--json <file>`). */
export function positionalArgs(argv: readonly string[] = process.argv.slice(2)): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') i++;
    else out.push(argv[i]!);
  }
  return out;
}

/** Prints the markdown table of the rows, then the final JSON line; writes the JSON to `--json <file>` too. */
export function emitResult(result: BenchResult): void {
  console.log(`\n${result.bench}: ${result.rounds} rounds, median (min–max); load ${result.load.before.load1} -> ${result.load.after.load1} on ${result.load.after.cores} cores`);
  console.log('| row | value | ratio to baseline |');
  console.log('|---|---:|---:|');
  for (const r of result.rows) {
    const ratio = r.ratio ? `${fmtSpread(r.ratio, 2)}${r.baseline ? ` of ${r.baseline}` : ''}${r.target !== undefined ? ` (target ≥ ${r.target})` : ''}` : '';
    console.log(`| ${r.name} | ${fmtSpread(r.value, r.value.median < 100 ? 2 : 0)} ${r.unit} | ${ratio} |`);
  }
  for (const n of result.notes ?? []) console.log(`note: ${n}`);
  const line = JSON.stringify(result);
  const file = jsonOutArg();
  if (file) writeFileSync(file, line + '\n');
  console.log(RESULT_PREFIX + line);
}

/** Per-round ratios a[i] / b[i] of two series measured in the same rounds. */
export function pairedRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => (b[i] ? x / b[i]! : NaN));
}
