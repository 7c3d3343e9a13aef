/**
 * Erasure of one person from every index of a prefix: the mutation-log records where they are a party (source,
 * target, a multi-edge endpoint) or the actor, the current-state documents where they are source or target, and
 * the abuse alerts of apps/abuse-detector (`<prefix>-alerts`) that name them. Returns counts before and after as
 * the proof of the erasure.
 *
 * What this cannot reach: the WAL and CDC topics keep the records until their retention (30 and 7 days by
 * default); an indexer group reset to the beginning within that time would index them again. The same holds for
 * the alerts topic (`actionbase.alerts`, 30 days) and for an abuse-detector reading the CDC again.
 */
import type { Client } from '@elastic/elasticsearch';
import { deleteWhere } from '@pipeline/elasticsearch';
import { edgesIndex, mutationIndexPattern } from './documents';
import { alertsIndex } from './lookup.service';

export interface ErasureCounts {
  mutations: number;
  edges: number;
  alerts: number;
}

export interface ErasureProof {
  subject: string;
  /** The alerts index searched; `exists: false` when no abuse-detector wrote one (nothing to erase there). */
  alertsIndex: { name: string; exists: boolean };
  before: ErasureCounts;
  deleted: ErasureCounts;
  after: ErasureCounts;
}

/** A wildcard pattern matching `value` literally (`*`, `?` and `\` escaped). */
const literal = (value: string) => value.replace(/[\\*?]/g, (c) => `\\${c}`);

/**
 * An alert names people in `users` (the actor, source or target it concerns) and in `subject.id`: the actor,
 * source or target itself, or `source:target` for an edge (flapping), whose target is in no other field. An id
 * that itself holds `:` can make an edge of someone else match too; erasure errs on the side of removing.
 */
const alertsQuery = (subject: string) => {
  const edge = (match: Record<string, unknown>) => ({ bool: { filter: [{ term: { 'subject.kind': 'edge' } }, match] } });
  return {
    bool: {
      should: [
        { term: { users: subject } },
        { term: { 'subject.id': subject } },
        edge({ prefix: { 'subject.id': `${subject}:` } }),
        edge({ wildcard: { 'subject.id': { value: `*:${literal(subject)}` } } }),
      ],
      minimum_should_match: 1,
    },
  };
};

const targets = (prefix: string, subject: string) => ({
  mutations: { index: mutationIndexPattern(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { actor: subject } }], minimum_should_match: 1 } } },
  edges: { index: edgesIndex(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { source: subject } }, { term: { target: subject } }], minimum_should_match: 1 } } },
  alerts: { index: alertsIndex(prefix), query: alertsQuery(subject) },
});

async function counts(client: Client, prefix: string, subject: string): Promise<ErasureCounts> {
  const t = targets(prefix, subject);
  await client.indices.refresh({ index: `${t.mutations.index},${t.edges.index},${t.alerts.index}`, ignore_unavailable: true, allow_no_indices: true });
  const count = (x: { index: string; query: Record<string, unknown> }) =>
    client.count({ index: x.index, query: x.query, ignore_unavailable: true, allow_no_indices: true }).then((r) => r.count);
  return { mutations: await count(t.mutations), edges: await count(t.edges), alerts: await count(t.alerts) };
}

export async function eraseSubject(client: Client, prefix: string, subject: string): Promise<ErasureProof> {
  if (subject === '') throw new Error('the subject to erase is empty');
  const t = targets(prefix, subject);
  const alerts = { name: t.alerts.index, exists: await client.indices.exists({ index: t.alerts.index }) };
  const before = await counts(client, prefix, subject);
  const del = (x: { index: string; query: Record<string, unknown> }) => deleteWhere(client, x.index, x.query);
  const deleted = { mutations: await del(t.mutations), edges: await del(t.edges), alerts: await del(t.alerts) };
  const after = await counts(client, prefix, subject);
  return { subject, alertsIndex: alerts, before, deleted, after };
}
