// Record builders for this app's unit and integration tests (not used by main.ts, so not in the build).
import { encodeCdc, heartbeatCdc, kafkaKey, type CdcRecord } from '@pipeline/events';
import type { DecodedRecord } from '@pipeline/stream';

const T0 = 1_764_115_200_000;
const context = (n: number) => ({ tenant: 'demo', database: 'shop', table: 'likes', alias: null, request: { actor: 'test', requestId: `req-${n}` } });
const event = (n: number) => ({
  id: `evt-${n}`,
  requestId: `req-${n}`,
  type: 'INSERT' as const,
  version: T0 + n,
  source: `u-${n % 7}`,
  target: n,
  properties: { created_at: T0 + n },
});

/** The CDC record of item n: user u-<n%7> liked item n (CREATED, count +1, seq n+1). */
export function record(n: number): CdcRecord {
  return {
    version: '3',
    type: 'e',
    processedAt: T0 + n,
    lockAt: T0 + n,
    seq: n + 1,
    status: 'CREATED',
    accumulator: 1,
    message: null,
    context: context(n),
    events: [event(n)],
    before: null,
    after: {
      source: `u-${n % 7}`,
      target: n,
      active: true,
      version: T0 + n,
      createdAt: T0 + n,
      deletedAt: null,
      properties: { created_at: { value: T0 + n, version: T0 + n } },
    },
  } as CdcRecord;
}

/** The event id a record carries. */
export const eventIdOf = (r: CdcRecord): string => r.events[0]!.id;
export const encode = (r: CdcRecord): string => encodeCdc(r);
export const heartbeat = (n: number): string => encodeCdc(heartbeatCdc('demo', 'core-1', T0 + n));

/** The Kafka key the core gives item n (`source:target`). */
export const keyOf = (n: number): string => kafkaKey(`u-${n % 7}`, n);

/** Item n as the runtime hands it to the sink. */
export function decoded(n: number, partition = 0): DecodedRecord<CdcRecord> {
  const r = record(n);
  return { kind: 'cdc', record: r, topic: 'test', partition, offset: BigInt(n), key: keyOf(n), timestamp: T0 + n, value: Buffer.from(encode(r)), headers: {} };
}

export interface CdcOptions {
  at: number;
  actor?: string;
  source?: string;
  target?: string | number;
  status?: CdcRecord['status'];
  accumulator?: -1 | 0 | 1;
  database?: string;
  table?: string;
  events?: number;
}

/** A CDC record of any shape the rules look at: who (actor), which edge, what happened, when (processedAt). */
export function cdc(o: CdcOptions): CdcRecord {
  const source = o.source ?? o.actor ?? 'u';
  const target = o.target ?? 1;
  const status = o.status ?? 'CREATED';
  const active = status !== 'DELETED';
  const events = Array.from({ length: o.events ?? 1 }, (_, i) => ({
    id: `evt-${o.at}-${i}`,
    requestId: 'req',
    type: (active ? 'INSERT' : 'DELETE') as 'INSERT' | 'DELETE',
    version: o.at + i,
    source,
    target,
    properties: {},
  }));
  return {
    version: '3',
    type: 'e',
    processedAt: o.at,
    lockAt: o.at,
    seq: o.at,
    status,
    accumulator: o.accumulator ?? (status === 'CREATED' ? 1 : status === 'DELETED' ? -1 : 0),
    message: null,
    context: { tenant: 'demo', database: o.database ?? 'shop', table: o.table ?? 'likes', alias: null, request: { actor: o.actor ?? source, requestId: 'req' } },
    events,
    before: null,
    after: { source, target, active, version: o.at, createdAt: o.at, deletedAt: active ? null : o.at, properties: {} },
  } as CdcRecord;
}

/** A record as the runtime hands it to the sink, at an explicit partition and offset. */
export function at(record: CdcRecord, partition: number, offset: number, topic = 'cdc'): DecodedRecord<CdcRecord> {
  return { kind: 'cdc', record, topic, partition, offset: BigInt(offset), key: null, timestamp: record.processedAt, value: Buffer.alloc(0), headers: {} };
}

/** A seeded generator of uniform numbers in [0, 1) (mulberry32: 32-bit integer steps, so no precision is lost in doubles). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
