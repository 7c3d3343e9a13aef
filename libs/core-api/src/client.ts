/**
 * The core's REST API (docs/api.md) as the apps that call it use it: the schema (dump and re-create), forced
 * sync mutations, and the read side (get, multi-edge ids, counts, index scans). Bodies are written with the
 * lossless JSON of @pipeline/events, so a 64-bit LONG held as a bigint reaches the core as the integer it is.
 */
import { parseJson, stringifyJson } from '@pipeline/events';
import { CoreError } from './errors';
import type {
  AggPage,
  Direction,
  EdgeView,
  EnqueueAnswer,
  EnqueueMessage,
  Endpoint,
  MutationItem,
  MutationResult,
  PollPage,
  QueueDescriptor,
  QueueSeq,
  ScanPage,
  SchemaDump,
  TableBody,
} from './types';

export interface CoreClientOptions {
  /** e.g. `http://127.0.0.1:8080`, without a trailing slash. */
  baseUrl: string;
  /** X-Actor-ID of every request: who the WAL records name as the writer. */
  actor: string;
  /** Bearer token, when the core requires one (API_TOKENS). */
  token?: string | undefined;
  /** Per request; a timeout is a retryable CoreError. Default 60 s. */
  timeoutMs?: number | undefined;
}

/**
 * The core copies X-Request-ID into every WAL and CDC record of the request, so the header is paid once per
 * mutation: at 4 KiB, a batch of 500 made the core's WAL produce exceed Kafka's 1 MB message limit, and the core
 * answered 503 to that request forever. A few ids, then a count.
 */
const MAX_REQUEST_ID_HEADER = 256;

const enc = encodeURIComponent;
const tablePath = (db: string, table: string): string => `/graph/v3/databases/${enc(db)}/tables/${enc(table)}`;
const queuePath = (ns: string, queue: string): string => `/queue/v1/namespaces/${enc(ns)}/queues/${enc(queue)}`;

// The core's descriptors are read field by field below; their full type belongs to the core's API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Descriptor = Record<string, any>;

export class CoreClient {
  constructor(private readonly o: CoreClientOptions) {}

  get baseUrl(): string {
    return this.o.baseUrl;
  }

