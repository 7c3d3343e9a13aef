// Shared by the *.spec.ts files only (not exported from index.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeCdc, decodeWal } from './decode';
import type { CdcRecord } from './cdc.schema';
import type { WalRecord } from './wal.schema';

export const LIB_DIR = fileURLToPath(new URL('..', import.meta.url));
export const SAMPLES_DIR = fileURLToPath(new URL('../samples/', import.meta.url));

export function readSample(relativePath: string): string {
  return readFileSync(SAMPLES_DIR + relativePath, 'utf8');
}

export function sampleFiles(version: 'v2' | 'v3' | 'v3-actionbase'): string[] {
  return readdirSync(SAMPLES_DIR + version)
    .filter((name) => name.endsWith('.json'))
    .sort();
}

/** decodeWal for a record known to be an edge record: the narrowing the specs of edge records need. */
export function edgeWal(input: unknown): WalRecord {
  const r = decodeWal(input);
  if (r.type !== 'e') throw new Error(`expected an edge WAL record, decoded type ${r.type}`);
  return r;
}

export function edgeCdc(input: unknown): CdcRecord {
  const r = decodeCdc(input);
  if (r.type !== 'e') throw new Error(`expected an edge CDC record, decoded type ${r.type}`);
  return r;
}
