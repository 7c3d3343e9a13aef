/**
 * Token bucket for mutations per second. take(n) waits until the bucket holds n tokens (or is full, for a
 * batch larger than the bucket) and then spends n, possibly going into debt: a 2000-mutation request under a
 * 1000/s limit goes at once and the next one waits two seconds. The average rate stays at `ratePerSec`
 * and no request is ever split because of the limiter (one HTTP request per table per batch).
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Waiters queue in order, so a large take cannot starve behind a stream of small ones. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSec: number,
    readonly capacity: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(ratePerSec > 0)) throw new RangeError('ratePerSec must be > 0');
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
    this.tokens = capacity;
    this.last = clock.now();
  }

  /** Resolves with how long the caller waited (ms). */
  take(n: number): Promise<number> {
    const start = this.clock.now();
    const turn = this.queue.then(async () => {
      const need = Math.min(n, this.capacity);
      for (;;) {
        this.refill();
        if (this.tokens >= need) break;
        await this.clock.sleep(Math.max(1, ((need - this.tokens) / this.ratePerSec) * 1000));
      }
      this.tokens -= n;
    });
    this.queue = turn;
    return turn.then(() => this.clock.now() - start);
  }

  /** Tokens available now (negative while in debt). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }
}

/** No limit (RATE_LIMIT_PER_SEC=0). */
export const unlimited = { take: async (_n: number) => 0 };
export type RateLimiter = Pick<TokenBucket, 'take'>;
