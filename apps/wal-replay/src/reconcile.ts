/**
 * reconcile: does every sink tell the same story as the core? Per table, each sink's state is compared with
 * the state the CDC topic gives as of the offsets that sink has committed (its point): the snapshot summary's
 * offsets for Iceberg, the consumer group's for Elasticsearch, the end of the topic for the core. A sink
 * writes before it commits, so a key may also hold the state after any later CDC record of that key (counted
 * as lagging, not divergent). The core is compared with the CDC state at the end read: since the CDC is the
 * core's own record of its commits, "sink = CDC at its point" and "core = CDC" together say the sink agrees
 * with the core as of that point.
 *
 * Reads happen at different moments while traffic flows, so a key that does not match is read again after
 * SETTLE_MS with the CDC read further, up to SETTLE_ROUNDS times; what still does not match is divergent.
 *
 * Small tables are compared key by key; above SAMPLE_THRESHOLD keys, a stratified sample (strata: the CDC
 * partitions, proportional allocation) of SAMPLE_SIZE keys, with the estimate of divergent keys and its
 * standard error (or, when none was found, the 95% upper bound).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KafkaClient } from '@pipeline/kafka';
import { acceptableViews, CdcHistory, viewAt, type KeyHistory, type Point, type TableHistory } from './cdc-history';
import type { SinkSide, TableRef } from './reconcile-sinks';
import { readRange } from './topic-reader';

export type DivergenceKind = 'missing' | 'unexpected' | 'differs';

export interface Divergence {
  sink: string;
  table: string;
  key: string;
  kind: DivergenceKind;
  /** What the sink holds (null: absent or inactive). */
  got: string | null;
  /** The CDC state at the sink's point. */
  expected: string | null;
}

export interface SampleEstimate {
  population: number;
  sampled: number;
  /** Estimated divergent keys in the whole table. */
  estimate: number;
  /** Standard error of the estimate (stratified, finite-population corrected). */
  stdError: number;
  /** 95% upper bound of divergent keys (exact binomial bound when none was found). */
  upper95: number;
}

export interface SinkTableResult {
  sink: string;
  table: string;
  compared: number;
  divergent: number;
  lagging: number;
  /** Keys whose newest CDC state lies past the sink's committed point (0 once the sink caught up). */
  behind: number;
  /** CDC records not yet committed into the sink (end read minus its point, summed over partitions). */
  lagRecords: number;
  /**
   * Sides that wait for their sink to reach the CDC read first (Druid): whether it got there within the bound.
   * When not, the comparison is still made at the sink's own point, and the run counts as failed.
   */
  caughtUp?: boolean;
  /** Why the sink was not compared this run (its point is unknown); nothing else in the result is measured. */
  skipped?: string;
  sample?: SampleEstimate;
}

export interface ReconcileReport {
  startedAt: number;
  seconds: number;
  cdcRecords: number;
  tables: number;
  results: SinkTableResult[];
  divergences: Divergence[];
}

export interface ReconcileOptions {
  kafka: KafkaClient;
  cdcTopic: string;
  sides: SinkSide[];
  /** Table definitions (property names, multi) from the core's schema. */
  tables: TableRef[];
  sampleThreshold: number;
  sampleSize: number;
  settleRounds: number;
  settleMs: number;
  logger: Logger;
  /** Called before each settle round (e.g. so Iceberg reads its newest snapshot again). */
  beforeRound?: () => void;
  random?: () => number;
}

async function endOffsets(kafka: KafkaClient, topic: string): Promise<Point> {
  const admin = await kafka.admin();
  try {
    return await admin.endOffsets(topic);
  } finally {
    await admin.close();
  }
}

/** Reads the CDC topic from what `history` covers to the current end. */
async function readMore(o: ReconcileOptions, history: CdcHistory): Promise<void> {
  const ends = await endOffsets(o.kafka, o.cdcTopic);
  const from = new Map(history.ends);
  await readRange(
    o.kafka,
    { topic: o.cdcTopic, groupId: `wal-replay-reconcile-${randomUUID()}`, from, ends },
    async (p, messages) => {
      for (const m of messages) history.add(p, m.offset, m.value);
    },
    o.logger,
  );
  history.markRead(ends);
}

