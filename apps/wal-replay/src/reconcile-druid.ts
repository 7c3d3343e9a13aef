/**
 * Druid in reconcile. Druid does not hold edges: the Kafka supervisor of apps/druid-ingest ingests every CDC
 * record as a fact, and the counts Druid answers (IN per target, OUT per source, net change per table) are all
 * sums of the records' count deltas, with `source` and `target` as dimensions (a record that moved a multi-edge
 * also carries -1 at the pair it left: libs/druid countLegs). So what Druid
 * must agree on is, per table and per (source, target), the sum over all time: the number of active edges
 * between the two (1 or none for a unique edge; multi-edges between the same endpoints add up). It is the
 * finest grain every Druid count is summed from: when each pair's sum is right, each of those counts is right,
 * and a wrong pair names the edge to look at. Properties and versions are not in Druid, so they are not
 * compared here (the other sinks compare them).
 *
 * The expected sums come from the same CDC history as the other sinks, folded into pairs: an edge counts 1
 * while its newest record (by seq) leaves it active. A CDC record the relay sent twice counts once in the
 * history but twice in Druid, which sums what it reads: reconcile reports that pair as differing, since
 * every count Druid answers for it is then off.
 *
 * The point: the supervisor's ingested offsets (its reading tasks' current offsets). Before comparing, the
 * side waits until they reach the end of the CDC read at the start of the run, at most DRUID_CATCHUP_MS;
 * when they do not, the comparison is made at the point Druid did reach and the run fails (caughtUp false).
 */
import type { Logger } from 'pino';
import { activeEdgeCounts, DruidClient, ingestedOffsets, isUnknownDatasource, recordsBehind, type EdgeCountRow } from '@pipeline/druid';
import type { HistoryRecord, KeyHistory, Point, TableHistory } from './cdc-history';
import type { SinkSide, TableRef } from './reconcile-sinks';

/** The key of a pair in Druid and in the derived history: the same form as a unique edge's key. */
export const pairKey = (source: unknown, target: unknown): string => JSON.stringify([String(source), String(target)]);

/** An edge view's pair (views are canonical JSON with `source` and `target` as strings, see edge-view.ts). */
function pairOfView(view: string): string {
  const v = JSON.parse(view) as { source: string; target: string };
  return pairKey(v.source, v.target);
}

/**
 * The CDC history of a table as Druid's sums should tell it: per pair, after each record of its edges, the
 * number of active edges (a view of `"n"`, or null for none). A record with a seq not above the edge's newest
 * so far changes nothing, as in viewAt. A multi-edge whose endpoints change moves from one pair to the other
 * (the core moves its counts, domain rules): the record counts for both pairs.
 */
export function edgeCountHistory(t: TableHistory): TableHistory {
  const all: { key: string; r: HistoryRecord }[] = [];
  for (const [key, h] of t.keys) for (const r of h.records) all.push({ key, r });
  // In commit order (seq): an edge's records can sit in two partitions when a multi-edge moved (the message key
  // is its endpoints). A copy sent again shares its original's seq and comes after it (higher offset).
  all.sort((a, b) => a.r.seq - b.r.seq || a.r.partition - b.r.partition || (a.r.offset < b.r.offset ? -1 : a.r.offset > b.r.offset ? 1 : 0));
  const newestSeq = new Map<string, number>();
  const pairOf = new Map<string, string | null>();
  const counts = new Map<string, number>();
  const keys = new Map<string, KeyHistory>();
  let order = 0;
  const emit = (pair: string, r: HistoryRecord) => {
    let h = keys.get(pair);
    if (!h) keys.set(pair, (h = { partition: r.partition, records: [] }));
    const n = counts.get(pair) ?? 0;
    h.records.push({ partition: r.partition, offset: r.offset, seq: ++order, view: n === 0 ? null : String(n) });
  };
  for (const { key, r } of all) {
    const prev = newestSeq.get(key);
    if (prev !== undefined && r.seq <= prev) continue;
    newestSeq.set(key, r.seq);
    const before = pairOf.get(key) ?? null;
    const after = r.view === null ? null : pairOfView(r.view);
    pairOf.set(key, after);
    if (before !== null) counts.set(before, (counts.get(before) ?? 0) - 1);
    if (after !== null) counts.set(after, (counts.get(after) ?? 0) + 1);
    if (before !== null && before !== after) emit(before, r);
    if (after !== null) emit(after, r);
  }
  return { database: t.database, table: t.table, multi: t.multi, keys };
}

