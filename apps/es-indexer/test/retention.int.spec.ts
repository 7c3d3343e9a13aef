import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import { ensureElasticsearch } from '@pipeline/stack';
import type { DecodedRecord } from '@pipeline/stream';
import { DAY_MS, mutationIndex, mutationIndexPattern } from '../src/documents';
import { EsSink, SinkMetrics } from '../src/es.sink';
import { deleteExpiredIndices, ensureIndices } from '../src/indices';
import { countDocs, dropPrefix, newPrefix } from './harness';

const ctx = { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'a', requestId: 'r' } };
const walAt = (id: string, at: number): DecodedRecord<WalRecord> => ({
  kind: 'wal',
  record: { version: '3', type: 'e', processedAt: at, context: ctx, event: { id, requestId: 'r', type: 'INSERT', version: at, source: 'u', target: 1, properties: {} }, mode: { table: 'SYNC', request: null, queue: false } },
  topic: 't', partition: 0, offset: 0n, key: 'u:1', timestamp: 0, value: Buffer.from(''), headers: {},
});

describe('retention of the daily mutation log on the real Elasticsearch', () => {
  let client: Client;
  const prefix = newPrefix();
  beforeAll(async () => {
    client = new Client({ node: (await ensureElasticsearch()).url });
    await ensureIndices(client, { prefix, refreshInterval: '1s', shards: 1, replicas: 0 });
  });
  afterAll(async () => {
    await dropPrefix(client, prefix);
    await client.close();
  });

  it('writes each record into the index of its UTC day, skips records past the retention, and deletes expired days', async () => {
    const now = Date.now();
    const metrics = new SinkMetrics(new Registry());
    const sink = new EsSink<WalRecord | CdcRecord>({ kind: 'wal', client, prefix, retentionDays: 21, logger: pino({ level: 'silent' }), metrics });
    await sink.write([walAt('today', now), walAt('ten-days-ago', now - 10 * DAY_MS), walAt('thirty-days-ago', now - 30 * DAY_MS)]);
    expect((await metrics.expired.get()).values[0]?.value).toBe(1);
    const rows = (await client.cat.indices({ index: mutationIndexPattern(prefix), format: 'json', h: 'index' } as never)) as unknown as { index: string }[];
    expect(rows.map((r) => r.index).sort()).toEqual([mutationIndex(prefix, now - 10 * DAY_MS), mutationIndex(prefix, now)].sort());
    // The index template gave the auto-created daily index the strict, generated mapping.
    const mapping = await client.indices.getMapping({ index: mutationIndex(prefix, now) });
    expect(Object.values(mapping)[0]?.mappings.dynamic).toBe('strict');

    expect(await deleteExpiredIndices(client, prefix, 21, now)).toEqual([]);
    expect(await deleteExpiredIndices(client, prefix, 7, now)).toEqual([mutationIndex(prefix, now - 10 * DAY_MS)]);
    expect(await countDocs(client, mutationIndexPattern(prefix))).toBe(1);
  });
});