  /**
   * One request. Answers in `ok` come back parsed; any other answer is thrown as a CoreError (see errors.ts for
   * which are retryable), as is a request that got no answer at all.
   */
  async call<T>(method: string, path: string, body?: unknown, ok: readonly number[] = [200], requestId?: string): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'x-actor-id': this.o.actor };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (requestId) headers['x-request-id'] = requestId;
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    const what = `${method} ${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.o.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : stringifyJson(body),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 60_000),
      });
      text = await res.text();
    } catch (cause) {
      // Connection refused/reset, DNS, timeout: the core is not there right now.
      throw new CoreError(what, null, { message: (cause as Error).message }, { cause });
    }
    let parsed: unknown = null;
    try {
      // The core writes LONGs beyond 2^53 as bare integers: read them exactly (bigint).
      parsed = text ? parseJson(text) : null;
    } catch {
      parsed = { message: text.slice(0, 300) };
    }
    if (!ok.includes(res.status)) throw new CoreError(what, res.status, parsed);
    return { status: res.status, body: parsed as T };
  }

  /**
   * `POST .../edges/sync?force=true` (or multi-edges): applied now, whatever the table's or the system's mode.
   * `requestIds` become the X-Request-ID header (see requestIdHeader).
   */
  async mutateForced(db: string, table: string, multi: boolean, mutations: MutationItem[], requestIds: string[] = []): Promise<MutationResult[]> {
    const path = `${tablePath(db, table)}/${multi ? 'multi-edges' : 'edges'}/sync?force=true`;
    const r = await this.call<{ results?: MutationResult[] } | null>('POST', path, { mutations }, [200], requestIdHeader(requestIds));
    // A 200 without results is not the core's API: treat it as an outage of the thing that answered.
    if (!Array.isArray(r.body?.results)) throw new CoreError(`POST ${path}`, r.status, { code: 'CORE_BAD_ANSWER', message: 'answer without results' }, { retryable: true });
    return r.body.results;
  }

  async get(db: string, table: string, source: Endpoint, targets: Endpoint[]): Promise<EdgeView[]> {
    const q = `source=${enc(String(source))}&target=${targets.map((t) => enc(String(t))).join(',')}`;
    return (await this.call<{ edges: EdgeView[] }>('GET', `${tablePath(db, table)}/edges/get?${q}`)).body.edges.map(presentEdge);
  }

  async multiEdges(db: string, table: string, ids: Endpoint[]): Promise<EdgeView[]> {
    return (await this.call<{ edges: EdgeView[] }>('POST', `${tablePath(db, table)}/multi-edges/ids`, { ids: ids.map(String) })).body.edges.map(presentEdge);
  }

  /** Counts by start, keyed by `stringifyJson(start)` as the core answers it (a LONG start stays a number or a bigint). */
  async counts(db: string, table: string, direction: Direction, starts: Endpoint[]): Promise<Map<string, number>> {
    const q = `start=${starts.map((s) => enc(String(s))).join(',')}&direction=${direction}`;
    const r = await this.call<{ counts: { start: Endpoint; count: number }[] }>('GET', `${tablePath(db, table)}/edges/counts?${q}`);
    return new Map(r.body.counts.map((c) => [stringifyJson(c.start), c.count]));
  }

  /** One page of an index scan; `offset` is the cursor of the previous page (null for the first). */
  async scan(db: string, table: string, index: string, direction: Direction, start: Endpoint, limit: number, offset: string | null): Promise<ScanPage> {
    const q = new URLSearchParams({ start: String(start), direction, limit: String(limit) });
    if (offset) q.set('offset', offset);
    return presentPage((await this.call<ScanPage>('GET', `${tablePath(db, table)}/edges/scan/${enc(index)}?${q}`)).body);
  }

  /** Every entry of one index under one start, in index order (follows the cursor). */
  async scanAll(db: string, table: string, index: string, direction: Direction, start: Endpoint): Promise<EdgeView[]> {
    const out: EdgeView[] = [];
    let offset: string | null = null;
    for (;;) {
      const page: ScanPage = await this.scan(db, table, index, direction, start, 1000, offset);
      out.push(...page.edges);
      if (!page.hasNext || !page.offset) return out;
      offset = page.offset;
    }
  }

  /** One page of a cache (`edges/seek/{cache}`); `offset` is the cursor of the previous page (null for the first). */
  async seek(db: string, table: string, cache: string, direction: Direction, start: Endpoint, limit: number, offset: string | null): Promise<ScanPage> {
    const q = new URLSearchParams({ start: String(start), direction, limit: String(limit) });
    if (offset) q.set('offset', offset);
    return presentPage((await this.call<ScanPage>('GET', `${tablePath(db, table)}/edges/seek/${enc(cache)}?${q}`)).body);
  }

  /** A group's value per start (`edges/agg/{group}`); `ranges` over the group's fields (`__count__`: none). */
  async agg(db: string, table: string, group: string, direction: Direction, starts: Endpoint[], ranges?: string): Promise<AggPage> {
    const q = new URLSearchParams({ direction });
    for (const s of starts) q.append('start', String(s));
    if (ranges !== undefined) q.set('ranges', ranges);
    return (await this.call<AggPage>('GET', `${tablePath(db, table)}/edges/agg/${enc(group)}?${q}`)).body;
  }

  // ---- queue/v1 -----------------------------------------------------------------------------------

  async createQueue(ns: string, queue: string, storage: string, partitions?: number): Promise<QueueDescriptor> {
    const body = { queue, storage, ...(partitions === undefined ? {} : { partitions }) };
    return (await this.call<QueueDescriptor>('POST', `/queue/v1/namespaces/${enc(ns)}/queues`, body)).body;
  }

  async getQueue(ns: string, queue: string): Promise<QueueDescriptor> {
    return (await this.call<QueueDescriptor>('GET', queuePath(ns, queue))).body;
  }

  /** Enables or disables a queue; a queue must be disabled before `deleteQueue`. */
  async setQueueActive(ns: string, queue: string, active: boolean): Promise<QueueDescriptor> {
    return (await this.call<QueueDescriptor>('PUT', `${queuePath(ns, queue)}/${active ? 'enable' : 'disable'}`)).body;
  }

  async deleteQueue(ns: string, queue: string): Promise<void> {
    await this.call('DELETE', queuePath(ns, queue), undefined, [204]);
  }

  async queuePartitions(ns: string, queue: string): Promise<number> {
    return (await this.call<{ partitions: number }>('GET', `${queuePath(ns, queue)}/partitions`)).body.partitions;
  }

  async enqueue(ns: string, queue: string, messages: EnqueueMessage[]): Promise<EnqueueAnswer> {
    return (await this.call<EnqueueAnswer>('POST', `${queuePath(ns, queue)}/messages`, { messages })).body;
  }

  /** One page of one partition: `offset < seq <= until`, in seq order. */
  async poll(ns: string, queue: string, partition: number, o: { limit?: number; offset?: QueueSeq | null; until?: QueueSeq | null } = {}): Promise<PollPage> {
    const q = new URLSearchParams();
    if (o.limit !== undefined) q.set('limit', String(o.limit));
    if (o.offset !== undefined && o.offset !== null) q.set('offset', String(o.offset));
    if (o.until !== undefined && o.until !== null) q.set('until', String(o.until));
    const qs = q.size ? `?${q}` : '';
    return (await this.call<PollPage>('GET', `${queuePath(ns, queue)}/partitions/${partition}/poll${qs}`)).body;
  }

  /** Deletes the partition's messages with `seq <= offset` (processed); answers how many. */
  async commit(ns: string, queue: string, partition: number, offset: QueueSeq): Promise<number> {
    const r = await this.call<{ committed: number }>('DELETE', `${queuePath(ns, queue)}/partitions/${partition}/messages?offset=${String(offset)}`);
    return r.body.committed;
  }

  /**
   * Every database, table and alias (active or not). The core answers Actionbase's descriptors; tables are
   * kept in the shape replay tools read (uppercase types, top-level direction and indexes), with the descriptor
   * itself alongside so that a copy keeps everything it declares.
   */
  async schema(): Promise<SchemaDump> {
    const dbs = (await this.call<Descriptor[]>('GET', '/graph/v3/databases?status=ALL')).body;
    const out: SchemaDump = { databases: dbs.map((d) => ({ database: d.database as string, comment: d.comment, active: d.active })), tables: [], aliases: [] };
    for (const d of out.databases) {
      const t = await this.call<Descriptor[]>('GET', `/graph/v3/databases/${enc(d.database)}/tables?status=ALL`);
      out.tables.push(...t.body.map((x) => tableBodyOf(x, d.database)));
      const a = await this.call<Descriptor[]>('GET', `/graph/v3/databases/${enc(d.database)}/aliases?status=ALL`);
      out.aliases.push(...a.body.map((x) => ({ database: d.database, alias: x.alias as string, table: x.table as string, comment: x.comment ?? '', active: x.active })));
    }
    return out;
  }

  /**
   * Creates what is missing (databases, tables, aliases); existing ones are left as they are. Entries that were
   * inactive are created, then deactivated (aliases and tables before their database, as the core requires).
   */
  async applySchema(s: SchemaDump): Promise<{ created: string[] }> {
    const created: string[] = [];
    for (const d of s.databases) {
      const r = await this.call('POST', '/graph/v3/databases', { database: d.database, comment: typeof d.comment === 'string' ? d.comment : '' }, [200, 409]);
      if (r.status === 200) created.push(`database ${d.database}`);
    }
    for (const t of s.tables) {
      const r = await this.call('POST', `/graph/v3/databases/${enc(t.database!)}/tables`, createBodyOf(t), [200, 409]);
      if (r.status === 200) created.push(`table ${t.database}.${t.table}`);
    }
    for (const a of s.aliases) {
      const body = { alias: a.alias, table: a.table, comment: typeof a.comment === 'string' ? a.comment : '' };
      const r = await this.call('POST', `/graph/v3/databases/${enc(a.database)}/aliases`, body, [200, 409]);
      if (r.status === 200) created.push(`alias ${a.database}.${a.alias}`);
    }
    const deactivate = (path: string) => this.call('PUT', path, { active: false });
    for (const a of s.aliases) if (a.active === false) await deactivate(`/graph/v3/databases/${enc(a.database)}/aliases/${enc(a.alias)}`);
    for (const t of s.tables) if (t.active === false) await deactivate(`/graph/v3/databases/${enc(t.database!)}/tables/${enc(t.table)}`);
    for (const d of s.databases) if (d.active === false) await deactivate(`/graph/v3/databases/${enc(d.database)}`);
    return { created };
  }
}

/**
 * Properties that have a value. The core answers every property of the table's schema, `null` when the edge
 * has none (as Actionbase does, which cannot tell a property written as null from one never written), and a
 * multi-edge's id once more as the property `_id`; a state record (CDC, a snapshot) holds only the properties
 * it was given. Without the nulls and the `_id` copy, an edge read from the core compares equal to its state.
 */
export function presentProperties(properties: Record<string, unknown>, multiEdge: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(properties)) if (v !== null && v !== undefined && !(multiEdge && k === '_id')) out[k] = v;
  return out;
}

/** An edge of the core's answer with its present properties only (presentProperties). */
function presentEdge(e: EdgeView): EdgeView {
  return { ...e, properties: presentProperties(e.properties ?? {}, e.id !== undefined) };
}

const presentPage = (p: ScanPage): ScanPage => ({ ...p, edges: p.edges.map(presentEdge) });

/**
 * X-Request-ID of a batched request: the original request ids, distinct, comma-separated, so that the CDC of
 * the applied mutations leads back to the requests that queued them (a batch from one request carries exactly
 * its id); past MAX_REQUEST_ID_HEADER characters the rest is counted (`,+12more`). Absent when no record had
 * one (the core then makes one up). Each record's own WAL entry keeps its exact request id in any case.
 */
export function requestIdHeader(ids: string[]): string | undefined {
  const distinct = [...new Set(ids.filter((id) => id !== ''))];
  if (distinct.length === 0) return undefined;
  let out = '';
  for (let i = 0; i < distinct.length; i++) {
    const next = out ? `${out},${distinct[i]}` : distinct[i]!;
    if (next.length > MAX_REQUEST_ID_HEADER - 16) return `${out},+${distinct.length - i}more`;
    out = next;
  }
  return out;
}

const INTERNAL_TYPE: Record<string, string> = { boolean: 'BOOLEAN', byte: 'INT', short: 'INT', int: 'INT', long: 'LONG', float: 'DOUBLE', double: 'DOUBLE', string: 'STRING', object: 'JSON' };
const upper = (t: string): string => INTERNAL_TYPE[t] ?? t.toUpperCase();

/** A table descriptor as a TableBody, the descriptor kept alongside. */
function tableBodyOf(d: Descriptor, database: string): TableBody {
  const s = d.schema as Descriptor;
  return {
    database,
    table: d.table,
    type: d.type === 'multiEdge' ? 'MULTI_EDGE' : 'EDGE',
    comment: d.comment,
    schema: {
      source: { type: upper(s.source.type), comment: s.source.comment },
      target: { type: upper(s.target.type), comment: s.target.comment },
      properties: (s.properties as Descriptor[]).map((p) => ({ name: p.name, type: upper(p.type), nullable: p.nullable, comment: p.comment })),
    },
    direction: s.direction,
    indexes: (s.indexes as Descriptor[]).map((i) => ({ index: i.index, fields: i.fields, comment: i.comment })),
    mode: d.mode === 'DROP' ? 'IGNORE' : d.mode,
    active: d.active,
    descriptor: d,
  };
}

/** The create body of a table: Actionbase's, from the descriptor when there is one, else the TableBody as given. */
function createBodyOf(t: TableBody): Record<string, unknown> {
  const d = t.descriptor as Descriptor | undefined;
  if (!d) {
    // A read-only table refuses mutations; it is created writable (a copy must be able to load its rows).
    const { database: _db, descriptor: _d, ...body } = t;
    return { ...body, readOnly: false };
  }
  const { type, ...schema } = d.schema as Descriptor;
  return {
    table: d.table,
    schema: { ...schema, type: type === 'multiEdge' ? 'MULTI_EDGE' : 'EDGE' },
    storage: /^datastore:\/\/[a-z_]+\/[a-zA-Z0-9_]+$/.test(d.storage) ? d.storage : 'datastore://embedded/default',
    mode: d.mode,
    comment: d.comment,
  };
}
