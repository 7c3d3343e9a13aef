import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';

describe('ml-export config', () => {
  it('takes flags over variables, with defaults for the rest', () => {
    const c = loadConfig(['--table', 'shop.likes', '--out', '/tmp/ds', '--split-at', '2026-11-20T00:00:00Z', '--negatives', '4'], { SEED: '9', OUT_DIR: '/elsewhere' });
    expect(c).toMatchObject({ TABLE: 'shop.likes', OUT_DIR: '/tmp/ds', SPLIT_AT: Date.UTC(2026, 10, 20), NEGATIVES: 4, SEED: 9, CUT: 'snapshot', CATALOG: 'folder' });
  });

  it('names the variable and its flag of a bad value', () => {
    expect(() => loadConfig(['--table', 'likes', '--out', 'x'], {})).toThrow(/TABLE \(--table\).*<database>\.<table>/);
    expect(() => loadConfig(['--table', 'shop.likes', '--out', 'x', '--split-at', 'soon'], {})).toThrow(/SPLIT_AT \(--split-at\).*ISO-8601/);
    expect(() => loadConfig(['--table', 'shop.likes'], {})).toThrow(/OUT_DIR \(--out\)/);
    expect(() => loadConfig(['--table', 'shop.likes', '--out', 'x', '--catalog', 'jdbc'], {})).toThrow(/CATALOG_URL \(--catalog-url\)/);
    expect(() => loadConfig(['--table', 'shop.likes', '--out', 'x', '--cut', 'none', '--snapshot-id', '12'], {})).toThrow(/SNAPSHOT_ID/);
  });

  it('refuses an unknown flag', () => {
    expect(() => loadConfig(['--tabel', 'shop.likes'], {})).toThrow(/tabel/);
  });
});
