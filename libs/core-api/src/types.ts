/** Request and answer shapes of the core's REST API (docs/api.md), as its callers read them. */
import type { Long } from '@pipeline/events';

/** A string or a LONG (64-bit: a number within ±(2^53 - 1), a bigint beyond). */
export type Endpoint = string | Long;
export type Direction = 'OUT' | 'IN';

export interface MutationItem {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  edge: { version: Long; source?: Endpoint; target?: Endpoint; id?: Endpoint; properties: Record<string, unknown> };
}

export interface MutationResult {
  source?: Endpoint;
  target?: Endpoint;
  id?: Endpoint;
  status: string;
  count: number;
}

export interface EdgeView {
  version: Long;
  id?: Endpoint;
  source: Endpoint;
  target: Endpoint;
  /**
   * The core answers every schema property, `null` when absent (and a multi-edge's `_id`); the client's reads
   * (`get`, `multiEdges`, `scan`, `seek`) give the present ones only, see `presentProperties`.
   */
  properties: Record<string, unknown>;
}

export interface ScanPage {
  edges: EdgeView[];
  total: number;
  offset: string | null;
  hasNext: boolean;
}

/** A table as replay tools read it (the core's earlier v3 body, which POST .../tables still accepts). */
export interface TableBody {
  database?: string;
  table: string;
  type: 'EDGE' | 'MULTI_EDGE';
  schema: {
    source: { type: string; comment?: string };
    target: { type: string; comment?: string };
    properties: { name: string; type: string; nullable: boolean; comment?: string }[];
  };
  direction: 'BOTH' | 'OUT' | 'IN';
  indexes: { index: string; fields: { field: string; order: 'ASC' | 'DESC' }[] }[];
  mode: string;
  readOnly?: boolean;
  [k: string]: unknown;
}

export interface SchemaDump {
  databases: { database: string; [k: string]: unknown }[];
  tables: TableBody[];
  aliases: { database: string; alias: string; table: string; [k: string]: unknown }[];
}

/** queue/v1 (docs/api.md, "Queues"). `seq` is 64-bit: a number within ±(2^53-1), a bigint beyond. */
export type QueueSeq = number | bigint;

export interface QueueDescriptor {
  namespace: string;
  queue: string;
  partitions: number;
  storage: string;
}

export interface EnqueueMessage {
  key: string;
  seq: QueueSeq;
  value?: unknown;
}

export interface EnqueueAnswer {
  accepted: number;
  results: { partition: number; id: string; status: string }[];
}

export interface PolledMessage {
  partition: number;
  id: string;
  seq: QueueSeq;
  value: unknown;
}

export interface PollPage {
  messages: PolledMessage[];
  /** The highest seq returned (the request's offset when none was): pass it to the next poll and to commit. */
  offset: QueueSeq | null;
  hasNext: boolean;
}

/** `edges/agg/{group}`: one value per start with matching edges. */
export interface AggPage {
  groups: { start: Endpoint; direction: Direction; value: number; context: Record<string, unknown> }[];
  count: number;
}
