/**
 * From a WAL or CDC record to the Elasticsearch documents it becomes: ids, index names and bodies. Pure, so the
 * rules that make replays idempotent (ids from event ids and the CDC seq, never Kafka offsets; the index chosen by
 * the record's own processedAt) are unit-tested without a cluster.
 */
import { createHash } from 'node:crypto';
import { stringifyJson, type CdcRecord, type Long, type WalRecord } from '@pipeline/events';
import type { DecodedRecord } from '@pipeline/stream';

export const DAY_MS = 86_400_000;

export interface IndexNames {
  prefix: string;
}

/** `<prefix>-mutations-YYYY.MM.DD` (UTC day of the record's processedAt). */
export function mutationIndex(prefix: string, at: number): string {
  const d = new Date(at);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${prefix}-mutations-${d.getUTCFullYear()}.${pad(d.getUTCMonth() + 1)}.${pad(d.getUTCDate())}`;
}

export const mutationIndexPattern = (prefix: string) => `${prefix}-mutations-*`;
export const edgesIndex = (prefix: string) => `${prefix}-edges`;

/** The UTC day (ms at midnight) of a mutation index name, or undefined for a name that is not one. */
export function dayOfMutationIndex(prefix: string, index: string): number | undefined {
  const m = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-mutations-(\\d{4})\\.(\\d{2})\\.(\\d{2})$`).exec(index);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** Elasticsearch ids are at most 512 bytes: longer ones are replaced by a hash (stable, so replays still match). */
