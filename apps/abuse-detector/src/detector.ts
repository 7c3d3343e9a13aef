/**
 * The detection itself, free of Kafka, Elasticsearch and disks: CDC records in, alerts out, state that can be
 * saved and restored entry by entry.
 *
 * Why the results do not depend on how the records arrive:
 * - windows are tumbling windows of event time (the CDC `processedAt`), never of arrival time;
 * - burst, flapping and fan-out fire once per (rule, subject, window), when the count reaches the limit, so the
 *   alert is the same whatever the order of the window's records (the count at firing is the limit itself);
 * - a target's growth per bucket is only judged once the watermark passed the bucket, i.e. once every partition
 *   that is still active is past it: a partition read later (a backlog, a restart) cannot have missed records.
 * The watermark is the smallest of the newest event times of the partitions that still have records to read
 * (a partition not read at all holds it at the beginning of time); a partition read to its end does not hold it,
 * or one quiet partition would keep every window open. Which partitions are read to their end is told by the
 * caller (`partitionState`), from the broker's end offsets.
 */
import type { AlertRecord, CdcRecord } from '@pipeline/events';
import { rulesFor, type BurstRule, type FanOutRule, type FlappingRule, type RulesFile, type TableRules, type TargetSpikeRule } from './rules';

export interface DetectorLimits {
  /** Most state entries (rule × subject) held; beyond it the least recently updated one is dropped. */
  maxKeys: number;
  /** How long after a window's end its records may still come (event time), before the window is closed. */
  graceMs: number;
}

/** Counts per window (burst, flapping): [window start, count, fired]. */
interface CountEntry {
  t: 'count';
  w: [number, number, boolean][];
}
/** Distinct targets per window (fan-out), capped at the rule's limit: [window start, targets, fired]. */
interface SetEntry {
  t: 'set';
  w: [number, string[], boolean][];
}
/** IN-count growth per open bucket and the EWMA baseline of the closed ones (target-spike). */
interface EwmaEntry {
  t: 'ewma';
  mean: number;
  variance: number;
  /** Start of the newest bucket folded into the baseline; null before the first one. */
  last: number | null;
  open: [number, number][];
}
export type StateEntry = CountEntry | SetEntry | EwmaEntry;

export interface PartitionProgress {
  /** Newest event time (processedAt) seen on the partition. */
  maxTime: number;
}

/** What changed since the last `takeChanges()`, for the store to save atomically with the offsets. */
export interface StateChanges {
  upserts: [string, StateEntry][];
  deletes: string[];
}

export type AlertDraft = Omit<AlertRecord, 'emittedAt'>;

export interface DetectorStats {
  late: number;
  evicted: number;
}

const SEP = '\u0000';
const windowOf = (t: number, w: number) => Math.floor(t / w) * w;
const str = (v: unknown) => (typeof v === 'string' ? v : String(v));

/** Zero buckets folded into a baseline at most; beyond that the baseline has decayed to nothing anyway. */
const MAX_ZERO_FOLDS = 200;

export class Detector {
  /** Insertion order is update order: the first key is the least recently updated (eviction). */
  private readonly entries = new Map<string, StateEntry>();
  private readonly dirty = new Set<string>();
  private readonly deleted = new Set<string>();
  /** Keys of target-spike entries holding open buckets. */
  private readonly openBuckets = new Set<string>();
  readonly partitions = new Map<string, PartitionProgress>();
  /** Every partition of the topics read, seen or not; and those read to their end. */
  private readonly known = new Set<string>();
  private readonly caughtUp = new Set<string>();
  readonly stats: DetectorStats = { late: 0, evicted: 0 };
  private watermarkMs = 0;
  private sweptAt = 0;
  /** Closed windows are swept when the watermark moved by this much: a sweep reads every entry. */
  private readonly sweepEveryMs: number;

