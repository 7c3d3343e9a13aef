/**
 * The core's REST API as wal-replay uses it (domain.md, "REST API"): schema, forced sync mutations, and the
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

/** A v3 table body as GET .../tables/{table} answers it (and POST .../tables accepts it). */
export interface TableBody {
  database?: string;
  table: string;
  type: 'EDGE' | 'MULTI_EDGE';
  schema: { source: { type: string }; target: { type: string }; properties: { name: string; type: string; nullable: boolean }[] };
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

  async schema(): Promise<SchemaDump> {
    const dbs = (await this.call<{ content: { database: string }[] }>('GET', '/graph/v3/databases')).body.content;
    const out: SchemaDump = { databases: dbs, tables: [], aliases: [] };
    for (const d of dbs) {
      const t = await this.call<{ content: TableBody[] }>('GET', `/graph/v3/databases/${enc(d.database)}/tables`);
      out.tables.push(...t.body.content.map((x) => ({ ...x, database: d.database })));
      const a = await this.call<{ content: SchemaDump['aliases'] }>('GET', `/graph/v3/databases/${enc(d.database)}/aliases`);
      out.aliases.push(...a.body.content.map((x) => ({ ...x, database: d.database })));
    }
    return out;
  }

  /** Creates what is missing (databases, tables, aliases); existing ones are left as they are. */
  async applySchema(s: SchemaDump): Promise<{ created: string[] }> {
    const created: string[] = [];
    for (const d of s.databases) {
      const r = await this.call('POST', '/graph/v3/databases', d, [200, 409]);
      if (r.status === 200) created.push(`database ${d.database}`);
    }
    for (const t of s.tables) {
      // A read-only table refuses mutations; it is created writable here (see README, "read-only tables").
      const r = await this.call('POST', `/graph/v3/databases/${enc(t.database!)}/tables`, { ...t, readOnly: false }, [200, 409]);
      if (r.status === 200) created.push(`table ${t.database}.${t.table}`);
    }
    for (const a of s.aliases) {
      const r = await this.call('POST', `/graph/v3/databases/${enc(a.database)}/aliases`, a, [200, 409]);
      if (r.status === 200) created.push(`alias ${a.database}.${a.alias}`);
    }
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
