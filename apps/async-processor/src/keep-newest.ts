/**
 * Keep only the newest N edges per source (Recent Views: the last N products a user looked at). After a
 * batch is applied to a table with a rule, each source it touched is scanned through the core's REST API on
 * the rule's index (newest first); every edge past the first N gets a DELETE sent back through
 * `.../edges/sync?force=true`.
 *
 * The DELETE carries version = the scanned edge's version + 1:
 *  - it beats every event already folded into that edge (their versions are <= the edge's version), so a
 *    replay of an old view after a crash stays deleted (IDLE) instead of coming back: an INSERT and a DELETE
 *    of the same version would be decided by arrival order (domain.md, "The transition");
 *  - a newer view of the same product (version > edge version + 1, or equal and arriving later) still wins,
 *    so a trim racing with a fresh view never hides that view.
 * Trimming is idempotent: a second pass over the same source finds nothing past N.
 */
import type { Logger } from 'pino';
import type { KeepNewestRule } from './config';
import type { CoreClient, Mutation } from './core-client';
import type { RateLimiter } from './token-bucket';

const PAGE = 1_000;

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

  /** Trims every source in `sources`; throws what the core client throws (retryable outages). */
  async trim(rule: KeepNewestRule, sources: Iterable<string | number>): Promise<TrimOutcome> {
    const out: TrimOutcome = { scanned: 0, deleted: 0 };
    for (const source of sources) {
      const surplus = await this.surplus(rule, source);
      out.scanned++;
      if (surplus.length === 0) continue;
      const mutations: Mutation[] = surplus.map((e) => ({
        type: 'DELETE',
        edge: { version: e.version + 1, source: e.source, target: e.target, properties: {} },
      }));
      await this.limiter.take(mutations.length);
      const r = await this.core.mutate(rule.database, rule.table, false, mutations, []);
      if (!r.ok) {
        // A rejected trim changes nothing; the views stay, which is the safe side. The next batch retries it.
        this.log.error({ rule, source, rejection: r.rejection }, 'keep-newest: the core rejected the trim');
        continue;
      }
      out.deleted += r.results.filter((x) => x.status === 'DELETED').length;
    }
    return out;
  }

  /** The edges of `source` past the first N in index order. */
  private async surplus(rule: KeepNewestRule, source: string | number) {
    const first = await this.core.scan(rule.database, rule.table, rule.index, source, rule.keep, null);
    const rest = [];
    let offset = first.hasNext ? first.offset : null;
    while (offset) {
      const page = await this.core.scan(rule.database, rule.table, rule.index, source, PAGE, offset);
      rest.push(...page.edges);
      offset = page.hasNext ? page.offset : null;
    }
    return rest;
  }
}
