/** Reading what a running shadow says about itself: its JSON report file and its /metrics gauges. */
import { readFileSync } from 'node:fs';
import type { ShadowReport } from '../src/comparer';

/** The last report written, or undefined before the first one (or while it is being replaced). */
export function readReport(file: string): ShadowReport | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ShadowReport;
  } catch {
    return undefined;
  }
}

/** The first sample of a metric on shadow's /metrics. */
export async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ').pop());
}
