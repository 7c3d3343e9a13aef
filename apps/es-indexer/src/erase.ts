/**
 * Erasure of one person from every index of a prefix: the mutation-log records where they are a party (source,
 * target, a multi-edge endpoint) or the actor, and the current-state documents where they are source or target.
 * Returns counts before and after as the proof of the erasure.
 *
 * What this cannot reach: the WAL and CDC topics keep the records until their retention (30 and 7 days by
 * default); an indexer group reset to the beginning within that time would index them again.
 */
import type { Client } from '@elastic/elasticsearch';
import { deleteWhere } from './delete-where';
import { edgesIndex, mutationIndexPattern } from './documents';

export interface ErasureCounts {
  mutations: number;
  edges: number;
}

export interface ErasureProof {
  subject: string;
  before: ErasureCounts;
  deleted: ErasureCounts;
  after: ErasureCounts;
}

const targets = (prefix: string, subject: string) => ({
  mutations: { index: mutationIndexPattern(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { actor: subject } }], minimum_should_match: 1 } } },
  edges: { index: edgesIndex(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { source: subject } }, { term: { target: subject } }], minimum_should_match: 1 } } },
});

async function counts(client: Client, prefix: string, subject: string): Promise<ErasureCounts> {
  const t = targets(prefix, subject);
  await client.indices.refresh({ index: `${t.mutations.index},${t.edges.index}`, ignore_unavailable: true, allow_no_indices: true });
  const count = (x: { index: string; query: Record<string, unknown> }) =>
    client.count({ index: x.index, query: x.query, ignore_unavailable: true, allow_no_indices: true }).then((r) => r.count);
  return { mutations: await count(t.mutations), edges: await count(t.edges) };
}

export async function eraseSubject(client: Client, prefix: string, subject: string): Promise<ErasureProof> {
  if (subject === '') throw new Error('the subject to erase is empty');
  const before = await counts(client, prefix, subject);
  const t = targets(prefix, subject);
  const del = (x: { index: string; query: Record<string, unknown> }) => deleteWhere(client, x.index, x.query);
  const deleted = { mutations: await del(t.mutations), edges: await del(t.edges) };
  const after = await counts(client, prefix, subject);
  return { subject, before, deleted, after };
}
