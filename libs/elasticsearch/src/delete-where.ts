/**
 * Deletes every document a query matches, without `_delete_by_query`: the Elasticsearch distribution served here
 * has no reindex module, which provides it. Searches a batch of ids (with their seq_no/primary_term), deletes them
 * in one bulk request conditioned on those (a document rewritten in between is left alone: 409, not counted),
 * and repeats until the query matches nothing deletable.
 */
import type { Client } from '@elastic/elasticsearch';

export interface DeleteWhereOptions {
  /** Ids searched and deleted per round. Default 1,000. */
  batch?: number;
  /**
   * Refresh the index before each search, so that what was written just before is matched too. Default true;
   * off for a caller whose role lacks the `maintenance` privilege and can leave the newest writes to its next run.
   */
  refresh?: boolean;
}

/** The number of documents deleted; a missing index is 0. */
export async function deleteWhere(client: Client, index: string, query: Record<string, unknown>, opts: DeleteWhereOptions = {}): Promise<number> {
  const { batch = 1_000, refresh = true } = opts;
  let deleted = 0;
  let stalls = 0;
  for (;;) {
    if (refresh) await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
    const res = await client.search({ index, query, size: batch, _source: false, seq_no_primary_term: true, ignore_unavailable: true, allow_no_indices: true });
    const hits = res.hits.hits;
    if (!hits.length) return deleted;
    // The bulk refreshes, so the next search does not see what it deleted.
    const bulk = await client.bulk({
      refresh: true,
      operations: hits.map((h) => ({ delete: { _index: h._index, _id: h._id!, if_seq_no: h._seq_no!, if_primary_term: h._primary_term! } })),
    });
    let progressed = 0;
    for (const item of bulk.items) {
      const r = item.delete!;
      if (r.status === 200) progressed++;
      else if (r.status !== 404 && r.status !== 409) throw new Error(`deleting ${r._index}/${r._id} failed: ${r.status} ${r.error?.type ?? ''}`);
    }
    deleted += progressed;
    // Every hit changed under us (409) or vanished (404): search again, but not forever.
    stalls = progressed === 0 ? stalls + 1 : 0;
    if (stalls >= 3) return deleted;
  }
}