function boundedId(id: string): string {
  return Buffer.byteLength(id) <= 512 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

export const walDocId = (r: WalRecord) => boundedId(`wal:${r.event.id}`);

/** `cdc:<db>.<table>:<seq>`; records without seq (Actionbase v2) use their first event id. */
export function cdcDocId(r: CdcRecord): string {
  const where = `${r.context.database}.${r.context.table}`;
  return boundedId(r.seq !== undefined ? `cdc:${where}:${r.seq}` : `cdc:${where}:e:${r.events[0]?.id ?? 'none'}`);
}

type Endpoint = string | Long;

/** One current-state document per edge: (db, table, source, target), or (db, table, id) for multi-edges. */
export function edgeDocId(db: string, table: string, source: Endpoint, target: Endpoint, edgeId?: Endpoint): string {
  const key = edgeId !== undefined ? stringifyJson(['id', edgeId]) : stringifyJson([source, target]);
  return boundedId(`${db}.${table}:${key}`);
}

const uniq = (xs: string[]) => [...new Set(xs.filter((x) => x !== ''))];

function kafkaOf(d: DecodedRecord) {
  return { topic: d.topic, partition: d.partition, offset: Number(d.offset) };
}

export interface BulkDoc {
  index: string;
  id: string;
  body: Record<string, unknown>;
  /** External version (version_type external_gte) for current-state documents: 64-bit, as Elasticsearch's. */
  version?: Long;
}

export function walDocument(prefix: string, d: DecodedRecord<WalRecord>): BulkDoc {
  const r = d.record;
  const e = r.event;
  const id = walDocId(r);
  return {
    index: mutationIndex(prefix, r.processedAt),
    id,
    body: {
      docId: id,
      kind: 'wal',
      '@timestamp': r.processedAt,
      tenant: r.context.tenant,
      database: r.context.database,
      table: r.context.table,
      source: String(e.source),
      target: String(e.target),
      ...(e.edgeId !== undefined ? { edgeId: String(e.edgeId) } : {}),
      parties: uniq([String(e.source), String(e.target)]),
      eventIds: [e.id],
      requestIds: uniq([e.requestId, r.context.request.requestId]),
      actor: r.context.request.actor,
      type: e.type,
      status: r.mode.queue ? 'QUEUED' : 'RECEIVED',
      version: e.version,
      kafka: kafkaOf(d),
      wal: r,
    },
  };
}

function edgeOf(r: CdcRecord): { source: Endpoint; target: Endpoint; edgeId?: Endpoint } {
  const s = r.after ?? r.before;
  const e = s ?? r.events[r.events.length - 1]!;
  return { source: e.source, target: e.target, ...(e.edgeId !== undefined ? { edgeId: e.edgeId } : {}) };
}

/**
 * The `_source`/`_target` property cells of a multi-edge's before and after states: the endpoints it had. (The core
 * fills before.source/target of a multi-edge with the endpoints after the change, so the cells are the reliable
 * record of where a moved edge came from.)
 */
function multiEdgeEnds(r: CdcRecord): string[] {
  const out: string[] = [];
  for (const s of [r.before, r.after]) {
    for (const f of ['_source', '_target']) {
      const v = s?.properties[f]?.value;
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    }
  }
  return out;
}

export function cdcDocument(prefix: string, d: DecodedRecord<CdcRecord>): BulkDoc {
  const r = d.record;
  const edge = edgeOf(r);
  const id = cdcDocId(r);
  const last = r.events[r.events.length - 1];
  const version = r.after?.version ?? r.before?.version;
  return {
    index: mutationIndex(prefix, r.processedAt),
    id,
    body: {
      docId: id,
      kind: 'cdc',
      '@timestamp': r.processedAt,
      tenant: r.context.tenant,
      database: r.context.database,
      table: r.context.table,
      source: String(edge.source),
      target: String(edge.target),
      ...(edge.edgeId !== undefined ? { edgeId: String(edge.edgeId) } : {}),
      // Everyone the change touched: a multi-edge UPDATE can move _target (u2 -> u3), and u2's history must show it.
      parties: uniq([...[edge, r.before, ...r.events].flatMap((x) => (x ? [String(x.source), String(x.target)] : [])), ...multiEdgeEnds(r)]),
      eventIds: r.events.map((e) => e.id),
      requestIds: uniq([...r.events.map((e) => e.requestId), r.context.request.requestId]),
      actor: r.context.request.actor,
      ...(last ? { type: last.type } : {}),
      status: r.status,
      ...(r.seq !== undefined ? { seq: r.seq } : {}),
      ...(version !== undefined ? { version } : {}),
      kafka: kafkaOf(d),
      cdc: r,
    },
  };
}

/**
 * The current-state document of the edge a CDC record changed, versioned on the CDC `seq` (the core's commit
 * order; Kafka offsets restart when a topic is recreated). Records without seq (Actionbase v2) fall back to the
 * edge version, which the transition rules also only move forward. An inactive `after` is kept as a soft
 * tombstone: Elasticsearch forgets the version of a deleted document after index.gc_deletes (60 s), and a late
 * older write would then resurrect the edge. Undefined when the record stored nothing (status ERROR).
 */
export function edgeDocument(prefix: string, d: DecodedRecord<CdcRecord>): BulkDoc | undefined {
  const r = d.record;
  const after = r.after;
  if (!after) return undefined;
  const version = r.seq ?? after.version;
  if (version < 0) return undefined;
  const last = r.events[r.events.length - 1];
  const { source, target, edgeId } = edgeOf(r);
  const id = edgeDocId(r.context.database, r.context.table, source, target, edgeId);
  return {
    index: edgesIndex(prefix),
    id,
    version,
    body: {
      docId: id,
      tenant: r.context.tenant,
      database: r.context.database,
      table: r.context.table,
      source: String(after.source),
      target: String(after.target),
      ...(after.edgeId !== undefined ? { edgeId: String(after.edgeId) } : {}),
      parties: uniq([String(after.source), String(after.target)]),
      active: after.active,
      ...(r.seq !== undefined ? { seq: r.seq } : {}),
      status: r.status,
      updatedAt: r.processedAt,
      ...(last ? { lastEventId: last.id, lastRequestId: last.requestId } : {}),
      state: after,
    },
  };
}
