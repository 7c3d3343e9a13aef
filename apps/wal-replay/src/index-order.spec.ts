import { describe, expect, it } from '@jest/globals';
import { compareIndexRows, compareValues } from './index-order';

describe('index order (as the core sorts index rows)', () => {
  it('puts null before booleans before numbers before strings, strings by UTF-8 bytes', () => {
    const xs = ['b', 3, null, true, -1.5, 'B', false, 'é', 10];
    expect([...xs].sort(compareValues)).toEqual([null, false, true, -1.5, 3, 10, 'B', 'b', 'é']);
  });

  it('reverses a DESC field and breaks ties by the storage key bytes', () => {
    const rows = [
      { key: '["u2",1]', values: [5, 'a'] },
      { key: '["u1",1]', values: [5, 'a'] },
      { key: '["u3",1]', values: [7, null] },
      { key: '["u4",1]', values: [5, 'z'] },
    ];
    const sorted = [...rows].sort((a, b) => compareIndexRows(a, b, ['DESC', 'ASC'])).map((r) => r.key);
    expect(sorted).toEqual(['["u3",1]', '["u1",1]', '["u2",1]', '["u4",1]']);
  });
});
