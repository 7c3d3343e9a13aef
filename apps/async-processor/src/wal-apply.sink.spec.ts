/**
 * How the sink sorts the core's answers (the real core is in test/; these pin down the narrowing rules with
 * scripted answers, cases the real core makes hard to provoke on demand: 413, ERROR results, 5xx).
 */
import { describe, it, expect } from '@jest/globals';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { WalRecord } from '@pipeline/events';
import { SinkError, type DecodedRecord } from '@pipeline/stream';
import { CoreError, type CoreClient, type MutationItem as Mutation, type MutationResult } from '@pipeline/core-api';
import type { KeepNewest } from './keep-newest';
import { unlimited } from './token-bucket';
import { WalApplySink } from './wal-apply.sink';

let offset = 0n;
function rec(table: string, source: string, target: number, queue = true): DecodedRecord<WalRecord> {
  const record: WalRecord = {
    version: '3',
    type: 'e',
    processedAt: Date.now(),
    context: { tenant: 't', database: 'shop', table, alias: null, request: { actor: 'app', requestId: `req-${source}` } },
    event: { id: `e${offset}`, requestId: `req-${source}`, type: 'INSERT', version: 1, source, target, properties: {} },
    mode: { table: 'ASYNC', request: null, queue },
  };
  return { kind: 'wal', record, topic: 'wal', partition: 0, offset: offset++, key: `${source}:${target}`, timestamp: 0, value: Buffer.from(''), headers: {} };
}

/** A scripted answer: the results, or what the core says when it refuses the request. */
type MutateOutcome = { ok: true; results: MutationResult[] } | { ok: false; rejection: { status: number; code: string; message: string; field: string | null } };

/** A scripted core: `answer` decides per request; every request is recorded; a refusal is thrown as the client does. */
function sinkWith(answer: (table: string, m: Mutation[]) => MutateOutcome) {
  const calls: { table: string; sources: unknown[]; requestIds: string[] }[] = [];
  const core = {
    mutateForced: async (_db: string, table: string, _multi: boolean, m: Mutation[], requestIds: string[]) => {
      calls.push({ table, sources: m.map((x) => x.edge.source), requestIds });
      const o = answer(table, m);
      if (!o.ok) throw new CoreError(`POST ${table}`, o.rejection.status, o.rejection);
      return o.results;
    },
  } as unknown as CoreClient;
  const sink = new WalApplySink({
    core,
    limiter: unlimited,
    keepNewest: {} as KeepNewest,
    rules: new Map(),
    concurrency: 2,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
  });
  return { sink, calls };
}

const ok = (m: Mutation[]): MutateOutcome => ({ ok: true, results: m.map((x) => ({ source: x.edge.source, target: x.edge.target, status: 'CREATED', count: 1 })) });
const codes = (r: any) => (r.failed ?? []).map((f: any) => [f.record.record.event.source, (f.error as SinkError).code, (f.error as SinkError).retryable]);

describe('WalApplySink', () => {
  it('sends one request per table, in batch order, skipping records that are not queued', async () => {
    const { sink, calls } = sinkWith((_t, m) => ok(m));
    const r = await sink.write([rec('a', 'u1', 1), rec('b', 'u2', 1), rec('a', 'u3', 1, false), rec('a', 'u1', 2), rec('b', 'u2', 2)]);
    expect(codes(r)).toEqual([]);
    expect(calls.map((c) => [c.table, c.sources]).sort()).toEqual([
      ['a', ['u1', 'u1']],
      ['b', ['u2', 'u2']],
    ]);
    expect(calls.find((c) => c.table === 'a')!.requestIds).toEqual(['req-u1', 'req-u1']);
  });

  it('a 400 naming mutations[i] dead-letters that record and sends the rest again', async () => {
    const { sink, calls } = sinkWith((_t, m) => {
      const i = m.findIndex((x) => x.edge.source === 'bad');
      return i >= 0 ? { ok: false, rejection: { status: 400, code: 'INVALID_REQUEST', message: 'x', field: `mutations[${i}].edge.version` } } : ok(m);
    });
    const r = await sink.write([rec('a', 'u1', 1), rec('a', 'bad', 1), rec('a', 'u2', 1)]);
    expect(codes(r)).toEqual([['bad', 'CORE_400_INVALID_REQUEST', false]]);
    expect(calls.map((c) => c.sources)).toEqual([['u1', 'bad', 'u2'], ['u1', 'u2']]);
  });

  it('a 413 splits the table records in halves until they fit; a single record that does not fit is dead-lettered', async () => {
    const { sink } = sinkWith((_t, m) =>
      m.length > 2 || m.some((x) => x.edge.source === 'huge') ? { ok: false, rejection: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'big', field: 'body' } } : ok(m),
    );
    const r = await sink.write([rec('a', 'u1', 1), rec('a', 'u2', 1), rec('a', 'huge', 1), rec('a', 'u3', 1), rec('a', 'u4', 1)]);
    expect(codes(r)).toEqual([['huge', 'CORE_413_PAYLOAD_TOO_LARGE', false]]);
  });

  it('a 404 dead-letters the whole table group; other tables are applied', async () => {
    const { sink } = sinkWith((t, m) => (t === 'gone' ? { ok: false, rejection: { status: 404, code: 'NOT_FOUND', message: 'no table', field: null } } : ok(m)));
    const r = await sink.write([rec('gone', 'u1', 1), rec('a', 'u2', 1), rec('gone', 'u3', 1)]);
    expect(codes(r)).toEqual([
      ['u1', 'CORE_404_NOT_FOUND', false],
      ['u3', 'CORE_404_NOT_FOUND', false],
    ]);
  });

  it('a key the core answers ERROR for is dead-lettered, the others count as written', async () => {
    const { sink } = sinkWith((_t, m) => ({
      ok: true,
      results: m.map((x) => ({ source: x.edge.source, target: x.edge.target, status: x.edge.source === 'u2' ? 'ERROR' : 'CREATED', count: 1 })),
    }));
    const r = await sink.write([rec('a', 'u1', 1), rec('a', 'u2', 7), rec('a', 'u2', 7)]);
    expect(codes(r)).toEqual([
      ['u2', 'MUTATION_REJECTED', false],
      ['u2', 'MUTATION_REJECTED', false],
    ]);
  });

  it('an outage (the client throws a retryable CoreError) fails the whole batch, so the stream retries it', async () => {
    const { sink } = sinkWith(() => {
      throw new CoreError('POST x', null, { message: 'down' });
    });
    await expect(sink.write([rec('a', 'u1', 1)])).rejects.toMatchObject({ code: 'CORE_UNAVAILABLE', retryable: true });
  });
});
