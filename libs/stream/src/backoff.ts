import { StreamError } from './errors';
import type { RetryPolicy } from './types';

/**
 * Delay before retry number `retry` (1 = the first retry): "full jitter", a uniform draw in [0, cap) with
 * cap = min(maxMs, baseMs * 2^(retry-1)). Full rather than equal jitter because every replica of a consumer
 * hits the same sink outage at the same moment; spreading their retries over the whole window keeps them
 * from knocking the recovering sink over together (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCap(retry, policy));
}

/** The upper bound of backoffDelay(retry): never above maxMs, never negative. */
export function backoffCap(retry: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>): number {
  const base = Math.max(0, policy.baseMs);
  const max = Math.max(0, policy.maxMs);
  // 2^(n-1) overflows to Infinity for large n; min() keeps the cap at maxMs.
  return Math.min(max, base * 2 ** Math.max(0, retry - 1));
}

/** Waits ms, or rejects with StreamError ABORTED as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new StreamError('ABORTED', 'wait aborted by stop()'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StreamError('ABORTED', 'wait aborted by stop()'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
