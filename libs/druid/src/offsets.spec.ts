import { describe, expect, it } from '@jest/globals';
import type { SupervisorTask } from './client';
import { ingestedOffsets, recordsBehind } from './offsets';

const task = (type: SupervisorTask['type'], startingOffsets: Record<string, number>, currentOffsets: Record<string, number>, id = 't'): SupervisorTask => ({ id, type, startingOffsets, currentOffsets });

describe('ingested offsets from a supervisor status', () => {
  it('are the reading tasks current offsets, the lowest replica per partition', () => {
    const s = { tasks: [task('ACTIVE', { 0: 0, 1: 0 }, { 0: 7, 1: 4 }, 'a'), task('ACTIVE', { 0: 0, 1: 0 }, { 0: 5, 1: 9 }, 'b')] };
    expect(ingestedOffsets(s)).toEqual(new Map([[0, 5n], [1, 4n]]));
  });

  it('fall back to what a publishing task read, then to where the reading task started, for a partition it has not reported yet', () => {
    const s = { tasks: [task('ACTIVE', { 0: 10, 1: 20, 2: 30 }, { 0: 12 }), task('PUBLISHING', { 1: 0 }, { 1: 20 })] };
    expect(ingestedOffsets(s)).toEqual(new Map([[0, 12n], [1, 20n], [2, 30n]]));
  });

  it('are empty before any task runs, so every record counts as behind', () => {
    const none = ingestedOffsets({ tasks: [] });
    expect(none.size).toBe(0);
    expect(recordsBehind(none, new Map([[0, 3n], [1, 2n]]))).toBe(5);
    expect(recordsBehind(new Map([[0, 3n], [1, 5n]]), new Map([[0, 3n], [1, 2n]]))).toBe(0);
  });
});
