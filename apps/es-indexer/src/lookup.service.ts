/**
 * The support lookups, as Elasticsearch queries on the mutation log and the current state. Every list is sorted
 * on a unique tiebreaker (docId) and paginated with search_after, so pages stay stable while the indexer writes.
 */
import type { Client } from '@elastic/elasticsearch';
import type { CdcRecord, Long, WalRecord } from '@pipeline/events';
import { PipelineError } from '@pipeline/errors';
import { edgesIndex, mutationIndexPattern } from './documents';

export interface Page<T> {
  items: T[];
  /** Opaque cursor of the next page; null on the last page. */
  next: string | null;
}

export interface MutationItem {
  id: string;
  kind: 'wal' | 'cdc';
  at: number;
  database: string;
  table: string;
  source: string;
  target: string;
  edgeId?: string;
  type?: string;
  status?: string;
  version?: Long;
  seq?: number;
  actor?: string;
  requestIds: string[];
  eventIds: string[];
  /** The type of every event, in order: a CDC record that merged INSERT, UPDATE and DELETE says so, not only DELETE. */
  types: string[];
  /** WAL: the event as requested; CDC: every event merged for the key. */
  events: unknown[];
  properties?: unknown;
  mode?: unknown;
  before?: unknown;
  after?: unknown;
  message?: string | null;
  kafka?: unknown;
}

/** An abuse alert as apps/abuse-detector indexes it (AlertRecordSchema of @pipeline/events). */
export interface AlertItem {
  id: string;
  rule: string;
  ruleName: string;
  database: string;
  table: string;
  subject: { kind: string; id: string };
  users: string[];
  windowStart: number;
  windowEnd: number;
  observed: number;
  threshold: number;
  baseline?: { mean: number; stddev: number; zScore: number };
  emittedAt: number;
}

/** `<prefix>-alerts`: written by apps/abuse-detector (its ES_ALERTS_INDEX), read here. */
export const alertsIndex = (prefix: string) => `${prefix}-alerts`;

export interface TimeRange {
  from?: number;
  to?: number;
}

const encodeCursor = (sort: unknown[]) => Buffer.from(JSON.stringify(sort)).toString('base64url');

/** A cursor this API did not return (or one Elasticsearch refused): the client's fault, the same request will fail again. */
export class CursorError extends PipelineError {
  override readonly name = 'CursorError';
  override readonly code = 'BAD_CURSOR' as const;
  override readonly retryable = false as const;

  constructor(message: string) {
    super('BAD_CURSOR', message, { retryable: false });
  }
}

/**
 * The sort values a query's cursor must hold, one letter per sort key: n a number, s a string. A cursor is echoed
 * into search_after, so anything else (wrong length, objects, huge strings) is refused here rather than handed to
 * Elasticsearch, whose parse errors would otherwise reach the caller.
 */
type CursorShape = 'ns' | 'nss' | 'nsns';

