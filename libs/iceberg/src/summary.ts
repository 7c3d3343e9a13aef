/**
 * The snapshot summary (spec "Snapshots": `operation` plus the optional metrics engines show): totals are the
 * previous snapshot's totals plus what was added minus what was removed, computed here from the files so each
 * snapshot's figures stand on their own.
 */
import type { DataFile } from './manifest';

export type Operation = 'append' | 'overwrite' | 'replace' | 'delete';

const sum = (fs: readonly DataFile[], k: 'record_count' | 'file_size_in_bytes') => fs.reduce((a, f) => a + f[k], 0);

export function snapshotSummary(
  operation: Operation,
  files: { added: readonly DataFile[]; kept: readonly DataFile[]; removed: readonly DataFile[] },
  extra: Record<string, string> = {},
): Record<string, string> & { operation: Operation } {
  const { added, kept, removed } = files;
  // Computed figures win over extra properties of the same name (e.g. a summary carried over from the parent).
  return {
    ...extra,
    operation,
    'added-data-files': String(added.length),
    'deleted-data-files': String(removed.length),
    'added-records': String(sum(added, 'record_count')),
    'deleted-records': String(sum(removed, 'record_count')),
    'added-files-size': String(sum(added, 'file_size_in_bytes')),
    'removed-files-size': String(sum(removed, 'file_size_in_bytes')),
    'total-records': String(sum(added, 'record_count') + sum(kept, 'record_count')),
    'total-data-files': String(added.length + kept.length),
    'total-files-size': String(sum(added, 'file_size_in_bytes') + sum(kept, 'file_size_in_bytes')),
    'total-delete-files': '0',
    'total-position-deletes': '0',
    'total-equality-deletes': '0',
  };
}
