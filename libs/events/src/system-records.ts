import { ulid } from 'ulid';
import type { CdcRecord } from './cdc.schema';
import type { EdgeEventRecord } from './edge-event.schema';
import type { RecordContext } from './context.schema';
import type { WalRecord } from './wal.schema';

/** Database holding system tables (v2: labels "sys.*"). */
export const SYSTEM_DATABASE = 'sys';
export const HEARTBEAT_TABLE = 'heartbeat';

/**
 * System records (heartbeats, schema changes) share the topics with data but describe no edge; every
 * consumer skips them (docs/records.md: "Skip records whose label/table starts with `sys.`"). v2 labels
 * "sys.x" decode to database "sys", so one check covers both formats.
 */
export function isSystemRecord(record: { context: RecordContext }): boolean {
  return record.context.database === SYSTEM_DATABASE;
}

export interface HeartbeatOptions {
  /** Event id; a ULID stamped with `now` by default. */
  id?: string;
  /** Edge target; Actionbase puts its Kafka bootstrap address there. Default: the server id. */
  target?: string;
}

function heartbeatContext(tenant: string): RecordContext {
  return {
    tenant,
    database: SYSTEM_DATABASE,
    table: HEARTBEAT_TABLE,
    alias: null,
    request: { actor: 'system', requestId: '' },
  };
}

function heartbeatEvent(serverId: string, now: number, options: HeartbeatOptions): EdgeEventRecord {
  return {
    id: options.id ?? ulid(now),
    requestId: '',
    type: 'INSERT',
    version: now,
    source: serverId,
    target: options.target ?? serverId,
    properties: {},
  };
}

/**
 * The WAL heartbeat each server sends every minute, so consumers can tell a quiet topic from a dead
 * producer. Mode mirrors Actionbase's (table IGNORE, forced SYNC): it is never queued for replay.
 */
export function heartbeatWal(tenant: string, serverId: string, now: number, options: HeartbeatOptions = {}): WalRecord {
  return {
    version: '3',
    type: 'e',
    processedAt: now,
    context: heartbeatContext(tenant),
    event: heartbeatEvent(serverId, now, options),
    mode: { table: 'IGNORE', request: 'SYNC', system: null, force: true, queue: false },
  };
}

/** The CDC heartbeat: IDLE with no state and no count delta, so a consumer that fails to skip it changes nothing. */
export function heartbeatCdc(tenant: string, serverId: string, now: number, options: HeartbeatOptions = {}): CdcRecord {
  return {
    version: '3',
    type: 'e',
    processedAt: now,
    lockAt: now,
    status: 'IDLE',
    accumulator: 0,
    message: null,
    context: heartbeatContext(tenant),
    events: [heartbeatEvent(serverId, now, options)],
    before: null,
    after: null,
  };
}
