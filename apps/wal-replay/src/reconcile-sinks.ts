/**
 * The places reconcile compares, each read through its own public surface: the core through its REST API,
 * Elasticsearch's current-state index through search, the snapshotter's Iceberg tables through
 * @pipeline/iceberg. Each says which CDC offsets it has committed (its point) and what it holds per key.
 *
 * The current-state index is `<ES_INDEX_PREFIX>-edges` and the es-indexer's CDC consumer group is
 * `<its CONSUMER_GROUP>.cdc` (apps/es-indexer README); both are configured here, not imported from the app.
 */
import type { Client } from '@elastic/elasticsearch';
import { createEsClient, explainEsError, type EsConnection } from '@pipeline/elasticsearch';
import type { CdcState } from '@pipeline/events';
import { readIcebergTable } from '@pipeline/iceberg';
import type { KafkaClient } from '@pipeline/kafka';
import type { Point, TableHistory } from './cdc-history';
import type { CoreClient, Endpoint } from '@pipeline/core-api';
import { edgeKey, restView, stateView } from './edge-view';

export interface TableRef {
  database: string;
  table: string;
  multi: boolean;
  /** Property names of the table (the Iceberg reader needs them). */
  fields: string[];
}

export interface SinkSide {
  /** `core`, `elasticsearch`, `iceberg`. */
  readonly name: string;
  /** True when the sink can list every key it holds (so keys only it knows are found). */
  readonly lists: boolean;
  /** CDC offsets committed into this sink for the table; undefined: the end of what was read (the core). */
  point(t: TableRef): Promise<Point | undefined>;
  /** Views per key: every key it holds when `keys` is undefined, else at least those keys (null: absent or inactive). */
  read(t: TableRef, keys: string[] | undefined): Promise<Map<string, string | null>>;
  /**
   * For a sink holding something derived from the edges rather than the edges (Druid: counts per source and
   * target): the CDC history in the sink's own keys and views. Undefined: the sink holds edge views.
   */
  derive?(t: TableHistory): TableHistory;
  /** Called once after the first CDC read with its end: a side may wait there for its sink to reach it. */
  prepare?(ends: Point): Promise<void>;
  /** For a side that waited in prepare(): whether its sink reached the offsets within the bound. */
  caughtUp?(): boolean;
  /** Why the sink cannot be compared this run (e.g. no offsets known to compare at); undefined: it can. */
  unusable?(): string | undefined;
  close?(): Promise<void>;
}

const CHUNK = 100;

export class CoreSide implements SinkSide {
  readonly name = 'core';
  readonly lists = false;
  constructor(private readonly core: CoreClient) {}

  async point(): Promise<Point | undefined> {
    return undefined;
  }

  async read(t: TableRef, keys: string[] | undefined): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    if (!keys) return out;
    for (const k of keys) out.set(k, null);
    if (t.multi) {
      for (let i = 0; i < keys.length; i += CHUNK) {
        const ids = keys.slice(i, i + CHUNK).map((k) => JSON.parse(k) as string);
        for (const e of await this.core.multiEdges(t.database, t.table, ids)) out.set(edgeKey(e, true), restView(e));
      }
      return out;
    }
    const bySource = new Map<string, string[]>();
    for (const k of keys) {
      const [s, tg] = JSON.parse(k) as [string, string];
      bySource.set(s, [...(bySource.get(s) ?? []), tg]);
    }
    for (const [source, targets] of bySource) {
      for (let i = 0; i < targets.length; i += CHUNK) {
        for (const e of await this.core.get(t.database, t.table, source, targets.slice(i, i + CHUNK) as Endpoint[])) out.set(edgeKey(e, false), restView(e));
      }
    }
    return out;
  }
}

export class ElasticsearchSide implements SinkSide {
  readonly name = 'elasticsearch';
  readonly lists = true;
  private readonly client: Client;

  constructor(
    private readonly conn: EsConnection,
    private readonly index: string,
    private readonly group: string,
    private readonly cdcTopic: string,
    private readonly kafka: KafkaClient,
  ) {
    this.client = createEsClient(conn, { requestTimeout: 30_000 });
  }

  async point(): Promise<Point> {
    const admin = await this.kafka.admin();
    try {
      return await admin.committedOffsets(this.group, this.cdcTopic);
    } finally {
      await admin.close();
    }
  }

  async read(t: TableRef, keys: string[] | undefined): Promise<Map<string, string | null>> {
    try {
      return await this.search(t, keys);
    } catch (err) {
      throw new Error(`reconcile could not read ${this.index}: ${explainEsError(err, this.conn)}`, { cause: err });
    }
  }

  private async search(t: TableRef, keys: string[] | undefined): Promise<Map<string, string | null>> {
    const wanted = keys ? new Set(keys) : undefined;
    const out = new Map<string, string | null>();
    let after: unknown[] | undefined;
    for (;;) {
      const r = await this.client.search<{ active: boolean; state: CdcState }>({
        index: this.index,
        // No index yet reads as empty. One search rather than an exists check first: a refusal of a HEAD
        // request has no body, and the body is what names the credential the node refused.
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 1_000,
        query: { bool: { filter: [{ term: { database: t.database } }, { term: { table: t.table } }] } },
        sort: [{ docId: 'asc' }],
        _source: ['active', 'state'],
        ...(after ? { search_after: after as never } : {}),
      });
      const hits = r.hits.hits;
      for (const h of hits) {
        const s = h._source;
        if (!s?.state) continue;
        const k = edgeKey(s.state, t.multi);
        if (wanted && !wanted.has(k)) continue;
        out.set(k, s.active === false ? null : stateView(s.state));
      }
      if (hits.length < 1_000) break;
      after = hits[hits.length - 1]!.sort as unknown[];
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

export class IcebergSide implements SinkSide {
  readonly name = 'iceberg';
  readonly lists = true;
  private readonly cache = new Map<string, Promise<Awaited<ReturnType<typeof readIcebergTable>>>>();

  constructor(
    private readonly warehouse: string,
    private readonly cdcTopic: string,
  ) {}

  /** One read of the newest snapshot per table and round: point and rows come from the same snapshot. */
  private table(t: TableRef) {
    const id = `${t.database}.${t.table}`;
    let p = this.cache.get(id);
    if (!p) this.cache.set(id, (p = readIcebergTable(this.warehouse, t.database, t.table, t.multi, t.fields)));
    return p;
  }

  /** Forget the snapshots read: the next point()/read() takes the newest one. */
  refresh(): void {
    this.cache.clear();
  }

  async point(t: TableRef): Promise<Point> {
    const read = await this.table(t);
    const out: Point = new Map();
    for (const [tp, next] of Object.entries(read?.offsets ?? {})) {
      const i = tp.lastIndexOf(':');
      if (tp.slice(0, i) === this.cdcTopic) out.set(Number(tp.slice(i + 1)), BigInt(next));
    }
    return out;
  }

  async read(t: TableRef, keys: string[] | undefined): Promise<Map<string, string | null>> {
    const wanted = keys ? new Set(keys) : undefined;
    const out = new Map<string, string | null>();
    const read = await this.table(t);
    for (const s of read?.states ?? []) {
      const k = edgeKey(s, t.multi);
      if (wanted && !wanted.has(k)) continue;
      out.set(k, stateView(s));
    }
    return out;
  }
}