  constructor(
    private readonly rules: RulesFile,
    private readonly limits: DetectorLimits,
    private readonly ignoredActors: ReadonlySet<string> = new Set(),
  ) {
    const windows = Object.values(rules.tables).flatMap((r) => [...r.burst, ...r.flapping, ...r.fanOut].map((x) => x.windowMs));
    this.sweepEveryMs = Math.max(1, Math.min(...windows, 60_000) / 4);
  }

  get size(): number {
    return this.entries.size;
  }

  get watermark(): number {
    return this.watermarkMs;
  }

  /** Puts back a saved entry (in the order they were last updated); entries of rules no longer in the file are dropped. */
  restore(key: string, entry: StateEntry): boolean {
    const [table, ruleName] = key.split(SEP);
    const [db, tbl] = (table ?? '').split('.');
    const rules = db && tbl ? rulesFor(this.rules, db, tbl) : undefined;
    if (!rules || !findRule(rules, ruleName ?? '')) {
      this.deleted.add(key);
      return false;
    }
    this.entries.set(key, entry);
    if (entry.t === 'ewma' && entry.open.length > 0) this.openBuckets.add(key);
    return true;
  }

  restorePartition(partitionKey: string, progress: PartitionProgress): void {
    this.partitions.set(partitionKey, { ...progress });
    this.known.add(partitionKey);
  }

  /** A partition of the topic, and whether every record it holds was read (then it does not hold the watermark). */
  partitionState(partitionKey: string, caughtUp: boolean): void {
    this.known.add(partitionKey);
    if (caughtUp) this.caughtUp.add(partitionKey);
    else this.caughtUp.delete(partitionKey);
  }

  /** Feeds one CDC record (of `partitionKey`, `topic:partition`); returns the alerts it fired. */
  observe(record: CdcRecord, partitionKey: string): AlertDraft[] {
    const t = record.processedAt;
    const p = this.partitions.get(partitionKey);
    this.known.add(partitionKey);
    if (!p) this.partitions.set(partitionKey, { maxTime: t });
    else if (t > p.maxTime) p.maxTime = t;

    const { database, table } = record.context;
    const rules = rulesFor(this.rules, database, table);
    if (!rules) return [];
    const actor = record.context.request.actor;
    if (this.ignoredActors.has(actor)) return [];
    const state = record.after ?? record.before;
    const first = record.events[0]!;
    const source = str(state?.source ?? first.source);
    const target = str(state?.target ?? first.target);
    const mutations = record.events.length;
    const alerts: AlertDraft[] = [];
    const base = { version: '1' as const, database, table };

    for (const rule of rules.burst) {
      const subject = rule.by === 'actor' ? actor : source;
      const a = this.count(`${database}.${table}`, rule, rule.by, subject, t, mutations, rule.limit);
      if (a) alerts.push({ ...base, ...a, rule: 'burst', users: [subject] });
    }
    if (record.status === 'CREATED' || record.status === 'DELETED') {
      for (const rule of rules.flapping) {
        const a = this.count(`${database}.${table}`, rule, 'edge', `${source}:${target}`, t, 1, rule.toggles);
        if (a) alerts.push({ ...base, ...a, rule: 'flapping', users: [source] });
      }
    }
    for (const rule of rules.fanOut) {
      const a = this.distinct(`${database}.${table}`, rule, source, target, t);
      if (a) alerts.push({ ...base, ...a, rule: 'fan-out', users: [source] });
    }
    if (record.accumulator !== 0) {
      for (const rule of rules.targetSpike) this.grow(`${database}.${table}`, rule, target, t, record.accumulator);
    }
    return alerts;
  }