const kindOf = (got: string | null, expected: string | null): DivergenceKind => (got === null ? 'missing' : expected === null ? 'unexpected' : 'differs');

function lagOf(history: CdcHistory, point: Point | undefined): number {
  if (!point) return 0;
  let lag = 0n;
  for (const [p, end] of history.ends) {
    const at = point.get(p) ?? 0n;
    if (end > at) lag += end - at;
  }
  return Number(lag);
}

/** Proportional stratified sample without replacement; strata are the keys' CDC partitions (-1: unknown to CDC). */
export function stratifiedSample(strata: Map<number, string[]>, size: number, random: () => number): Map<number, string[]> {
  let total = 0;
  for (const keys of strata.values()) total += keys.length;
  const out = new Map<number, string[]>();
  for (const [h, keys] of strata) {
    const n = Math.min(keys.length, Math.max(2, Math.round((size * keys.length) / total)));
    const pool = [...keys];
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    out.set(h, pool.slice(0, n));
  }
  return out;
}

/** The stratified estimate of divergent keys: sum of N_h p_h, variance with the finite-population correction. */
export function estimate(strata: { N: number; n: number; d: number }[]): SampleEstimate {
  let population = 0;
  let sampled = 0;
  let est = 0;
  let variance = 0;
  let found = 0;
  for (const { N, n, d } of strata) {
    population += N;
    sampled += n;
    found += d;
    if (n === 0) continue;
    const p = d / n;
    est += N * p;
    if (n > 1) variance += (N * N * (1 - n / N) * p * (1 - p)) / (n - 1);
  }
  const stdError = Math.sqrt(variance);
  // None found: the rate below which seeing 0 of `sampled` has 5% chance, 1 - 0.05^(1/n).
  const upper95 = found === 0 ? Math.ceil(population * (1 - Math.pow(0.05, 1 / Math.max(1, sampled)))) : Math.ceil(est + 1.96 * stdError);
  return { population, sampled, estimate: Math.round(est), stdError: Math.round(stdError * 100) / 100, upper95 };
}

