/**
 * The detector as a libs/stream sink. Per batch: skip what the store already holds, feed the rest to the
 * detector, move the watermark, publish the alerts (topic + Elasticsearch), then save the changed windows with
 * the offsets they cover; write() resolves only then, and the runtime commits behind it.
 *
 * A crash after publishing and before saving sends that batch's alerts again on the next start: the same
 * alerts, same ids (the detector is deterministic on event time), so the index overwrites them and topic
 * readers deduplicate on alertId. A failed write leaves the windows as the store has them (the in-memory
 * detector is rebuilt from the store), so the runtime's retry counts nothing twice.
 */
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertRecord, CdcRecord } from '@pipeline/events';
import type { GroupMember } from '@pipeline/kafka';
import type { DecodedRecord, Sink } from '@pipeline/stream';
import type { AlertOutput } from './alert-publisher';
import { Detector, type DetectorLimits } from './detector';
import type { RulesFile } from './rules';
import { StateStore, type PartitionCheckpoint } from './state-store';

export class DetectorMetrics {
  readonly alerts: Counter<'rule' | 'table'>;
  readonly late: Counter;
  readonly evicted: Counter;
  readonly skipped: Counter;
  readonly keys: Gauge;
  readonly members: Gauge;
  readonly watermark: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.alerts = new Counter({ name: 'abuse_detector_alerts_total', help: 'Alerts emitted (a reprocessed batch counts again)', labelNames: ['rule', 'table'], registers });
    this.late = new Counter({ name: 'abuse_detector_late_records_total', help: 'Records whose window was already closed by the watermark, not counted', registers });
    this.evicted = new Counter({ name: 'abuse_detector_evicted_keys_total', help: 'State entries dropped to stay within STATE_MAX_KEYS', registers });
    this.skipped = new Counter({ name: 'abuse_detector_replayed_records_total', help: 'Records read again after a restart that the restored state already held', registers });
    this.keys = new Gauge({ name: 'abuse_detector_state_keys', help: 'State entries (rule x subject) held', registers });
    this.members = new Gauge({ name: 'abuse_detector_group_members', help: 'Members of the consumer group at the last look (more than 1: each counts part of the records)', registers });
    this.watermark = new Gauge({ name: 'abuse_detector_watermark_ms', help: 'Event-time watermark (epoch ms)', registers });
  }
}

/**
 * Where the sink learns how far each partition goes (the broker's end offsets and the group's committed offsets)
 * and who else reads them (the group's members).
 */
export interface PartitionOffsets {
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  committedOffsets(topic: string): Promise<Map<number, bigint>>;
  groupMembers(): Promise<GroupMember[]>;
  close?(): Promise<void>;
}

const SHARED =
  'each reads part of the partitions, counts part of every subject\'s records and misses alerts. Run one replica of abuse-detector per group (not ready until the others leave)';

/** End offsets are asked again at most this often while a partition looks read to its end (a live tail). */
const END_OFFSETS_REFRESH_MS = 200;

export interface AbuseDetectorSinkOptions {
  rules: RulesFile;
  limits: DetectorLimits;
  ignoredActors: string[];
  statePath: string;
  offsets: PartitionOffsets;
  output: AlertOutput;
  metrics: DetectorMetrics;
  logger: Logger;
  /** How often the group's members are counted (the detector must be its only member). */
  groupCheckMs: number;
  /** Wall clock of `emittedAt`; a parameter so unit tests can fix it. */
  now?: () => number;
}

