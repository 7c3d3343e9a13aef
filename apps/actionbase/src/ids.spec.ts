import { describe, expect, it } from '@jest/globals';
import { ulidFactory } from './ids';

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

describe('ulidFactory', () => {
  it('makes valid ULIDs that increase strictly, within a millisecond and across them', () => {
    const next = ulidFactory();
    const ids: string[] = [];
    for (let i = 0; i < 5000; i++) ids.push(next(1_700_000_000_000 + Math.floor(i / 10)));
    for (const id of ids) expect(id).toMatch(ULID);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  it('draws the random part afresh for each new millisecond, past the end of one pool of bytes', () => {
    const next = ulidFactory();
    // 16 bytes per id: 1,000 ids use the 4 KiB pool about four times over.
    const randoms = new Set(Array.from({ length: 1000 }, (_, i) => next(1_700_000_000_000 + i).slice(10)));
    expect(randoms.size).toBe(1000);
  });
});
