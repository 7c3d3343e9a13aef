/**
 * The Iceberg REST catalog protocol (open-api/rest-catalog-open-api.yaml), client side, over `fetch`.
 *
 * A REST catalog does not take a metadata file from the writer: the server applies a list of table updates to
 * its current metadata, after checking the commit's requirements, and writes the new metadata file itself. Our
 * writers still plan a complete next metadata (`applyUpdates` on the base), so `commitTable` turns the change
 * from base to next into the protocol's updates (`restUpdates`) and asserts what the writer planned on: the
 * table's uuid and every branch or tag at its base snapshot. A commit that finds another writer's snapshot on a
 * ref answers 409, which is CommitConflictError here, and the writer re-plans on the winner as with the other
 * catalogs. A new table is created in the same request as its first snapshot (`assert-create`), so a table never
 * exists half made.
 *
 * Data, manifest and metadata files live on a file system the server and every writer and reader mount: table
 * locations are `file://` URIs under `warehouse` (every path the table names then has a scheme, which Trino needs).
 */
import { parse, stringify, isSafeNumber } from 'lossless-json';
import { PipelineError } from '@pipeline/errors';
import { CommitConflictError, identString, tableLocation, type Catalog, type LoadedTable, type TableIdent } from './catalog';
import { parseMetadata, type SnapshotId, type TableMetadata } from './metadata';

export interface RestCatalogOptions {
  /** Base URL of the server, without `/v1` (e.g. http://127.0.0.1:8181). */
  uri: string;
  /** Where new tables' files go: `<warehouse>/<namespace>/<table>` (a path the server can write too). */
  warehouse: string;
  /**
   * New tables' locations as `file://` URIs (default true), so every path in their metadata has a scheme: what
   * engines that resolve paths by scheme (Trino) need. false: bare paths, as the folder and JDBC catalogs write.
   */
  locationUris?: boolean;
  /** Bearer token sent with every request, when the server wants one. */
  token?: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

/** A requirement of a commit, as the protocol names them (the ones we send). */
export type TableRequirement =
  | { type: 'assert-create' }
  | { type: 'assert-table-uuid'; uuid: string }
  | { type: 'assert-ref-snapshot-id'; ref: string; 'snapshot-id': SnapshotId | null };

/** A table update in the protocol's shape: ours (metadata.ts) plus the ones that build a new table. */
export type RestUpdate = Record<string, unknown> & { action: string };

/** The REST catalog answered with an error: retryable when it is the catalog's trouble (5xx, 408, 429), not the request's. */
export class RestCatalogError extends PipelineError {
  override readonly name = 'RestCatalogError';
  override readonly code = 'ICEBERG_REST_CATALOG' as const;
  constructor(
    message: string,
    readonly status: number,
    readonly type?: string,
  ) {
    super('ICEBERG_REST_CATALOG', message, { retryable: status >= 500 || status === 408 || status === 429 });
  }
}

const sameJson = (a: unknown, b: unknown) => stringify(a) === stringify(b);

/**
 * The protocol's updates that take `base` to `next`, and the requirements that make the commit a
 * compare-and-swap on what the writer saw. Only what our writers change is expressible (snapshots, refs,
 * properties); any other difference (schema, partition spec, sort order, location) throws.
 */
export function restUpdates(base: TableMetadata, next: TableMetadata): { requirements: TableRequirement[]; updates: RestUpdate[] } {
  for (const k of ['table-uuid', 'location', 'current-schema-id', 'schemas', 'default-spec-id', 'partition-specs', 'default-sort-order-id', 'sort-orders'] as const) {
    if (!sameJson(base[k], next[k])) throw new Error(`a REST catalog commit here changes snapshots, refs and properties only, not "${k}"`);
  }
  const updates: RestUpdate[] = [];
  const baseIds = new Set(base.snapshots.map((s) => s['snapshot-id']));
  const nextIds = new Set(next.snapshots.map((s) => s['snapshot-id']));
  for (const s of next.snapshots) if (!baseIds.has(s['snapshot-id'])) updates.push({ action: 'add-snapshot', snapshot: s });
  const refNames = [...new Set([...Object.keys(base.refs), ...Object.keys(next.refs)])].sort();
  for (const name of refNames) {
    const b = base.refs[name];
    const n = next.refs[name];
    if (n && !sameJson(b, n)) updates.push({ action: 'set-snapshot-ref', 'ref-name': name, ...n });
  }
  for (const name of refNames) if (base.refs[name] && !next.refs[name]) updates.push({ action: 'remove-snapshot-ref', 'ref-name': name });
  const removed = base.snapshots.map((s) => s['snapshot-id']).filter((id) => !nextIds.has(id));
  if (removed.length) updates.push({ action: 'remove-snapshots', 'snapshot-ids': removed });
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(next.properties)) if (base.properties[k] !== v) set[k] = v;
  if (Object.keys(set).length) updates.push({ action: 'set-properties', updates: set });
  const removals = Object.keys(base.properties).filter((k) => !(k in next.properties));
  if (removals.length) updates.push({ action: 'remove-properties', removals });
  const requirements: TableRequirement[] = [
    { type: 'assert-table-uuid', uuid: base['table-uuid'] },
    // Every ref the writer saw (and every one it adds) must still be where it was: a whole-table CAS for refs.
    ...refNames.map((ref): TableRequirement => ({ type: 'assert-ref-snapshot-id', ref, 'snapshot-id': base.refs[ref]?.['snapshot-id'] ?? null })),
  ];
  return { requirements, updates };
}

