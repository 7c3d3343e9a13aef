import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { createKafka } from '@pipeline/kafka';
import { readAll } from '@pipeline/kafka/testing';
import { ensureElasticsearch, ensureKafka, startElasticsearch, stopElasticsearch } from '@pipeline/stack';
import { readDeadLetter } from '@pipeline/stream';
import { freePort, tempDir, type CoreProcess } from '@pipeline/testing';
import { mutationIndexPattern } from '../src/documents';
import { LookupService } from '../src/lookup.service';
import { allDocs, counter, countDocs, dropPrefix, like, mutate, newPrefix, runIndexer, startCore, topicRecords, waitFor, waitIndexed } from './harness';

describe('es-indexer when records or Elasticsearch misbehave', () => {
  let bootstrap: string;
  const cores: CoreProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    for (const c of cores) await c.stop('SIGKILL');
  });

  it('a malformed record and a document Elasticsearch rejects go to the DLQ with the error; the rest is indexed', async () => {
    const { url } = await ensureElasticsearch();
    const client = new Client({ node: url });
    const prefix = newPrefix();
    const { core, wal, cdc } = await startCore(bootstrap);
    cores.push(core);
    const { indexer, registry, group } = await runIndexer({ bootstrap, client, prefix, wal, cdc });
    cleanups.push(async () => {
      await indexer.stop();
      await dropPrefix(client, prefix);
      await client.close();
    });
    await mutate(core, 'likes', 'before', [like('dora', 1, 100)]);
    const t0 = await topicRecords(bootstrap, wal, cdc);
    const good = t0.wal[0];
    const producer = await createKafka({ brokers: [bootstrap], clientId: 'esi-test' }).producer();
    // Not JSON at all: the runtime's decode stage dead-letters it.
    await producer.send(wal, [{ key: 'x:1', value: '{"not json' }]);
    // A valid WAL record whose source (40 KB) is over Lucene's term limit: Elasticsearch rejects the document.
    const huge = { ...good, event: { ...good.event, id: 'HUGE-EVENT', source: 'u'.repeat(40_000) } };
    await producer.send(wal, [{ key: 'huge:1', value: JSON.stringify(huge) }]);
    await producer.close();
    await mutate(core, 'likes', 'after', [like('dora', 2, 100)]);

    const dlq = await waitFor('two dead letters', async () => {
      const msgs = await readAll(bootstrap, `${group}.dlq`, { timeoutMs: 2_000 }).catch(() => []);
      return msgs.length >= 2 && msgs;
    }, 60_000);
    const letters = dlq.map((m) => readDeadLetter(m)!);
    const rejected = letters.find((l) => l.code === 'DOCUMENT_REJECTED');
    expect(rejected?.message).toMatch(/document_parsing_exception|immense term|max_bytes_length_exceeded/);
    expect(rejected?.source.topic).toBe(wal);
    expect(JSON.parse(rejected!.value!.toString()).event.id).toBe('HUGE-EVENT');
    const poison = letters.find((l) => l.stage === 'decode');
    expect(poison?.value?.toString()).toBe('{"not json');
    expect(await counter(registry, 'es_indexer_rejected_total')).toBe(1);

    // Everything else: 2 WAL + 2 CDC documents of the real mutations.
    await waitIndexed(client, prefix, 4);
    const lookup = new LookupService(client, prefix);
    expect((await lookup.byUser('dora', {}, 50)).items).toHaveLength(4);
    expect((await lookup.byEventId('HUGE-EVENT', 50)).items).toHaveLength(0);
  }, 120_000);

  it('Elasticsearch stopped in the middle of a stream: after it returns, nothing is missing and nothing doubled', async () => {
    const dir = tempDir('esi-private-es');
    const es = { dir, port: await freePort(), transportPort: await freePort() };
    const { url } = await startElasticsearch(es);
    cleanups.push(async () => {
      await stopElasticsearch(es);
      rmSync(dir, { recursive: true, force: true });
    });
    const client = new Client({ node: url, maxRetries: 0, requestTimeout: 5_000 });
    const prefix = newPrefix();
    const { core, wal, cdc } = await startCore(bootstrap);
    cores.push(core);
    const { indexer, registry } = await runIndexer({ bootstrap, client, prefix, wal, cdc });
    cleanups.push(() => indexer.stop());

    let n = 0;
    const burst = async (count: number) => {
      for (let i = 0; i < count; i++, n++) await mutate(core, 'likes', `r-${n}`, [like(`user${n % 7}`, n, 1000 + n), like(`user${n % 7}`, n, 2000 + n, n % 3 ? 'INSERT' : 'DELETE')]);
    };
    await burst(20);
    await waitIndexed(client, prefix, 20 * 2 + 20);

    await stopElasticsearch(es);
    await burst(30); // the core goes on: WAL and CDC pile up in Kafka while the sink is down
    await waitFor('the indexer to notice the outage', async () => !indexer.ready().ready || (await counter(registry, 'stream_retries_total').catch(() => 0)) > 0, 60_000);
    await startElasticsearch(es);

    const truth = await topicRecords(bootstrap, wal, cdc);
    expect(truth.wal).toHaveLength(100);
    expect(truth.cdc).toHaveLength(50);
    await waitIndexed(client, prefix, 150, 120_000);
    const docs = await allDocs(client, prefix);
    const logIds = [...docs.values()].filter((d) => d.index.includes('-mutations-')).map((d) => (d.source as { docId: string }).docId);
    const expected = [...truth.wal.map((w: any) => `wal:${w.event.id}`), ...truth.cdc.map((c: any) => `cdc:shop.likes:${c.seq}`)];
    expect(logIds.sort()).toEqual(expected.sort());
    expect(new Set(logIds).size).toBe(logIds.length);
    // One current-state document per edge, at the seq of its last CDC record.
    const edges = [...docs.values()].filter((d) => d.index.endsWith('-edges'));
    expect(edges).toHaveLength(50);
    expect(await countDocs(client, mutationIndexPattern(prefix))).toBe(150);
    expect(indexer.ready().ready).toBe(true);
    await dropPrefix(client, prefix);
    await client.close();
  }, 300_000);
});
