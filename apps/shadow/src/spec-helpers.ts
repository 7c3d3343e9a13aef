// Record builders for this app's unit and integration tests (not used by main.ts, so not in the build).
import { encodeWal, heartbeatWal, kafkaKey, type WalRecord } from '@pipeline/events';
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

/** The WAL record of item n: user u-<n%7> likes item n (native v3). */
export function record(n: number): WalRecord {
  return {
    version: '3',
    type: 'e',
    processedAt: T0 + n,
    context: context(n),
    event: event(n),
    mode: { table: 'SYNC', request: null, system: null, force: false, queue: false },
  };
}

/** The event id a record carries. */
export const eventIdOf = (r: WalRecord): string => r.event.id;
export const encode = (r: WalRecord): string => encodeWal(r);
export const heartbeat = (n: number): string => encodeWal(heartbeatWal('demo', 'core-1', T0 + n));

/** The Kafka key the core gives item n (`source:target`). */
export const keyOf = (n: number): string => kafkaKey(`u-${n % 7}`, n);

/** Item n as the runtime hands it to the sink. */
export function decoded(n: number, partition = 0): DecodedRecord<WalRecord> {
  const r = record(n);
  return { kind: 'wal', record: r, topic: 'test', partition, offset: BigInt(n), key: keyOf(n), timestamp: T0 + n, value: Buffer.from(encode(r)), headers: {} };
}
