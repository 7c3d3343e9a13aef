/**
 * Per-key locks (docs/model.md, "Mutation flow", step 5). Keys of one request are taken together, in a
 * fixed order, so two requests sharing keys cannot deadlock. Uncontended acquisition completes
 * without waiting.
 */
export class KeyLocks {
  private readonly held = new Map<string, (() => void)[]>();

  async acquire(keys: readonly string[]): Promise<() => void> {
    const sorted = [...new Set(keys)].sort();
    for (const k of sorted) {
      while (this.held.has(k)) await new Promise<void>((r) => this.held.get(k)!.push(r));
      this.held.set(k, []);
    }
    return () => {
      for (const k of sorted) {
        const waiters = this.held.get(k);
        this.held.delete(k);
        waiters?.forEach((w) => w());
      }
    };
  }

  get size(): number {
    return this.held.size;
  }
}