/** The updates that build `next` from nothing, with its snapshots and refs: one atomic create. */
export function restCreateUpdates(next: TableMetadata): RestUpdate[] {
  const schema = next.schemas.find((s) => s['schema-id'] === next['current-schema-id']) ?? next.schemas[0];
  const spec = next['partition-specs'].find((s) => s['spec-id'] === next['default-spec-id']) ?? next['partition-specs'][0];
  // The server numbers sort orders itself (unsorted is 0, then 1, 2...); the default goes last so that "-1"
  // (the last added) names it whatever number it gets.
  const orders = [...next['sort-orders']].sort((a, b) => Number(a['order-id'] === next['default-sort-order-id']) - Number(b['order-id'] === next['default-sort-order-id']));
  const empty: TableMetadata = { ...next, snapshots: [], refs: {}, properties: {}, 'current-snapshot-id': null };
  return [
    { action: 'assign-uuid', uuid: next['table-uuid'] },
    { action: 'upgrade-format-version', 'format-version': next['format-version'] },
    { action: 'add-schema', schema, 'last-column-id': next['last-column-id'] },
    { action: 'set-current-schema', 'schema-id': -1 },
    { action: 'add-spec', spec },
    { action: 'set-default-spec', 'spec-id': -1 },
    ...orders.map((o) => ({ action: 'add-sort-order', 'sort-order': o })),
    { action: 'set-default-sort-order', 'sort-order-id': -1 },
    { action: 'set-location', location: next.location },
    ...restUpdates(empty, next).updates,
  ];
}

/** Exact JSON: snapshot ids stay bigints both ways (a JSON.parse of a 63-bit id would round it). */
function parseExact(text: string): unknown {
  return parse(text, undefined, (s) => (isSafeNumber(s) ? Number(s) : /^-?\d+$/.test(s) ? BigInt(s) : Number(s)));
}

interface LoadTableResult {
  'metadata-location': string;
  metadata: unknown;
}

export class RestCatalog implements Catalog {
  readonly kind = 'rest';
  private prefix: Promise<string> | undefined;
  private readonly knownNamespaces = new Set<string>();

  constructor(private readonly opts: RestCatalogOptions) {}

  defaultLocation(ident: TableIdent): string {
    return tableLocation(this.opts.warehouse, ident, this.opts.locationUris ?? true);
  }

  /** `GET /v1/config`: the server may put its routes under a prefix. */
  private base(): Promise<string> {
    this.prefix ??= this.request('GET', '/v1/config')
      .then((c) => {
        const conf = c as { overrides?: Record<string, string>; defaults?: Record<string, string> };
        const p = conf.overrides?.['prefix'] ?? conf.defaults?.['prefix'];
        return p ? `/v1/${encodeURIComponent(p)}` : '/v1';
      })
      .catch((err: unknown) => {
        this.prefix = undefined;
        throw err;
      });
    return this.prefix;
  }

