import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { createKafka } from '@pipeline/kafka';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { api, type CoreProcess } from '@pipeline/testing';
import { LookupService, type MutationItem } from '../src/lookup.service';
import { edgesIndex, mutationIndexPattern } from '../src/documents';
import type { Indexer } from '../src/indexer';
import { allDocs, counter, countDocs, dropPrefix, like, mutate, newPrefix, runIndexer, startCore, topicRecords, waitFor, waitIndexed } from './harness';

/**
 * core -> real Kafka -> indexer -> real Elasticsearch. The tests of this file share one core, one pair of topics and
 * one prefix and run in order: the workload, then lookups, replays and late writes on top of it.
 */
describe('es-indexer on the real core, Kafka and Elasticsearch', () => {
  let bootstrap: string;
  let client: Client;
  let core: CoreProcess;
  let wal: string;
  let cdc: string;
  const prefix = newPrefix();
  let indexer: Indexer | undefined;
  let lookup: LookupService;
  const others: Indexer[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    const { url } = await ensureElasticsearch();
    client = new Client({ node: url });
    ({ core, wal, cdc } = await startCore(bootstrap));
    ({ indexer } = await runIndexer({ bootstrap, client, prefix, wal, cdc }));
    lookup = new LookupService(client, prefix);
  }, 180_000);

  afterAll(async () => {
    await indexer?.stop();
    for (const o of others) await o.stop().catch(() => undefined);
    await core?.stop('SIGKILL');
    await dropPrefix(client, prefix);
    await client?.close();
  });

  const expectedTotal = async () => {
    const t = await topicRecords(bootstrap, wal, cdc);
    return { ...t, total: t.wal.length + t.cdc.length };
  };

  const collect = async (page: (cursor?: string) => Promise<{ items: MutationItem[]; next: string | null }>) => {
    const all: MutationItem[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const p = await page(cursor);
      all.push(...p.items);
      if (!p.next) return all;
      cursor = p.next;
    }
    throw new Error('pagination did not end');
  };

  it('lookups answer what the core did: out-of-order events, deletes, late older writes, pagination', async () => {
    // Out of order in one request: like@100, like@300, unlike@200 ends ACTIVE (docs/model.md, the worked example).
    const r1 = await mutate(core, 'likes', 'req-1', [like('alice', 1, 100), like('alice', 1, 300), like('alice', 1, 200, 'DELETE')]);
    expect(r1.results[0]).toMatchObject({ status: 'CREATED', count: 3 });
    await mutate(core, 'likes', 'req-2', [like('bob', 1, 100)]);
    const r3 = await mutate(core, 'likes', 'req-3', [like('bob', 1, 150, 'DELETE')]);
    expect(r3.results[0]).toMatchObject({ status: 'DELETED' });
    await mutate(core, 'likes', 'req-4', [like('alice', 2, 500)]);
    // A late, older insert of an existing edge: IDLE, the state keeps version 500.
    const r5 = await mutate(core, 'likes', 'req-5', [like('alice', 2, 400)]);
    expect(r5.results[0]).toMatchObject({ status: 'IDLE' });
    await mutate(core, 'likes', 'req-6', [like('carol', 1, 100), like('carol', 2, 100)]);

    const truth = await waitFor('WAL 9 and CDC 7 records', async () => {
      const t = await expectedTotal();
      return t.wal.length === 9 && t.cdc.length === 7 && t;
    });
    await waitIndexed(client, prefix, truth.total);

    // Every mutation by or about alice, as the topics hold them.
    const aliceIds = new Set([
      ...truth.wal.filter((w: any) => w.event.source === 'alice' || w.event.target === 'alice').map((w: any) => `wal:${w.event.id}`),
      ...truth.cdc.filter((c: any) => (c.after ?? c.before).source === 'alice').map((c: any) => `cdc:shop.likes:${c.seq}`),
    ]);
    const alice = await collect((cursor) => lookup.byUser('alice', {}, 3, cursor));
    expect(alice.map((i) => i.id).sort()).toEqual([...aliceIds].sort());
    expect(alice.length).toBe(5 + 3); // 5 WAL items, 3 CDC records (req-1, req-4, req-5)
    // Newest first.
    expect(alice.map((i) => i.at)).toEqual([...alice.map((i) => i.at)].sort((a, b) => b - a));

    // About item 1 (as target): alice, bob, carol.
    const item1 = await collect((cursor) => lookup.byUser('1', {}, 2, cursor));
    expect(new Set(item1.map((i) => i.source))).toEqual(new Set(['alice', 'bob', 'carol']));
    expect(new Set(item1.map((i) => i.id)).size).toBe(item1.length); // pages never repeat an item

    // A time range: nothing before the workload, everything from its start.
    const first = Math.min(...truth.wal.map((w: any) => w.processedAt));
    expect((await lookup.byUser('alice', { to: first - 1 }, 50)).items).toHaveLength(0);
    expect((await collect((c) => lookup.byUser('alice', { from: first }, 50, c))).length).toBe(8);

    // The history of one edge, in order, with before/after and status.
    const hist = await collect((cursor) => lookup.edgeHistory({ table: 'likes', source: 'bob', target: '1' }, 50, cursor));
    expect(hist.map((h) => `${h.kind}:${h.type}:${h.status}`)).toEqual(['wal:INSERT:RECEIVED', 'cdc:INSERT:CREATED', 'wal:DELETE:RECEIVED', 'cdc:DELETE:DELETED']);
    expect(hist[1]).toMatchObject({ before: null, after: { active: true, createdAt: 100 } });
    expect(hist[3]).toMatchObject({ before: { active: true }, after: { active: false, deletedAt: 150 } });
    const aliceHist = await lookup.edgeHistory({ table: 'likes', source: 'alice', target: '1' }, 50);
    const outcome = aliceHist.items.find((h) => h.kind === 'cdc');
    expect(outcome).toMatchObject({ status: 'CREATED', after: { active: true, version: 300, createdAt: 300, deletedAt: 200 } });
    expect(outcome?.events).toHaveLength(3);

    // Current state: alice->1 active, bob->1 a soft tombstone, alice->2 still at version 500 after the late write.
    expect(await lookup.edgeState({ table: 'likes', source: 'alice', target: '1' })).toMatchObject({ active: true });
    expect(await lookup.edgeState({ table: 'likes', source: 'bob', target: '1' })).toMatchObject({ active: false, status: 'DELETED' });
    expect(await lookup.edgeState({ table: 'likes', source: 'alice', target: '2' })).toMatchObject({ active: true, state: { version: 500 } });
    expect(await countDocs(client, edgesIndex(prefix))).toBe(5);

    // By request id and by event id.
    const req3 = await lookup.byRequestId('req-3', 50);
    expect(req3.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['wal:RECEIVED', 'cdc:DELETED']);
    const someEvent = truth.wal.find((w: any) => w.context.request.requestId === 'req-5')!.event.id;
    const byEvent = await lookup.byEventId(someEvent, 50);
    expect(byEvent.items.map((i) => `${i.kind}:${i.status}`)).toEqual(['wal:RECEIVED', 'cdc:IDLE']);
  });

  it('replaying both topics from the beginning (a new consumer group) leaves document counts and contents unchanged', async () => {
    const before = await allDocs(client, prefix);
    const truth = await expectedTotal();
    expect(before.size).toBe(truth.total + 5);
    const replay = await runIndexer({ bootstrap, client, prefix, wal, cdc });
    others.push(replay.indexer);
    // The replaying indexer has read everything once it wrote (or found newer) one document per record.
    await waitFor('the replay to reach the end of both topics', async () => {
      const walDocs = await counter(replay.registry, 'es_indexer_documents_total', { kind: 'wal' });
      const cdcLog = await counter(replay.registry, 'es_indexer_documents_total', { kind: 'cdc', target: 'mutations' });
      const cdcState = (await counter(replay.registry, 'es_indexer_documents_total', { kind: 'cdc', target: 'edges' })) + (await counter(replay.registry, 'es_indexer_version_conflicts_total'));
      return walDocs === truth.wal.length && cdcLog === truth.cdc.length && cdcState === truth.cdc.length;
    });
    await replay.indexer.stop();
    const after = await allDocs(client, prefix);
    expect(after.size).toBe(before.size);
    for (const [id, doc] of before) expect(after.get(id)?.source).toEqual(doc.source);
    // Current-state documents keep their version (the CDC seq): external_gte rewrote them at the same version.
    for (const [id, doc] of before) if (id.includes(`${edgesIndex(prefix)}/`)) expect(after.get(id)?.version).toBe(doc.version);
  });

  it('delete, then an older insert replayed (the old CDC record again, and a late WAL insert through the core): the edge stays deleted', async () => {
    const truth = await expectedTotal();
    const bobCreated = truth.cdc.find((c: any) => c.after?.source === 'bob' && c.status === 'CREATED');
    const bobDeleted = truth.cdc.find((c: any) => c.after?.source === 'bob' && c.status === 'DELETED');
    expect(bobCreated.seq).toBeLessThan(bobDeleted.seq);
    const producer = await createKafka({ brokers: [bootstrap], clientId: 'esi-test' }).producer();
    try {
      await producer.send(cdc, [{ key: 'bob:1', value: JSON.stringify(bobCreated) }]);
    } finally {
      await producer.close();
    }
    // And an insert older than the delete (like@120 < unlike@150), through the core: IDLE, a new seq.
    const r = await mutate(core, 'likes', 'req-late', [like('bob', 1, 120)]);
    expect(r.results[0]).toMatchObject({ status: 'IDLE' });
    await waitIndexed(client, prefix, truth.total + 2); // the late WAL and CDC records (the replayed copy shares its id)
    await waitFor('the replayed record counted as a version conflict', async () => (await counter((indexer as any).wal.registry, 'es_indexer_version_conflicts_total')) >= 1);
    // The current-state index refreshes on its own interval: wait for the late write's document.
    const state = await waitFor('the late write in the current state', async () => {
      const s = await lookup.edgeState({ table: 'likes', source: 'bob', target: '1' });
      return s?.['lastRequestId'] === 'req-late' && s;
    });
    expect(state).toMatchObject({ active: false, lastRequestId: 'req-late', state: { deletedAt: 150 } });
    expect(state?.['seq']).toBeGreaterThan(bobDeleted.seq);
    expect(await countDocs(client, mutationIndexPattern(prefix))).toBe(truth.total + 2);
  });

  it('multi-edges: one current-state document per id; a gift moved to another recipient stays in the old one\'s history', async () => {
    const created = await api(core.url, 'POST', '/graph/v2/service/shop/label/gifts', {
      desc: 'gifts',
      type: 'MULTI_EDGE',
      schema: { src: { type: 'STRING' }, tgt: { type: 'STRING' }, fields: [{ name: 'amount', type: 'LONG', nullable: false }] },
      dirType: 'BOTH',
      indices: [{ name: 'by_amount', fields: [{ name: 'amount', order: 'DESC' }] }],
    });
    expect(created.status).toBe(200);
    // (The topics hold one record more than the log: the CDC record produced twice above shares its id.)
    const base = await countDocs(client, mutationIndexPattern(prefix));
    const mb = '/graph/v3/databases/shop/tables/gifts/multi-edges';
    await api(core.url, 'POST', mb, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, id: 77, source: 'hana', target: 'ivan', properties: { amount: 3000 } } },
        { type: 'INSERT', edge: { version: 2, id: 78, source: 'hana', target: 'ivan', properties: { amount: 100 } } },
      ],
    });
    const moved = await api(core.url, 'POST', mb, { mutations: [{ type: 'UPDATE', edge: { version: 3, id: 78, target: 'jun', properties: {} } }] });
    expect(moved.body.results[0]).toMatchObject({ id: 78, status: 'UPDATED' });
    await waitIndexed(client, prefix, base + 3 + 3);

    const gift78 = await lookup.edgeHistory({ table: 'gifts', id: '78' }, 50);
    expect(gift78.items.map((i) => `${i.kind}:${i.type}:${i.status}`)).toEqual(['wal:INSERT:RECEIVED', 'cdc:INSERT:CREATED', 'wal:UPDATE:RECEIVED', 'cdc:UPDATE:UPDATED']);
    // The endpoint it had is in the _target cell of `before` (the core sets before.target to the new endpoint).
    expect(gift78.items[3]).toMatchObject({ before: { properties: { _target: { value: 'ivan' } } }, after: { target: 'jun', edgeId: 78 } });
    // ivan, who no longer holds gift 78, still sees the change that took it away.
    const ivan = await lookup.byUser('ivan', {}, 50, undefined, 'gifts');
    expect(ivan.items.filter((i) => i.kind === 'cdc').map((i) => `${i.edgeId}:${i.status}`).sort()).toEqual(['77:CREATED', '78:CREATED', '78:UPDATED']);
    const state = await waitFor('gift 78 at jun', async () => {
      const s = await lookup.edgeState({ table: 'gifts', id: '78' });
      return s?.['target'] === 'jun' && s;
    });
    expect(state).toMatchObject({ source: 'hana', target: 'jun', edgeId: '78', active: true, status: 'UPDATED' });
    await client.indices.refresh({ index: edgesIndex(prefix) });
    expect((await client.count({ index: edgesIndex(prefix), query: { term: { table: 'gifts' } } })).count).toBe(2);
  });
});
