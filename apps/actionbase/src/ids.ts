import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * Random bytes for ULIDs, drawn from the OS's CSPRNG 4 KiB at a time. ulid's own source asks
 * `crypto.getRandomValues` for one byte per character, 16 calls for every id made in a new millisecond,
 * and each call costs ~50 µs of CPU on Node 24: at 2,000 requests/s that was a tenth of the core's thread
 * (bench/README.md, "Single-edge latency"). The bytes are as random; only the calls are fewer.
 */
const pool = Buffer.alloc(4096);
let next = pool.length;

function pooledRandom(): number {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  return pool[next++]! / 256;
}

/** A monotonic ULID source (ulid's `monotonicFactory`) on the pooled random bytes above. */
export const ulidFactory = (): ReturnType<typeof monotonicFactory> => monotonicFactory(pooledRandom);
