// Shared by the *.spec.ts files only (not exported from index.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const LIB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const SAMPLES_DIR = fileURLToPath(new URL('../samples/', import.meta.url));

export function readSample(relativePath: string): string {
  return readFileSync(SAMPLES_DIR + relativePath, 'utf8');
}

export function sampleFiles(version: 'v2' | 'v3'): string[] {
  return readdirSync(SAMPLES_DIR + version)
    .filter((name) => name.endsWith('.json'))
    .sort();
}