  /**
   * Moves the watermark on (call after each batch): judges the target buckets it passed, drops the windows it
   * closed, and evicts the least recently updated entries beyond `maxKeys`.
   */
  advance(): AlertDraft[] {
    this.updateWatermark();
    const alerts: AlertDraft[] = [];
    for (const key of [...this.openBuckets]) {
      const entry = this.entries.get(key);
      if (entry?.t !== 'ewma') {
        this.openBuckets.delete(key);
        continue;
      }
      const [table, ruleName, target] = key.split(SEP) as [string, string, string];
      const [database, tbl] = table.split('.') as [string, string];
      const rule = findRule(rulesFor(this.rules, database, tbl)!, ruleName) as TargetSpikeRule;
      const closing = entry.open.filter(([start]) => this.closed(start, rule.bucketMs));
      if (closing.length === 0) continue;
      for (const [start, growth] of closing.sort((a, b) => a[0] - b[0])) {
        if (entry.last !== null) {
          const gaps = Math.min(MAX_ZERO_FOLDS, Math.max(0, (start - entry.last) / rule.bucketMs - 1));
          for (let i = 0; i < gaps; i++) fold(entry, 0, rule.alpha);
        }
        const stddev = Math.sqrt(entry.variance);
        const zScore = (growth - entry.mean) / Math.max(stddev, rule.minStddev);
        if (growth >= rule.minGrowth && zScore >= rule.zScore) {
          alerts.push({
            version: '1',
            alertId: `${rule.name}:${table}:target:${target}:${start}`,
            rule: 'target-spike',
            ruleName: rule.name,
            database,
            table: tbl,
            subject: { kind: 'target', id: target },
            users: [target],
            windowStart: start,
            windowEnd: start + rule.bucketMs,
            observed: growth,
            threshold: rule.minGrowth,
            baseline: { mean: round(entry.mean), stddev: round(stddev), zScore: round(zScore) },
          });
        }
        fold(entry, growth, rule.alpha);
        entry.last = start;
      }
      entry.open = entry.open.filter(([start]) => !this.closed(start, rule.bucketMs));
      if (entry.open.length === 0) this.openBuckets.delete(key);
      // A baseline decayed to nothing is the same as none: forget it so idle targets do not hold memory.
      if (entry.open.length === 0 && entry.mean < 0.01 && entry.variance < 0.01) this.remove(key);
      else this.dirty.add(key);
    }
    if (this.watermarkMs - this.sweptAt >= this.sweepEveryMs) {
      this.sweptAt = this.watermarkMs;
      this.dropClosedWindows();
    }
    while (this.entries.size > this.limits.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.stats.evicted++;
    }
    return alerts;
  }

  /** The entries changed or removed since the last call. */
  takeChanges(): StateChanges {
    const upserts: [string, StateEntry][] = [];
    for (const key of this.dirty) {
      const e = this.entries.get(key);
      if (e) upserts.push([key, e]);
    }
    const deletes = [...this.deleted].filter((k) => !this.entries.has(k));
    this.dirty.clear();
    this.deleted.clear();
    return { upserts, deletes };
  }

  private closed(windowStart: number, windowMs: number): boolean {
    return windowStart + windowMs + this.limits.graceMs <= this.watermarkMs;
  }

  private updateWatermark(): void {
    let newest = -Infinity;
    let wm = Infinity;
    for (const pk of this.known) {
      const t = this.partitions.get(pk)?.maxTime ?? -Infinity;
      newest = Math.max(newest, t);
      if (!this.caughtUp.has(pk)) wm = Math.min(wm, t);
    }
    if (wm === Infinity) wm = newest;
    // Never backwards: closed windows stay closed.
    if (Number.isFinite(wm) && wm > this.watermarkMs) this.watermarkMs = wm;
  }

  private touch(key: string, entry: StateEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    // Re-added so the set's order is update order too: the store saves entries in it (eviction order after a restart).
    this.dirty.delete(key);
    this.dirty.add(key);
  }

  private remove(key: string): void {
    this.entries.delete(key);
    this.openBuckets.delete(key);
    this.dirty.delete(key);
    this.deleted.add(key);
  }

