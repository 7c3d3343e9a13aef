/** How long to wait before retry number n, for every retry loop of the pipeline (sinks, Kafka, the core's clients). */

export interface BackoffPolicy {
  /** Cap of the first retry's delay; doubles with each retry. */
  baseMs: number;
  /** No delay is longer. */
  maxMs: number;
}

/**
 * Delay before retry number `retry` (1 = the first retry): "full jitter", a uniform draw in [0, cap) with
 * cap = min(maxMs, baseMs * 2^(retry-1)). Full rather than equal jitter because every replica of a consumer
 * hits the same outage at the same moment; spreading their retries over the whole window keeps them from
 * knocking the recovering service over together (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCap(retry, policy));
}

/** The upper bound of backoffDelay(retry): never above maxMs, never negative. */
export function backoffCap(retry: number, policy: BackoffPolicy): number {
  const base = Math.max(0, policy.baseMs);
  const max = Math.max(0, policy.maxMs);
  // 2^(n-1) overflows to Infinity for large n; min() keeps the cap at maxMs.
  return Math.min(max, base * 2 ** Math.max(0, retry - 1));
}

/** Waits ms; rejects with the signal's reason as soon as it aborts (at once when it already has). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
