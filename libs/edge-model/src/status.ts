/** The status table of docs/model.md ("Status and derived data"): what a transition means for the CDC record. */
import { statesEqual } from './equality';
import type { ChangeStatus, EdgeState } from './types';

export interface Classification {
  status: ChangeStatus;
  /** The record's `accumulator`: summing it per edge collection gives the number of active edges. */
  accumulator: -1 | 0 | 1;
}

export function classify(before: EdgeState | null, after: EdgeState | null): Classification {
  // Unchanged record first: a replayed event must read IDLE/0, which is what makes WAL replay harmless.
  if (statesEqual(before, after)) return { status: 'IDLE', accumulator: 0 };
  const wasActive = before?.active ?? false;
  const isActive = after?.active ?? false;
  if (!wasActive && isActive) return { status: 'CREATED', accumulator: 1 };
  if (wasActive && !isActive) return { status: 'DELETED', accumulator: -1 };
  if (wasActive && isActive) return { status: 'UPDATED', accumulator: 0 };
  // false -> false with a change (e.g. a late INSERT older than the delete): stored, but nothing to count.
  return { status: 'IDLE', accumulator: 0 };
}
