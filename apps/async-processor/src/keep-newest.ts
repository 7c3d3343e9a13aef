/**
 * Keep only the newest N edges per source (Recent Views: the last N products a user looked at). After a
 * batch is applied to a table with a rule, each source it touched is scanned through the core's REST API on
 * the rule's index (newest first); every edge past the first N gets a DELETE sent back through
 * `.../edges/sync?force=true`.
 *
 * The DELETE carries version = the scanned edge's version + 1:
 *  - it beats every event already folded into that edge (their versions are <= the edge's version), so a
 *    replay of an old view after a crash stays deleted (IDLE) instead of coming back: an INSERT and a DELETE
 *    of the same version would be decided by arrival order (docs/model.md, "The transition");
 *  - a newer view of the same product (version > edge version + 1, or equal and arriving later) still wins,
 *    so a trim racing with a fresh view never hides that view.
 * Trimming is idempotent: a second pass over the same source finds nothing past N.
 */
import type { Logger } from 'pino';
import type { KeepNewestRule } from './config';
import { CoreError, type CoreClient, type EdgeView, type Endpoint, type MutationItem } from '@pipeline/core-api';
import type { Long } from '@pipeline/events';
import type { RateLimiter } from './token-bucket';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** `v + 1` for a LONG version (ms or ns), exact: a bigint once it passes 2^53, as the core holds it. */
export function nextVersion(v: Long): Long {
  const n = BigInt(v) + 1n;
  return n <= MAX_SAFE && n >= -MAX_SAFE ? Number(n) : n;
}

const PAGE = 1_000;
/** Index scans in flight at once: a batch of views touches many users, each needs its own scan. */
const SCAN_CONCURRENCY = 8;
const DELETE_CHUNK = 1_000;

export interface TrimOutcome {
  scanned: number;
  deleted: number;
}

export class KeepNewest {
  constructor(
    private readonly core: CoreClient,
    private readonly limiter: RateLimiter,
    private readonly log: Logger,
  ) {}

  /**
   * Trims every source in `sources`: scans a few sources at a time, then sends the table's DELETEs in as few
   * requests as possible (one per DELETE_CHUNK). Throws what the core client throws (retryable outages).
   */
  async trim(rule: KeepNewestRule, sources: Iterable<Endpoint>): Promise<TrimOutcome> {
    const todo = [...sources];
    const surplus: EdgeView[] = [];
    let next = 0;
    const worker = async () => {
      while (next < todo.length) surplus.push(...(await this.surplus(rule, todo[next++]!)));
    };
    await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, todo.length) }, worker));
    const out: TrimOutcome = { scanned: todo.length, deleted: 0 };
    for (let i = 0; i < surplus.length; i += DELETE_CHUNK) {
      const mutations: MutationItem[] = surplus.slice(i, i + DELETE_CHUNK).map((e) => ({
        type: 'DELETE',
        edge: { version: nextVersion(e.version), source: e.source, target: e.target, properties: {} },
      }));
      await this.limiter.take(mutations.length);
      try {
        const results = await this.core.mutateForced(rule.database, rule.table, false, mutations);
        out.deleted += results.filter((x) => x.status === 'DELETED').length;
      } catch (err) {
        if (!(err instanceof CoreError) || err.retryable) throw err;
        // A rejected trim changes nothing; the views stay, which is the safe side. The next batch retries it.
        this.log.error({ rule, err: err.message }, 'keep-newest: the core rejected the trim');
      }
    }
    return out;
  }

  /** The edges of `source` past the first N in index order. */
  private async surplus(rule: KeepNewestRule, source: Endpoint): Promise<EdgeView[]> {
    const first = await this.core.scan(rule.database, rule.table, rule.index, 'OUT', source, rule.keep, null);
    const rest: EdgeView[] = [];
    let offset = first.hasNext ? first.offset : null;
    while (offset) {
      const page = await this.core.scan(rule.database, rule.table, rule.index, 'OUT', source, PAGE, offset);
      rest.push(...page.edges);
      offset = page.hasNext ? page.offset : null;
    }
    return rest;
  }
}