export interface DruidSideOptions {
  overlordUrl: string;
  brokerUrl: string;
  /** The datasource, which is also the supervisor id (apps/druid-ingest DATASOURCE). */
  dataSource: string;
  cdcTopic: string;
  /** How long prepare() waits for the supervisor to reach the CDC read. */
  catchUpMs: number;
  pollMs?: number;
  logger: Logger;
}

export class DruidSide implements SinkSide {
  readonly name = 'druid';
  readonly lists = true;
  private readonly client: DruidClient;
  private reached: boolean | undefined;
  private unknownPoint: string | undefined;

  constructor(private readonly o: DruidSideOptions) {
    this.client = new DruidClient({ overlordUrl: o.overlordUrl, brokerUrl: o.brokerUrl });
  }

  /** The CDC offsets whose records are in rows Druid can query now. */
  async point(): Promise<Point> {
    const s = await this.client.supervisorStatus(this.o.dataSource).catch((err: Error) => {
      throw new Error(`reading the Druid supervisor ${this.o.dataSource}: ${err.message} (DRUID_DATASOURCE names the supervisor, apps/druid-ingest DATASOURCE)`, { cause: err });
    });
    if (s.stream !== undefined && s.stream !== this.o.cdcTopic) {
      throw new Error(`the Druid supervisor ${this.o.dataSource} reads ${s.stream}, reconcile reads ${this.o.cdcTopic}: set CDC_TOPIC or DRUID_DATASOURCE to match`);
    }
    return ingestedOffsets(s);
  }

  async prepare(ends: Point): Promise<void> {
    const started = Date.now();
    const poll = this.o.pollMs ?? 1_000;
    let behind = Number.POSITIVE_INFINITY;
    for (;;) {
      behind = recordsBehind(await this.point(), ends);
      if (behind === 0 || Date.now() - started >= this.o.catchUpMs) break;
      await new Promise((r) => setTimeout(r, poll));
    }
    this.reached = behind === 0;
    const known = await this.point();
    const unknown = [...ends].filter(([p, end]) => end > 0n && !known.has(p)).map(([p]) => p);
    // No task reports where it is (suspended, or between tasks): there is no point to compare at.
    this.unknownPoint = unknown.length ? `no Druid task reports its offsets for partitions ${unknown.join(', ')} (supervisor suspended or its tasks restarting?)` : undefined;
    const waitedMs = Date.now() - started;
    if (this.reached) this.o.logger.info({ sink: this.name, waitedMs }, 'Druid has ingested the CDC read');
    else this.o.logger.warn({ sink: this.name, waitedMs, behind }, `Druid did not reach the CDC read within DRUID_CATCHUP_MS (${this.o.catchUpMs} ms): compared at its own offsets; is the supervisor running and healthy?`);
  }

  caughtUp(): boolean {
    return this.reached !== false;
  }

  unusable(): string | undefined {
    return this.unknownPoint;
  }

  derive(t: TableHistory): TableHistory {
    return edgeCountHistory(t);
  }

  async read(t: TableRef): Promise<Map<string, string | null>> {
    const q = activeEdgeCounts(this.o.dataSource, t.database, t.table);
    let rows: EdgeCountRow[];
    try {
      rows = await this.client.sql<EdgeCountRow>(q.sql, q.parameters);
    } catch (err) {
      if (isUnknownDatasource(err)) return new Map();
      throw err;
    }
    return new Map(rows.map((r) => [pairKey(r.source, r.target), String(r.active)]));
  }
}
