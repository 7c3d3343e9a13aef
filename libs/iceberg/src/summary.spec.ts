import { describe, expect, it } from '@jest/globals';
import { dataFile } from './spec-fixtures';
import { snapshotSummary } from './summary';

describe('snapshot summary', () => {
  it('totals are kept + added; computed figures win over carried-over properties of the same name', () => {
    const s = snapshotSummary(
      'replace',
      { added: [dataFile('/a', 5)], kept: [dataFile('/k', 7)], removed: [dataFile('/r1', 2), dataFile('/r2', 3)] },
      { operation: 'overwrite', 'total-records': '999', 'snapshotter.offsets': '{"cdc:0":4}' },
    );
    expect(s).toMatchObject({
      operation: 'replace',
      'added-data-files': '1',
      'deleted-data-files': '2',
      'added-records': '5',
      'deleted-records': '5',
      'total-records': '12',
      'total-data-files': '2',
      'snapshotter.offsets': '{"cdc:0":4}',
    });
  });
});
