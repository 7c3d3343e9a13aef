/**
 * Bounds on the work one request may ask for. Each is documented in the README ("The core", "Limits");
 * a request beyond one answers 400 naming the limit, before anything is read or written.
 */
export const LIMITS = {
  /** Items of one mutation request. */
  mutationsPerRequest: 10_000,
  /** Distinct (source, target) pairs of one `edges/get`: distinct sources × distinct targets. */
  getPairs: 1_000,
  /** Distinct start values of one `edges/counts`. */
  countsStarts: 1_000,
  /** Distinct ids of one `multi-edges/ids`. */
  multiEdgeIds: 1_000,
  /** Largest `limit` of a scan. */
  scanLimit: 1_000,
  /**
   * Index rows one scan examines at most when filters reject rows. Past it the page ends early, with
   * `hasNext` and an `offset` to go on from where it stopped.
   */
  scanExamined: 10_000,
  /** Largest source, target or multi-edge id, in UTF-8 bytes (it must fit in a URL to be read back). */
  keyBytes: 4_096,
  /** Deepest nesting of a JSON request body (objects and arrays), so that no encoder can overflow the stack. */
  jsonDepth: 64,
  /** Messages of one queue/v1 enqueue. */
  enqueueMessages: 10_000,
  /** Largest `limit` of a queue/v1 poll (Actionbase's maximum). */
  pollLimit: 1_000,
  /**
   * Messages one queue/v1 commit deletes at most; a commit whose offset covers more is refused, so
   * commit per polled page.
   */
  commitMessages: 10_000,
  /** Partitions of one queue. */
  queuePartitions: 10_000,
  /** Request items (or keys) handled between two yields of the event loop. */
  sliceItems: 250,
} as const;

/** Lets the event loop run (health probes, other requests) between two slices of a heavy request. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * At most `permits` holders at once; the others wait in arrival order. Release is idempotent, so it
 * can be called from every path that ends a request.
 */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly permits: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.permits) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the permit passes on
      else this.active--;
    };
  }
}