export class AbuseDetectorSink implements Sink<CdcRecord> {
  private store: StateStore | undefined;
  private detector: Detector;
  private progress = new Map<string, PartitionCheckpoint>();
  private readonly now: () => number;
  private lastLate = 0;
  private lastEvicted = 0;
  private readonly ends = new Map<string, { at: number; ends: Map<number, bigint>; committed: Map<number, bigint> }>();
  /** Set while the group has other members: what the log and the readiness say. */
  private sharedWith: string | undefined;
  private groupTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: AbuseDetectorSinkOptions) {
    this.now = o.now ?? Date.now;
    this.detector = this.newDetector();
  }

  async start(): Promise<void> {
    this.store = new StateStore(this.o.statePath);
    this.restore();
    await this.o.output.start();
    this.groupTimer = setInterval(() => void this.checkGroup(), this.o.groupCheckMs).unref();
    this.o.logger.info(
      { keys: this.detector.size, partitions: Object.fromEntries([...this.progress].map(([p, c]) => [p, c.nextOffset.toString()])), watermark: this.detector.watermark },
      'state restored',
    );
  }

  async write(batch: DecodedRecord<CdcRecord>[]): Promise<void> {
    const store = this.store!;
    const drafts = [];
    const touched = new Map<string, PartitionCheckpoint>();
    let skipped = 0;
    try {
      for (const d of batch) {
        const pk = `${d.topic}:${d.partition}`;
        const cp = touched.get(pk) ?? this.progress.get(pk);
        if (cp && d.offset < cp.nextOffset) {
          skipped++;
          continue;
        }
        drafts.push(...this.detector.observe(d.record, pk));
        touched.set(pk, { nextOffset: d.offset + 1n, maxTime: this.detector.partitions.get(pk)!.maxTime });
      }
      for (const topic of new Set(batch.map((d) => d.topic))) await this.markPartitions(topic, touched);
      drafts.push(...this.detector.advance());
      const emittedAt = this.now();
      const alerts: AlertRecord[] = drafts.map((a) => ({ ...a, emittedAt }));
      await this.o.output.publish(alerts);
      const detector = this.detector;
      store.save(detector.takeChanges(), touched, () => detector.all());
      for (const [pk, cp] of touched) this.progress.set(pk, cp);
      for (const a of alerts) this.o.metrics.alerts.inc({ rule: a.rule, table: `${a.database}.${a.table}` });
      if (alerts.length > 0) this.o.logger.info({ alerts: alerts.length, ids: alerts.slice(0, 10).map((a) => a.alertId) }, 'alerts emitted');
    } catch (err) {
      // The detector counted records that are not saved: start again from the store so a retry counts them once.
      this.detector = this.newDetector();
      this.restore();
      throw err;
    }
    this.o.metrics.skipped.inc(skipped);
    this.o.metrics.keys.set(this.detector.size);
    this.o.metrics.watermark.set(this.detector.watermark);
    this.o.metrics.late.inc(this.detector.stats.late - this.lastLate);
    this.o.metrics.evicted.inc(this.detector.stats.evicted - this.lastEvicted);
    this.lastLate = this.detector.stats.late;
    this.lastEvicted = this.detector.stats.evicted;
  }

  /** Not ready while the group has other members: the alerts it gives then are wrong, by omission. */
  isReady(): boolean {
    return this.sharedWith === undefined;
  }

  whyNotReady(): string | undefined {
    return this.sharedWith === undefined ? undefined : `${SHARED} (members: ${this.sharedWith})`;
  }

  async close(): Promise<void> {
    clearInterval(this.groupTimer);
    await this.o.output.close();
    await this.o.offsets.close?.();
    this.store?.close();
    this.store = undefined;
  }

  /**
   * Tells the detector which partitions of the topic still have records to read. Asked from the broker when a
   * partition looks read to its end by the last answer (or the last answer is missing): while a backlog is read
   * no partition does, so a backlog costs no extra requests. The last answer is trusted for END_OFFSETS_REFRESH_MS,
   * unless the batch holds a record at or past a partition's end in it: then records came after it was given, on
   * other partitions too maybe (a relay draining a backlog writes to all of them), and a partition it shows read
   * to its end must not let the watermark run past what that partition still holds. A partition never read by
   * this store but committed by the group (a store started afresh) counts from the committed offset: what lies
   * before it will not come.
   */
  private async markPartitions(topic: string, touched: Map<string, PartitionCheckpoint>): Promise<void> {
    const next = (p: number) => {
      const pk = `${topic}:${p}`;
      const own = (touched.get(pk) ?? this.progress.get(pk))?.nextOffset ?? 0n;
      const committed = cached?.committed.get(p) ?? 0n;
      return own > committed ? own : committed;
    };
    let cached = this.ends.get(topic);
    const ask =
      !cached ||
      [...cached.ends].some(([p, end]) => (touched.get(`${topic}:${p}`)?.nextOffset ?? 0n) > end) ||
      (Date.now() - cached.at >= END_OFFSETS_REFRESH_MS && [...cached.ends].some(([p, end]) => next(p) >= end));
    if (ask) {
      const [ends, committed] = await Promise.all([this.o.offsets.endOffsets(topic), this.o.offsets.committedOffsets(topic)]);
      cached = { at: Date.now(), ends, committed };
      this.ends.set(topic, cached);
    }
    for (const [p, end] of cached!.ends) this.detector.partitionState(`${topic}:${p}`, next(p) >= end);
  }

  /**
   * The rules count subjects whose records are spread over every partition, so the detector must read them all:
   * a second member of its group (a second replica) takes some partitions, and each member then counts part of
   * every subject's records and misses alerts. Counted every `groupCheckMs`; while there are others, the sink is
   * not ready and says why once. An unanswered look changes nothing.
   */
  async checkGroup(): Promise<void> {
    let members: GroupMember[];
    try {
      members = await this.o.offsets.groupMembers();
    } catch (err) {
      this.o.logger.warn({ err }, 'could not count the members of the consumer group; looking again later');
      return;
    }
    this.o.metrics.members.set(members.length);
    const before = this.sharedWith;
    this.sharedWith = members.length > 1 ? members.map((m) => `${m.clientId}@${m.clientHost}`).join(', ') : undefined;
    if (this.sharedWith !== undefined && this.sharedWith !== before) {
      this.o.logger.error({ members: members.length, who: this.sharedWith }, `the consumer group has ${members.length} members: ${SHARED}`);
    } else if (this.sharedWith === undefined && before !== undefined) {
      this.o.logger.info({ members: members.length }, 'the consumer group has one member again; ready');
    }
  }

  private newDetector(): Detector {
    this.lastLate = 0;
    this.lastEvicted = 0;
    return new Detector(this.o.rules, this.o.limits, new Set(this.o.ignoredActors));
  }

  private restore(): void {
    const store = this.store!;
    for (const [key, entry] of store.entries()) this.detector.restore(key, entry);
    this.progress = store.progress();
    for (const [pk, cp] of this.progress) this.detector.restorePartition(pk, { maxTime: cp.maxTime });
    // Entries of rules since removed from the file: gone from the store too.
    store.save(this.detector.takeChanges(), new Map());
  }
}
