/**
 * The core's REST API as wal-replay uses it (docs/api.md, "REST API"): schema, forced sync mutations, and the
 * read side (get, counts, scans) for the consistency check.
 */
export type Endpoint = string | number;
export type Direction = 'OUT' | 'IN';

export interface MutationItem {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  edge: { version: number; source?: Endpoint; target?: Endpoint; id?: Endpoint; properties: Record<string, unknown> };
}

export interface EdgeView {
  version: number;
  id?: Endpoint;
  source: Endpoint;
  target: Endpoint;
  properties: Record<string, unknown>;
}

/** A table as wal-replay reads it (the core's earlier v3 body, which POST .../tables still accepts). */
export interface TableBody {
  database?: string;
  table: string;
  type: 'EDGE' | 'MULTI_EDGE';
  schema: { source: { type: string; comment?: string }; target: { type: string; comment?: string }; properties: { name: string; type: string; nullable: boolean; comment?: string }[] };
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

export class CoreHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 500)}`);
    this.name = 'CoreHttpError';
  }
  /** 5xx and 429 may pass on a retry; a 4xx will not. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

const enc = encodeURIComponent;

// The core's descriptors are read field by field below; their full type belongs to the core's API.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Descriptor = Record<string, any>;

const INTERNAL_TYPE: Record<string, string> = { boolean: 'BOOLEAN', byte: 'INT', short: 'INT', int: 'INT', long: 'LONG', float: 'DOUBLE', double: 'DOUBLE', string: 'STRING', object: 'JSON' };
const upper = (t: string): string => INTERNAL_TYPE[t] ?? t.toUpperCase();

/** A table descriptor as the TableBody the rest of wal-replay reads, the descriptor kept alongside. */
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
    // A read-only table refuses mutations; it is created writable here (see README, "read-only tables").
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

export class CoreClient {
  constructor(
    readonly baseUrl: string,
    private readonly opts: { actor: string; token?: string | undefined; timeoutMs?: number } = { actor: 'WalReplay' },
  ) {}

  private async call<T>(method: string, path: string, body?: unknown, okStatuses: number[] = [200]): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { 'x-actor-id': this.opts.actor };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    const res = await fetch(this.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
    });
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as T) : (null as T);
    if (!okStatuses.includes(res.status)) throw new CoreHttpError(res.status, parsed, `${method} ${path}`);
    return { status: res.status, body: parsed };
  }

  /**
   * Every database, table and alias (active or not). The core answers Actionbase's descriptors; tables are
   * kept in the shape the rest of wal-replay reads (uppercase types, top-level direction and indexes),
   * with the descriptor itself alongside so that a copy keeps everything it declares.
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
   * Creates what is missing (databases, tables, aliases); existing ones are left as they are. Entries
   * that were inactive are created, then deactivated (tables before their database, as the core requires).
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
      const r = await this.call('POST', `/graph/v3/databases/${enc(a.database)}/aliases`, { alias: a.alias, table: a.table, comment: typeof a.comment === 'string' ? a.comment : '' }, [200, 409]);
      if (r.status === 200) created.push(`alias ${a.database}.${a.alias}`);
    }
    const deactivate = (path: string) => this.call('PUT', path, { active: false });
    for (const a of s.aliases) if (a.active === false) await deactivate(`/graph/v3/databases/${enc(a.database)}/aliases/${enc(a.alias)}`);
    for (const t of s.tables) if (t.active === false) await deactivate(`/graph/v3/databases/${enc(t.database!)}/tables/${enc(t.table)}`);
    for (const d of s.databases) if (d.active === false) await deactivate(`/graph/v3/databases/${enc(d.database)}`);
    return { created };
  }

  /** `POST .../edges/sync?force=true` (or multi-edges): applied now, whatever the table or system mode. */
  async mutateForced(db: string, table: string, multi: boolean, mutations: MutationItem[]): Promise<{ results: { status: string }[] }> {
    const path = `/graph/v3/databases/${enc(db)}/tables/${enc(table)}/${multi ? 'multi-edges' : 'edges'}/sync?force=true`;
    return (await this.call<{ results: { status: string }[] }>('POST', path, { mutations })).body;
  }

  async get(db: string, table: string, source: Endpoint, targets: Endpoint[]): Promise<EdgeView[]> {
    const q = `source=${enc(String(source))}&target=${targets.map((t) => enc(String(t))).join(',')}`;
    return (await this.call<{ edges: EdgeView[] }>('GET', `/graph/v3/databases/${enc(db)}/tables/${enc(table)}/edges/get?${q}`)).body.edges;
  }

  async multiEdges(db: string, table: string, ids: Endpoint[]): Promise<EdgeView[]> {
    const path = `/graph/v3/databases/${enc(db)}/tables/${enc(table)}/multi-edges/ids`;
    return (await this.call<{ edges: EdgeView[] }>('POST', path, { ids: ids.map(String) })).body.edges;
  }

  async counts(db: string, table: string, direction: Direction, starts: Endpoint[]): Promise<Map<string, number>> {
    const q = `start=${starts.map((s) => enc(String(s))).join(',')}&direction=${direction}`;
    const r = await this.call<{ counts: { start: Endpoint; count: number }[] }>('GET', `/graph/v3/databases/${enc(db)}/tables/${enc(table)}/edges/counts?${q}`);
    return new Map(r.body.counts.map((c) => [JSON.stringify(c.start), c.count]));
  }

  /** Every entry of one index under one start, in index order (follows the cursor). */
  async scanAll(db: string, table: string, index: string, direction: Direction, start: Endpoint): Promise<EdgeView[]> {
    const out: EdgeView[] = [];
    let offset = '';
    for (;;) {
      const q = `start=${enc(String(start))}&direction=${direction}&limit=1000${offset ? `&offset=${enc(offset)}` : ''}`;
      const r: { body: { edges: EdgeView[]; offset: string | null; hasNext: boolean } } = await this.call<{ edges: EdgeView[]; offset: string | null; hasNext: boolean }>(
        'GET',
        `/graph/v3/databases/${enc(db)}/tables/${enc(table)}/edges/scan/${enc(index)}?${q}`,
      );
      out.push(...r.body.edges);
      if (!r.body.hasNext || !r.body.offset) return out;
      offset = r.body.offset;
    }
  }
}