function decodeCursor(cursor: string | undefined, shape: CursorShape): (number | string)[] | undefined {
  if (cursor === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  const fits =
    Array.isArray(v) &&
    v.length === shape.length &&
    v.every((x, i) => (shape[i] === 'n' ? typeof x === 'number' && Number.isSafeInteger(x) : typeof x === 'string' && x.length <= 1_024));
  if (!fits) throw new CursorError('cursor is not one this API returned');
  return v as (number | string)[];
}

/** A mutation-log document as documents.ts writes it. */
interface LogDoc {
  docId: string;
  kind: 'wal' | 'cdc';
  '@timestamp': number;
  database: string;
  table: string;
  source: string;
  target: string;
  edgeId?: string;
  type?: string;
  status?: string;
  version?: Long;
  seq?: number;
  actor?: string;
  requestIds?: string[];
  eventIds?: string[];
  kafka?: unknown;
  wal?: WalRecord;
  cdc?: CdcRecord;
}

function toItem(src: LogDoc): MutationItem {
  const { cdc, wal } = src;
  return {
    id: src.docId,
    kind: src.kind,
    at: src['@timestamp'],
    database: src.database,
    table: src.table,
    source: src.source,
    target: src.target,
    ...(src.edgeId !== undefined ? { edgeId: src.edgeId } : {}),
    ...(src.type !== undefined ? { type: src.type } : {}),
    ...(src.status !== undefined ? { status: src.status } : {}),
    ...(src.version !== undefined ? { version: src.version } : {}),
    ...(src.seq !== undefined ? { seq: src.seq } : {}),
    ...(src.actor !== undefined ? { actor: src.actor } : {}),
    requestIds: src.requestIds ?? [],
    eventIds: src.eventIds ?? [],
    types: cdc ? cdc.events.map((e) => e.type) : wal ? [wal.event.type] : [],
    events: cdc ? cdc.events : wal ? [wal.event] : [],
    ...(wal ? { properties: wal.event.properties, mode: wal.mode } : {}),
    ...(cdc ? { before: cdc.before, after: cdc.after, message: cdc.message } : {}),
    kafka: src.kafka,
  };
}

/** A unique edge by (source, target), or a multi-edge by its id (its endpoints can move on UPDATE). */
export type EdgeRef = { database?: string; table: string } & ({ source: string; target: string; id?: undefined } | { id: string; source?: string; target?: string });

function edgeFilter(e: EdgeRef): Record<string, unknown>[] {
  return [
    { term: { table: e.table } },
    ...(e.id !== undefined ? [{ term: { edgeId: e.id } }] : []),
    ...(e.source !== undefined ? [{ term: { source: e.source } }] : []),
    ...(e.target !== undefined ? [{ term: { target: e.target } }] : []),
    ...(e.database ? [{ term: { database: e.database } }] : []),
  ];
}

export class LookupService {
  constructor(
    private readonly client: Client,
    private readonly prefix: string,
  ) {}

  private async page(query: Record<string, unknown>, sort: Record<string, unknown>[], shape: CursorShape, size: number, cursor?: string): Promise<Page<MutationItem>> {
    const after = decodeCursor(cursor, shape);
    const res = await this.client.search<LogDoc>({
      index: mutationIndexPattern(this.prefix),
      ignore_unavailable: true,
      allow_no_indices: true,
      query,
      sort: [...sort, { docId: 'asc' }] as never,
      size: size + 1,
      track_total_hits: false,
      ...(after ? { search_after: after as never } : {}),
    }).catch((err: unknown) => {
      // A cursor of the right shape can still be refused (a value of the wrong type for its field): the caller's fault.
      if (after && (err as { statusCode?: number }).statusCode === 400) throw new CursorError('cursor is not one this API returned');
      throw err;
    });
    const hits = res.hits.hits;
    const items = hits.slice(0, size).flatMap((h) => (h._source ? [toItem(h._source)] : []));
    const last = hits[size - 1];
    return { items, next: hits.length > size && last?.sort ? encodeCursor(last.sort) : null };
  }

  private static range(r: TimeRange): Record<string, unknown>[] {
    if (r.from === undefined && r.to === undefined) return [];
    return [{ range: { '@timestamp': { ...(r.from !== undefined ? { gte: r.from } : {}), ...(r.to !== undefined ? { lte: r.to } : {}) } } }];
  }

  /** Every mutation by or about a user (as source or target), newest first. */
  byUser(user: string, range: TimeRange, size: number, cursor?: string, table?: string): Promise<Page<MutationItem>> {
    const filter = [{ term: { parties: user } }, ...LookupService.range(range), ...(table ? [{ term: { table } }] : [])];
    return this.page({ bool: { filter } }, [{ '@timestamp': 'desc' }], 'ns', size, cursor);
  }

  /**
   * The history of one edge, oldest first: each WAL record (the request) then its CDC record (the outcome, with
   * before/after and status). Same millisecond: WAL sorts before CDC, CDC records by seq.
   */
  edgeHistory(e: EdgeRef, size: number, cursor?: string): Promise<Page<MutationItem>> {
    const filter = edgeFilter(e);
    return this.page({ bool: { filter } }, [{ '@timestamp': 'asc' }, { kind: 'desc' }, { seq: { order: 'asc', missing: -1 } }], 'nsns', size, cursor);
  }

  /** Everything a request (X-Request-ID) or one event id produced. */
  byRequestId(requestId: string, size: number, cursor?: string): Promise<Page<MutationItem>> {
    return this.page({ bool: { filter: [{ term: { requestIds: requestId } }] } }, [{ '@timestamp': 'asc' }, { kind: 'desc' }], 'nss', size, cursor);
  }

  byEventId(eventId: string, size: number, cursor?: string): Promise<Page<MutationItem>> {
    return this.page({ bool: { filter: [{ term: { eventIds: eventId } }] } }, [{ '@timestamp': 'asc' }, { kind: 'desc' }], 'nss', size, cursor);
  }

  /** The current state of an edge (a soft tombstone when deleted), or null if it was never indexed. */
  async edgeState(e: EdgeRef): Promise<Record<string, unknown> | null> {
    const filter = edgeFilter(e);
    const res = await this.client.search<Record<string, unknown>>({
      index: edgesIndex(this.prefix),
      ignore_unavailable: true,
      query: { bool: { filter } },
      size: 1,
      version: true,
    });
    const hit = res.hits.hits[0];
    return hit?._source ? { ...hit._source, esVersion: hit._version } : null;
  }

  /** The abuse alerts that concern a user (as actor, source or target), newest window first. */
  async alertsByUser(user: string, size: number, cursor?: string): Promise<Page<AlertItem>> {
    const after = decodeCursor(cursor, 'ns');
    const res = await this.client
      .search<Omit<AlertItem, 'id'> & { alertId: string; version?: string }>({
        index: alertsIndex(this.prefix),
        // No detector has written yet: no alerts rather than an error.
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { bool: { filter: [{ term: { users: user } }] } },
        sort: [{ windowStart: 'desc' }, { alertId: 'asc' }] as never,
        size: size + 1,
        track_total_hits: false,
        ...(after ? { search_after: after as never } : {}),
      })
      .catch((err: unknown) => {
        if (after && (err as { statusCode?: number }).statusCode === 400) throw new CursorError('cursor is not one this API returned');
        throw err;
      });
    const hits = res.hits.hits;
    const items = hits.slice(0, size).flatMap((h) => {
      if (!h._source) return [];
      const { alertId, version: _v, ...rest } = h._source;
      return [{ id: alertId, ...rest }];
    });
    const last = hits[size - 1];
    return { items, next: hits.length > size && last?.sort ? encodeCursor(last.sort) : null };
  }

  /** One whole document (mutation-log record or current state) by its docId, or null: what a reveal returns. */
  async record(docId: string): Promise<Record<string, unknown> | null> {
    const res = await this.client.search<Record<string, unknown>>({
      index: `${mutationIndexPattern(this.prefix)},${edgesIndex(this.prefix)}`,
      ignore_unavailable: true,
      allow_no_indices: true,
      query: { bool: { filter: [{ term: { docId } }] } },
      size: 1,
    });
    return res.hits.hits[0]?._source ?? null;
  }
}
