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
import type { Client, estypes } from '@elastic/elasticsearch';
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
 * An alert names people in `users`: the actor, source or target it counted on, and for an edge (flapping) its
 * source, with the edge as `subject.id` = `source:target`. The target of an edge alert is the person when
 * `subject.id` is exactly one of the alert's `users`, a colon, and the person. Ids may hold colons themselves,
 * so a prefix or suffix match alone would also take edges between other people (`a:b` → `c` when erasing `a`
 * or `b:c`): the wildcard finds the candidates, and each is checked here (no script: clusters, ours included,
 * may run without painless).
 */
async function edgeAlertsTargeting(client: Client, index: string, subject: string): Promise<string[]> {
  const ids: string[] = [];
  const page = 1000;
  let after: estypes.SortResults | undefined;
  for (;;) {
    const r = await client.search<{ subject: { id: string }; users: string[] }>({
      index,
      size: page,
      ignore_unavailable: true,
      allow_no_indices: true,
      _source: ['subject.id', 'users'],
      sort: [{ alertId: 'asc' }],
      ...(after ? { search_after: after } : {}),
      query: { bool: { filter: [{ term: { 'subject.kind': 'edge' } }, { wildcard: { 'subject.id': { value: `*:${literal(subject)}` } } }] } },
    });
    for (const h of r.hits.hits) {
      const a = h._source!;
      if (a.users.some((u) => a.subject.id === `${u}:${subject}`)) ids.push(h._id!);
    }
    if (r.hits.hits.length < page) return ids;
    after = r.hits.hits.at(-1)!.sort;
  }
}

const alertsQuery = async (client: Client, index: string, subject: string) => ({
  bool: { should: [{ term: { users: subject } }, { ids: { values: await edgeAlertsTargeting(client, index, subject) } }], minimum_should_match: 1 },
});

const targets = async (client: Client, prefix: string, subject: string) => ({
  mutations: { index: mutationIndexPattern(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { actor: subject } }], minimum_should_match: 1 } } },
  edges: { index: edgesIndex(prefix), query: { bool: { should: [{ term: { parties: subject } }, { term: { source: subject } }, { term: { target: subject } }], minimum_should_match: 1 } } },
  alerts: { index: alertsIndex(prefix), query: await alertsQuery(client, alertsIndex(prefix), subject) },
});

type Targets = Awaited<ReturnType<typeof targets>>;

async function counts(client: Client, t: Targets): Promise<ErasureCounts> {
  const count = (x: { index: string; query: Record<string, unknown> }) =>
    client.count({ index: x.index, query: x.query, ignore_unavailable: true, allow_no_indices: true }).then((r) => r.count);
  return { mutations: await count(t.mutations), edges: await count(t.edges), alerts: await count(t.alerts) };
}

export async function eraseSubject(client: Client, prefix: string, subject: string): Promise<ErasureProof> {
  if (subject === '') throw new Error('the subject to erase is empty');
  const refresh = () =>
    client.indices.refresh({ index: `${mutationIndexPattern(prefix)},${edgesIndex(prefix)},${alertsIndex(prefix)}`, ignore_unavailable: true, allow_no_indices: true });
  const alerts = { name: alertsIndex(prefix), exists: await client.indices.exists({ index: alertsIndex(prefix) }) };
  await refresh();
  // The queries (and the edge alerts found for the person) counted before are the ones deleted.
  const t = await targets(client, prefix, subject);
  const before = await counts(client, t);
  const del = (x: { index: string; query: Record<string, unknown> }) => deleteWhere(client, x.index, x.query);
  const deleted = { mutations: await del(t.mutations), edges: await del(t.edges), alerts: await del(t.alerts) };
  // The proof searches again from scratch: what is left, not what was meant to go.
  await refresh();
  const after = await counts(client, await targets(client, prefix, subject));
  return { subject, alertsIndex: alerts, before, deleted, after };
}
