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
  /**
   * Keys by the end of a window they hold (start + length): the watermark closes windows in this order without
   * reading every entry, so the cost of a batch follows the windows it closes, not the size of the state.
   */
  private readonly closing = new Map<number, Set<string>>();
  /** The rule of each `<table>\0<rule name>` key prefix (rules apply per table, `*` included). */
  private readonly ruleCache = new Map<string, AnyRule | undefined>();
  readonly partitions = new Map<string, PartitionProgress>();
  /** Every partition of the topics read, seen or not; and those read to their end. */
  private readonly known = new Set<string>();
  private readonly caughtUp = new Set<string>();
  readonly stats: DetectorStats = { late: 0, evicted: 0 };
  private watermarkMs = 0;

  constructor(
    private readonly rules: RulesFile,
    private readonly limits: DetectorLimits,
    private readonly ignoredActors: ReadonlySet<string> = new Set(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get watermark(): number {
    return this.watermarkMs;
  }

  /** Puts back a saved entry (in the order they were last updated); entries of rules no longer in the file are dropped. */
  restore(key: string, entry: StateEntry): boolean {
    const rule = this.ruleOf(key);
    if (!rule) {
      this.deleted.add(key);
      return false;
    }
    this.entries.set(key, entry);
    for (const start of windowStarts(entry)) this.closesAt(start + windowLength(rule), key);
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
    const due = [...this.closing.keys()].filter((end) => end + this.limits.graceMs <= this.watermarkMs).sort((a, b) => a - b);
    for (const end of due) {
      const keys = this.closing.get(end)!;
      this.closing.delete(end);
      for (const key of keys) {
        const entry = this.entries.get(key);
        if (!entry) continue;
        if (entry.t === 'ewma') this.judge(key, entry, alerts);
        else {
          const rule = this.ruleOf(key) as BurstRule | FlappingRule | FanOutRule;
          entry.w = (entry.w as [number, unknown, boolean][]).filter(([start]) => !this.closed(start, rule.windowMs)) as typeof entry.w;
          if (entry.w.length === 0) this.remove(key);
          else this.dirty.add(key);
        }
      }
    }
    while (this.entries.size > this.limits.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
      this.stats.evicted++;
    }
    return alerts;
  }

  /** Folds a target's closed buckets into its baseline, oldest first, judging each against the baseline before it. */
  private judge(key: string, entry: EwmaEntry, alerts: AlertDraft[]): void {
    const [table, ruleName, target] = key.split(SEP) as [string, string, string];
    const [database, tbl] = table.split('.') as [string, string];
    const rule = this.ruleOf(key) as TargetSpikeRule;
    const closing = entry.open.filter(([start]) => this.closed(start, rule.bucketMs));
    if (closing.length === 0) return;
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
          alertId: `${ruleName}:${table}:target:${target}:${start}`,
          rule: 'target-spike',
          ruleName,
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
    // A baseline decayed to nothing is the same as none: forget it so idle targets do not hold memory.
    if (entry.open.length === 0 && entry.mean < 0.01 && entry.variance < 0.01) this.remove(key);
    else this.dirty.add(key);
  }

  /** Every entry, least recently updated first. */
  all(): Iterable<[string, StateEntry]> {
    return this.entries.entries();
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
    const entry = this.entries.get(key);
    const rule = entry && this.ruleOf(key);
    if (entry && rule) for (const start of windowStarts(entry)) this.closing.get(start + windowLength(rule))?.delete(key);
    this.entries.delete(key);
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
    if (!w) {
      entry.w.push((w = [start, 0, false]));
      this.closesAt(start + rule.windowMs, key);
    }
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
    if (!w) {
      entry.w.push((w = [start, [], false]));
      this.closesAt(start + rule.windowMs, key);
    }
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
    else {
      entry.open.push([start, delta]);
      this.closesAt(start + rule.bucketMs, key);
    }
    this.touch(key, entry);
  }

  private closesAt(end: number, key: string): void {
    let keys = this.closing.get(end);
    if (!keys) this.closing.set(end, (keys = new Set()));
    keys.add(key);
  }

  private ruleOf(key: string): AnyRule | undefined {
    const cut = key.indexOf(SEP, key.indexOf(SEP) + 1);
    const prefix = key.slice(0, cut);
    if (this.ruleCache.has(prefix)) return this.ruleCache.get(prefix);
    const [table, ruleName] = prefix.split(SEP) as [string, string];
    const dot = table.indexOf('.');
    const rules = dot > 0 ? rulesFor(this.rules, table.slice(0, dot), table.slice(dot + 1)) : undefined;
    const rule = rules ? findRule(rules, ruleName) : undefined;
    this.ruleCache.set(prefix, rule);
    return rule;
  }
}

type AnyRule = BurstRule | FlappingRule | FanOutRule | TargetSpikeRule;
const windowLength = (rule: AnyRule) => ('bucketMs' in rule ? rule.bucketMs : rule.windowMs);
const windowStarts = (e: StateEntry): number[] => (e.t === 'ewma' ? e.open.map(([start]) => start) : e.w.map(([start]) => start));

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