export async function reconcile(o: ReconcileOptions): Promise<ReconcileReport> {
  const startedAt = Date.now();
  const random = o.random ?? Math.random;
  const history = new CdcHistory();
  await readMore(o, history);
  o.logger.info({ records: history.records, tables: history.tables.size, undecodable: history.undecodable }, 'CDC read');
  // A side that waits for its sink to reach a known offset waits for the end of this first read.
  for (const side of o.sides) await side.prepare?.(new Map(history.ends));
  const report: ReconcileReport = { startedAt, seconds: 0, cdcRecords: history.records, tables: 0, results: [], divergences: [] };
  const defs = new Map(o.tables.map((t) => [`${t.database}.${t.table}`, t]));
  const ids = new Set([...history.tables.keys(), ...defs.keys()]);

  for (const id of [...ids].sort()) {
    const def = defs.get(id);
    if (!def) {
      o.logger.warn({ table: id }, 'in CDC but not in the core schema: skipped (wal-replay check reports it)');
      continue;
    }
    report.tables++;
    const tableHistory = (): TableHistory => history.tables.get(id) ?? { database: def.database, table: def.table, multi: def.multi, keys: new Map() };
    // Sides that hold the edges themselves share one set of keys; a side that holds something derived from
    // them (Druid: counts per source and target) compares in its own key space, derived from the same history.
    const groups: { sides: SinkSide[]; hist: () => TableHistory }[] = [{ sides: o.sides.filter((s) => !s.derive), hist: tableHistory }];
    for (const side of o.sides) {
      if (!side.derive) continue;
      let cached: { records: number; t: TableHistory } | undefined;
      const derive = side.derive.bind(side);
      groups.push({
        sides: [side],
        hist: () => {
          if (!cached || cached.records !== history.records) cached = { records: history.records, t: derive(tableHistory()) };
          return cached.t;
        },
      });
    }
    for (const group of groups) {
      const g = { ...group, sides: [] as SinkSide[] };
      for (const side of group.sides) {
        const why = side.unusable?.();
        if (!why) {
          g.sides.push(side);
          continue;
        }
        const skipped: SinkTableResult = { sink: side.name, table: id, compared: 0, divergent: 0, lagging: 0, behind: 0, lagRecords: 0, skipped: why };
        const caughtUp = side.caughtUp?.();
        if (caughtUp !== undefined) skipped.caughtUp = caughtUp;
        report.results.push(skipped);
        o.logger.warn(skipped, 'sink not compared');
      }
      if (!g.sides.length) continue;
      // The keys to compare: every key CDC knows and every key a listing sink holds.
      const listed = new Map<string, Map<string, string | null>>();
      const points = new Map<string, Point | undefined>();
      for (const side of g.sides) {
        points.set(side.name, await side.point(def));
        if (side.lists) listed.set(side.name, await side.read(def, undefined));
      }
      const strata = new Map<number, string[]>();
      const seen = new Set<string>();
      const addKey = (k: string, partition: number) => {
        if (seen.has(k)) return;
        seen.add(k);
        strata.set(partition, [...(strata.get(partition) ?? []), k]);
      };
      for (const [k, kh] of g.hist().keys) addKey(k, kh.partition);
      for (const views of listed.values()) for (const k of views.keys()) addKey(k, -1);
      const sampled = seen.size > o.sampleThreshold;
      const chosen = sampled ? stratifiedSample(strata, o.sampleSize, random) : strata;
      const keys = [...chosen.values()].flat();

      for (const side of g.sides) {
        let views = listed.get(side.name) ?? (await side.read(def, keys));
        let point = points.get(side.name);
        const judge = (k: string): { ok: boolean; lagging: boolean; expected: string | null; got: string | null } => {
          const kh: KeyHistory | undefined = g.hist().keys.get(k);
          const got = views.get(k) ?? null;
          const { expected, later } = acceptableViews(kh, point);
          if (got === expected) return { ok: true, lagging: false, expected, got };
          return { ok: later.has(got), lagging: later.has(got), expected, got };
        };
        let pending = keys.filter((k) => !judge(k).ok);
        for (let round = 1; round <= o.settleRounds && pending.length; round++) {
          o.logger.info({ sink: side.name, table: id, round, keys: pending.length }, 'keys do not match yet; reading again');
          await new Promise((r) => setTimeout(r, o.settleMs));
          o.beforeRound?.();
          await readMore(o, history);
          point = await side.point(def);
          const again = await side.read(def, side.lists ? undefined : pending);
          views = side.lists ? again : new Map([...views, ...again]);
          pending = pending.filter((k) => !judge(k).ok);
        }
        let lagging = 0;
        let behind = 0;
        for (const k of keys) {
          const j = judge(k);
          if (j.lagging) lagging++;
          const kh = g.hist().keys.get(k);
          if (point && kh && j.expected !== viewAt(kh, undefined)) behind++;
        }
        const bad = new Set(pending);
        for (const k of pending) {
          const j = judge(k);
          report.divergences.push({ sink: side.name, table: id, key: k, kind: kindOf(j.got, j.expected), got: j.got, expected: j.expected });
        }
        const result: SinkTableResult = { sink: side.name, table: id, compared: keys.length, divergent: pending.length, lagging, behind, lagRecords: lagOf(history, point) };
        const caughtUp = side.caughtUp?.();
        if (caughtUp !== undefined) result.caughtUp = caughtUp;
        if (sampled) {
          result.sample = estimate(
            [...strata].map(([s, all]) => {
              const picked = chosen.get(s) ?? [];
              return { N: all.length, n: picked.length, d: picked.filter((k) => bad.has(k)).length };
            }),
          );
        }
        report.results.push(result);
        o.logger.info(result, 'sink compared');
      }
    }
  }
  report.cdcRecords = history.records;
  report.seconds = (Date.now() - startedAt) / 1000;
  return report;
}