  private async request(method: string, route: string, body?: unknown, allow: number[] = []): Promise<unknown> {
    const url = `${this.opts.uri.replace(/\/+$/, '')}${route}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}),
        },
        ...(body !== undefined ? { body: stringify(body) ?? 'null' } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw new Error(`REST catalog ${method} ${url} failed: ${(err as Error).message}; check that the server runs (CATALOG_URL)`, { cause: err });
    }
    const text = await res.text();
    if (res.ok || allow.includes(res.status)) return text ? parseExact(text) : null;
    let message = text.slice(0, 500);
    let type: string | undefined;
    try {
      const e = (JSON.parse(text) as { error?: { message?: string; type?: string } }).error;
      if (e?.message) message = e.message;
      type = e?.type;
    } catch {
      // not JSON: the text itself is the message
    }
    throw new RestCatalogError(`REST catalog ${method} ${route}: ${res.status} ${type ?? ''} ${message}`.replace(/\s+/g, ' ').trim(), res.status, type);
  }

  private tablePath(prefix: string, ident: TableIdent) {
    return `${prefix}/namespaces/${encodeURIComponent(ident.namespace)}/tables/${encodeURIComponent(ident.name)}`;
  }

  private loaded(ident: TableIdent, r: LoadTableResult): LoadedTable {
    return { ident, metadataLocation: r['metadata-location'], metadata: parseMetadata(stringify(r.metadata) ?? '') };
  }

  async loadTable(ident: TableIdent): Promise<LoadedTable | null> {
    const prefix = await this.base();
    try {
      return this.loaded(ident, (await this.request('GET', this.tablePath(prefix, ident))) as LoadTableResult);
    } catch (err) {
      if (err instanceof RestCatalogError && err.status === 404) return null;
      throw err;
    }
  }

  /** Creates the namespace when missing (409: it exists, fine). */
  async createNamespace(namespace: string): Promise<void> {
    if (this.knownNamespaces.has(namespace)) return;
    const prefix = await this.base();
    await this.request('POST', `${prefix}/namespaces`, { namespace: [namespace], properties: {} }, [409]);
    this.knownNamespaces.add(namespace);
  }

  async commitTable(ident: TableIdent, base: LoadedTable | null, metadata: TableMetadata): Promise<LoadedTable> {
    const prefix = await this.base();
    let body: { requirements: TableRequirement[]; updates: RestUpdate[] };
    if (base) {
      body = restUpdates(base.metadata, metadata);
    } else {
      await this.createNamespace(ident.namespace);
      body = { requirements: [{ type: 'assert-create' }], updates: restCreateUpdates(metadata) };
    }
    try {
      const r = (await this.request('POST', this.tablePath(prefix, ident), { identifier: { namespace: [ident.namespace], name: ident.name }, ...body })) as LoadTableResult;
      return this.loaded(ident, r);
    } catch (err) {
      // 409: a requirement failed (another writer committed) or the table was created meanwhile.
      if (err instanceof RestCatalogError && err.status === 409) throw new CommitConflictError(`${identString(ident)}: ${err.message}`);
      // Anything else (a 5xx, a timeout, a lost connection) may have committed all the same: the caller would then
      // delete files the table names. Ask the server: if the snapshots this commit adds are there, it landed.
      const landed = await this.landed(ident, body.updates).catch(() => null);
      if (landed) return landed;
      throw err;
    }
  }

  /** The table, if it holds every snapshot that `updates` add (null when they add none or one is missing). */
  private async landed(ident: TableIdent, updates: RestUpdate[]): Promise<LoadedTable | null> {
    const added = updates.filter((u) => u.action === 'add-snapshot').map((u) => (u['snapshot'] as { 'snapshot-id': SnapshotId })['snapshot-id']);
    if (!added.length) return null;
    const t = await this.loadTable(ident);
    return t && added.every((id) => t.metadata.snapshots.some((s) => s['snapshot-id'] === id)) ? t : null;
  }

  /**
   * Removes the table from the catalog (its files stay: the catalog is asked not to purge them), then its
   * namespace when nothing else is left in it. False when the table was not there.
   */
  async dropTable(ident: TableIdent): Promise<boolean> {
    const prefix = await this.base();
    try {
      await this.request('DELETE', `${this.tablePath(prefix, ident)}?purgeRequested=false`);
    } catch (err) {
      if (err instanceof RestCatalogError && err.status === 404) return false;
      throw err;
    }
    // 409: the namespace still holds other tables, which is theirs to keep.
    await this.request('DELETE', `${prefix}/namespaces/${encodeURIComponent(ident.namespace)}`, undefined, [404, 409]);
    return true;
  }

  /** Registers an existing metadata file as a table (e.g. a folder table moving to this catalog). */
  async registerTable(ident: TableIdent, metadataLocation: string): Promise<LoadedTable> {
    const prefix = await this.base();
    await this.createNamespace(ident.namespace);
    try {
      const r = (await this.request('POST', `${prefix}/namespaces/${encodeURIComponent(ident.namespace)}/register`, { name: ident.name, 'metadata-location': metadataLocation })) as LoadTableResult;
      return this.loaded(ident, r);
    } catch (err) {
      if (err instanceof RestCatalogError && err.status === 409) throw new CommitConflictError(`${identString(ident)} is already in the REST catalog`);
      throw err;
    }
  }

  async listTables(): Promise<TableIdent[]> {
    const prefix = await this.base();
    const out: TableIdent[] = [];
    for (const ns of await this.pages<string[]>(`${prefix}/namespaces`, 'namespaces')) {
      if (ns.length !== 1) continue; // ours are one level: the Actionbase database
      for (const t of await this.pages<{ namespace: string[]; name: string }>(`${prefix}/namespaces/${encodeURIComponent(ns[0]!)}/tables`, 'identifiers')) {
        out.push({ namespace: ns[0]!, name: t.name });
      }
    }
    return out.sort((a, b) => identString(a).localeCompare(identString(b)));
  }

  /** Every page of a listing (`next-page-token`), bounded. */
  private async pages<T>(route: string, key: string): Promise<T[]> {
    const out: T[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10_000; page++) {
      const r = (await this.request('GET', token ? `${route}?pageToken=${encodeURIComponent(token)}` : route)) as Record<string, unknown>;
      out.push(...((r[key] as T[] | undefined) ?? []));
      token = (r['next-page-token'] as string | null | undefined) ?? undefined;
      if (!token) return out;
    }
    throw new Error(`REST catalog ${route}: more than 10000 pages`);
  }

  async close(): Promise<void> {
    // fetch holds no connection we own
  }
}
