import { describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { CdcRecord } from '@pipeline/events';
import { SinkError, type DecodedRecord } from '@pipeline/stream';
import { EsSink, SinkMetrics } from './es.sink';

// The per-item decisions of the sink, on canned bulk answers (the shapes Elasticsearch 9 returns; the
// integration tests cover the real cluster: rejected documents, outages, version conflicts).
const ctx = { tenant: 't', database: 'shop', table: 'likes', alias: null, request: { actor: 'a', requestId: 'r' } };
const st = (active: boolean) => ({ source: 'u', target: 1, active, version: 1, createdAt: 1, deletedAt: null, properties: {} });
const cdc = (seq: number): DecodedRecord<CdcRecord> => ({
  kind: 'cdc',
  record: {
    version: '3', type: 'e', processedAt: Date.now(), lockAt: Date.now(), seq, status: 'CREATED', accumulator: 1, message: null, context: ctx,
    events: [{ id: `e${seq}`, requestId: 'r', type: 'INSERT', version: 1, source: 'u', target: 1, properties: {} }], before: null, after: st(true),
  },
  topic: 't', partition: 0, offset: BigInt(seq), key: 'u:1', timestamp: 0, value: Buffer.from(''), headers: {},
});

function sinkWith(answers: { status: number; error?: object }[][]) {
  const calls: unknown[][] = [];
  const client = {
    bulk: async ({ operations }: { operations: unknown[] }) => {
      calls.push(operations);
      const items = answers.shift() ?? [];
      return { items: items.map((i) => ({ index: i })) };
    },
  } as unknown as Client;
  const metrics = new SinkMetrics(new Registry());
  const sink = new EsSink<CdcRecord>({ kind: 'cdc', client, prefix: 'p', retentionDays: 21, logger: pino({ level: 'silent' }), metrics, retryBaseMs: 1 });
  return { sink, calls, metrics };
}

describe('EsSink per-item results', () => {
  it('ignores version conflicts on the current state, dead-letters mapping errors, retries only 429/5xx items', async () => {
    // Per record: [edges, mutations]. Record 1: conflict + ok. Record 2: ok + mapping error. Record 3: 429 then ok.
    const { sink, calls, metrics } = sinkWith([
      [{ status: 409 }, { status: 201 }, { status: 201 }, { status: 400, error: { type: 'document_parsing_exception', reason: 'bad' } }, { status: 429 }, { status: 201 }],
      [{ status: 200 }],
    ]);
    const res = await sink.write([cdc(1), cdc(2), cdc(3)]);
    expect(res.failed?.map((f) => f.record.record.seq)).toEqual([2]);
    expect((res.failed?.[0]?.error as SinkError).code).toBe('DOCUMENT_REJECTED');
    expect((res.failed?.[0]?.error as SinkError).message).toContain('document_parsing_exception: bad');
    expect(calls[1]).toHaveLength(2); // only the 429 item went again
    expect((await metrics.conflicts.get()).values[0]?.value).toBe(1);
  });

  it('fails the batch retryable when items keep answering 5xx', async () => {
    const { sink } = sinkWith([[{ status: 503 }, { status: 201 }], [{ status: 503 }], [{ status: 503 }], [{ status: 503 }]]);
    await expect(sink.write([cdc(1)])).rejects.toMatchObject({ code: 'ES_UNAVAILABLE', retryable: true });
  });
});
