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
  /** Request items (or keys) handled between two yields of the event loop, at most. */
  sliceItems: 250,
  /**
   * Milliseconds of the main thread a slice of heavy work (a big body's parse, a batch's items, keys or
   * transactions) may take before it yields. Slices take turns one per turn of the event loop (see
   * `yieldToEventLoop`), so a probe waits about one slice, however many batches are in progress.
   */
  sliceMs: 4,
} as const;

/**
 * The slices waiting for their turn, first come first served. One resumes per turn of the event loop
 * (one `setImmediate` at a time), and the loop polls its sockets between two turns: with a plain
 * `setImmediate` per waiter, every request in progress ran one slice in the same turn, and a probe
 * waited for all of them.
 */
const turns: (() => void)[] = [];
let turnScheduled = false;

function nextTurn(): void {
  turnScheduled = false;
  const resume = turns.shift();
  if (turns.length > 0) scheduleTurn();
  resume?.(); // its slice runs now, as a microtask of this turn; its next yield waits for a later turn
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

/** Lets the event loop run (health probes, other requests) between two slices of a heavy request. */
export const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => {
    turns.push(resolve);
    scheduleTurn();
  });

/**
 * Time-bounded slices: `due()` is cheap enough to ask per item, and turns true once the slice has held
 * the event loop for `budgetMs`; `yield()` then waits for the next turn and starts a new slice.
 */
export class SliceClock {
  private start = performance.now();
  constructor(private readonly budgetMs: number = LIMITS.sliceMs) {}

  due(): boolean {
    return performance.now() - this.start >= this.budgetMs;
  }

  async yield(): Promise<void> {
    await yieldToEventLoop();
    this.start = performance.now();
  }

  /** Milliseconds since the current slice started. */
  elapsed(): number {
    return performance.now() - this.start;
  }
}

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

/**
 * How many keys the next unit of work (a commit) takes so that it holds the event loop about
 * `budgetMs`, learnt from the time the last units took (halfway towards the last fit, so one slow
 * unit, a checkpoint or a pause of the machine, does not swing it from one end to the other).
 */
export class SliceSizer {
  constructor(
    private current: number,
    private readonly min: number,
    private readonly max: number,
    private readonly budgetMs: number = LIMITS.sliceMs,
  ) {}

  get size(): number {
    return this.current;
  }

  observe(items: number, heldMs: number): void {
    if (items <= 0) return;
    const fit = (items * this.budgetMs) / Math.max(heldMs, 0.01);
    this.current = Math.max(this.min, Math.min(this.max, Math.round((this.current + fit) / 2)));
  }
}

type Ranked<T> = readonly [string, T];
const byText = <T>([a]: Ranked<T>, [b]: Ranked<T>) => (a < b ? -1 : a > b ? 1 : 0);
const SORT_RUN = 1_000;

/**
 * A stable sort by a text key, as a merge sort of runs of 1,000 that yields the event loop between
 * slices: one sort of 10,000 keys held it for 10 ms and more.
 */
export async function sortInSlices<T>(items: readonly T[], textOf: (item: T) => string): Promise<T[]> {
  if (items.length <= SORT_RUN) return items.map((x): Ranked<T> => [textOf(x), x]).sort(byText).map(([, x]) => x);
  const clock = new SliceClock();
  let runs: Ranked<T>[][] = [];
  for (let i = 0; i < items.length; i += SORT_RUN) {
    if (clock.due()) await clock.yield();
    runs.push(items.slice(i, i + SORT_RUN).map((x): Ranked<T> => [textOf(x), x]).sort(byText));
  }
  while (runs.length > 1) {
    const merged: Ranked<T>[][] = [];
    for (let i = 0; i < runs.length; i += 2) merged.push(i + 1 < runs.length ? await merge(runs[i]!, runs[i + 1]!, clock) : runs[i]!);
    runs = merged;
  }
  return runs[0]!.map(([, x]) => x);
}

/** Merges two sorted runs; on equal texts the left (earlier) one first, so the sort stays stable. */
async function merge<T>(left: Ranked<T>[], right: Ranked<T>[], clock: SliceClock): Promise<Ranked<T>[]> {
  const out: Ranked<T>[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if ((out.length & 1023) === 0 && clock.due()) await clock.yield();
    out.push(byText(right[j]!, left[i]!) < 0 ? right[j++]! : left[i++]!);
  }
  while (i < left.length) out.push(left[i++]!);
  while (j < right.length) out.push(right[j++]!);
  return out;
}