  private count(
    table: string,
    rule: BurstRule | FlappingRule,
    kind: 'actor' | 'source' | 'edge',
    subject: string,
    t: number,
    n: number,
    limit: number,
  ): Pick<AlertDraft, 'alertId' | 'ruleName' | 'subject' | 'windowStart' | 'windowEnd' | 'observed' | 'threshold'> | undefined {
    const start = windowOf(t, rule.windowMs);
    if (this.closed(start, rule.windowMs)) {
      this.stats.late++;
      return undefined;
    }
    const key = `${table}${SEP}${rule.name}${SEP}${subject}`;
    const entry = (this.entries.get(key) as CountEntry | undefined) ?? { t: 'count', w: [] };
    let w = entry.w.find((x) => x[0] === start);
    if (!w) entry.w.push((w = [start, 0, false]));
    w[1] += n;
    this.touch(key, entry);
    if (w[2] || w[1] < limit) return undefined;
    w[2] = true;
    return {
      alertId: `${rule.name}:${table}:${kind}:${subject}:${start}`,
      ruleName: rule.name,
      subject: { kind, id: subject },
      windowStart: start,
      windowEnd: start + rule.windowMs,
      observed: limit,
      threshold: limit,
    };
  }

  private distinct(table: string, rule: FanOutRule, source: string, target: string, t: number) {
    const start = windowOf(t, rule.windowMs);
    if (this.closed(start, rule.windowMs)) {
      this.stats.late++;
      return undefined;
    }
    const key = `${table}${SEP}${rule.name}${SEP}${source}`;
    const entry = (this.entries.get(key) as SetEntry | undefined) ?? { t: 'set', w: [] };
    let w = entry.w.find((x) => x[0] === start);
    if (!w) entry.w.push((w = [start, [], false]));
    if (w[2]) {
      this.touch(key, entry);
      return undefined;
    }
    // Kept until the limit is reached only, and then dropped: memory per source stays below `targets` per window.
    if (!w[1].includes(target)) w[1].push(target);
    if (w[1].length >= rule.targets) {
      w[2] = true;
      w[1] = [];
    }
    this.touch(key, entry);
    if (!w[2]) return undefined;
    return {
      alertId: `${rule.name}:${table}:source:${source}:${start}`,
      ruleName: rule.name,
      subject: { kind: 'source' as const, id: source },
      windowStart: start,
      windowEnd: start + rule.windowMs,
      observed: rule.targets,
      threshold: rule.targets,
    };
  }

  private grow(table: string, rule: TargetSpikeRule, target: string, t: number, delta: number): void {
    const start = windowOf(t, rule.bucketMs);
    if (this.closed(start, rule.bucketMs)) {
      this.stats.late++;
      return;
    }
    const key = `${table}${SEP}${rule.name}${SEP}${target}`;
    const entry = (this.entries.get(key) as EwmaEntry | undefined) ?? { t: 'ewma', mean: 0, variance: 0, last: null, open: [] };
    const b = entry.open.find((x) => x[0] === start);
    if (b) b[1] += delta;
    else entry.open.push([start, delta]);
    this.openBuckets.add(key);
    this.touch(key, entry);
  }

  private dropClosedWindows(): void {
    for (const [key, entry] of this.entries) {
      if (entry.t === 'ewma') continue;
      const ruleName = key.split(SEP)[1]!;
      const [database, tbl] = key.split(SEP)[0]!.split('.') as [string, string];
      const rule = findRule(rulesFor(this.rules, database, tbl)!, ruleName) as BurstRule | FlappingRule | FanOutRule;
      const before = entry.w.length;
      entry.w = (entry.w as [number, unknown, boolean][]).filter(([start]) => !this.closed(start, rule.windowMs)) as typeof entry.w;
      if (entry.w.length === 0) this.remove(key);
      else if (entry.w.length !== before) this.dirty.add(key);
    }
  }
}

function findRule(rules: TableRules, name: string): BurstRule | FlappingRule | FanOutRule | TargetSpikeRule | undefined {
  return [...rules.burst, ...rules.flapping, ...rules.fanOut, ...rules.targetSpike].find((r) => r.name === name);
}

/** Exponentially weighted mean and variance (West's incremental form). */
function fold(e: EwmaEntry, x: number, alpha: number): void {
  const diff = x - e.mean;
  e.mean += alpha * diff;
  e.variance = (1 - alpha) * (e.variance + alpha * diff * diff);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
