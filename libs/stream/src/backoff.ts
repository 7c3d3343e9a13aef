/** The runtime's waits: the pipeline's one backoff (@pipeline/errors), and a sleep that stop() cuts short. */
import { sleep as abortableSleep } from '@pipeline/errors';
import { StreamError } from './errors';

export { backoffDelay, backoffCap } from '@pipeline/errors';

/** Waits ms, or rejects with StreamError ABORTED as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal).catch((err: unknown) => {
    throw new StreamError('ABORTED', 'wait aborted by stop()', err);
  });
}
