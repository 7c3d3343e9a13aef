// Record builders shared by the unit and integration tests; published as @pipeline/stream/testing (testing.ts).
import { encodeCdc, encodeWal, heartbeatCdc, heartbeatWal, type CdcRecord, type WalRecord } from '@pipeline/events';

const T0 = 1_764_115_200_000;
/** The core's commit sequence counts 2048 ticks per ms (16 digits now): test records carry one of that size. */
const SEQ0 = T0 * 2048;

/** A WAL record for item n: a like from user u-<n%7> to item <n>, native v3 or Actionbase v2 wire format. */
export function walValue(n: number, format: 'v3' | 'v2' = 'v3'): string {
  if (format === 'v2') {
    return JSON.stringify({
      version: '2',
      tenant: 'demo',
      phase: 'prod',
      label: 'shop.likes',
      alias: null,
      edge: { ts: T0 + n, src: `u-${n % 7}`, tgt: n, props: { created_at: T0 + n }, traceId: `trace-${n}` },
      op: 'INSERT',
      mode: { l: 'SYNC', r: null, s: null, f: false, queue: false },
      audit: { actor: 'test' },
      requestId: `req-${n}`,
      ts: T0 + n,
    });
  }
  const record: WalRecord = {
    version: '3',
    type: 'e',
    processedAt: T0 + n,
    context: { tenant: 'demo', database: 'shop', table: 'likes', alias: null, request: { actor: 'test', requestId: `req-${n}` } },
    event: { id: `evt-${n}`, requestId: `req-${n}`, type: 'INSERT', version: T0 + n, source: `u-${n % 7}`, target: n, properties: { created_at: T0 + n } },
    mode: { table: 'SYNC', request: null, system: null, force: false, queue: false },
  };
  return encodeWal(record);
}

/** A CDC record for item n (CREATED, count +1), with a seq of the core's size. */
export function cdcValue(n: number): string {
  const after = {
    source: `u-${n % 7}`,
    target: n,
    active: true,
    version: T0 + n,
    createdAt: T0 + n,
    deletedAt: null,
    properties: { created_at: { value: T0 + n, version: T0 + n } },
  };
  const record: CdcRecord = {
    version: '3',
    type: 'e',
    processedAt: T0 + n,
    lockAt: T0 + n,
    seq: SEQ0 + n + 1,
    status: 'CREATED',
    accumulator: 1,
    message: null,
    context: { tenant: 'demo', database: 'shop', table: 'likes', alias: null, request: { actor: 'test', requestId: `req-${n}` } },
    events: [{ id: `evt-${n}`, requestId: `req-${n}`, type: 'INSERT', version: T0 + n, source: `u-${n % 7}`, target: n, properties: { created_at: T0 + n } }],
    before: null,
    after,
  } as CdcRecord;
  return encodeCdc(record);
}

export const walHeartbeat = (n: number): string => encodeWal(heartbeatWal('demo', 'core-1', T0 + n));
export const cdcHeartbeat = (n: number): string => encodeCdc(heartbeatCdc('demo', 'core-1', T0 + n));

/** The Kafka key the core would give item n. */
export const keyOf = (n: number): string => `u-${n % 7}:${n}`;

/** The item number a test record carries (WAL or CDC, v3 or v2). */
export function itemOf(record: WalRecord | CdcRecord): number {
  const target = 'event' in record ? record.event.target : record.events[0]?.target;
  return Number(target);
}
