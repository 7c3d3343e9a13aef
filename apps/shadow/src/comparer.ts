/**
 * Compares the touched keys of both cores, continuously. Every `intervalMs` a round takes the keys that have
 * rested `settleMs` since their last write, reads them on the primary and on the target the same way (edges
 * with `edges/get`, multi-edges with `multi-edges/ids`, counts with `edges/counts`) and compares what a reader
 * sees. A key that differs is read again `settleMs` later (the primary may hold a write shadow has not mirrored
 * yet); after `settleRounds` failures in a row it is divergent: kept with both sides in the report, re-read
 * every round, and cleared as soon as both cores agree again. Metrics and the report file follow every round.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CoreClient, Endpoint } from '@pipeline/core-api';
import { keyId, normalEdge, sameObserved, type KeyRef, type Observed } from './keys';
import { PendingKeys, type PendingEntry } from './pending';

export interface ComparerOptions {
  settleMs: number;
  settleRounds: number;
  intervalMs: number;
  batch: number;
  maxPending: number;
  maxDivergent: number;
  /** Where the JSON report is written after every round; none when absent. */
  reportFile?: string | undefined;
}

export interface DivergentKey {
  key: string;
  ref: KeyRef;
  primary: Observed;
  target: Observed;
  since: string;
  lastChecked: string;
}

export interface ShadowReport {
  generatedAt: string;
  /** Seconds between the newest applied WAL record's processedAt and now (null before the first). */
  lagSeconds: number | null;
  pending: number;
  compared: { equal: number; differs: number };
  droppedKeys: number;
  divergentCount: number;
  divergent: DivergentKey[];
}

/** Keys per read request: the core's get and counts take lists in the query string. */
const PER_REQUEST = 100;

export class Comparer {
  readonly pending: PendingKeys;
  private readonly divergent = new Map<string, DivergentKey>();
  private divergentOverflow = 0;
  private equal = 0;
  private differs = 0;
  private newestProcessedAt: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly m;

  constructor(
    private readonly primary: CoreClient,
    private readonly target: CoreClient,
    private readonly o: ComparerOptions,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.pending = new PendingKeys(o.maxPending);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.m = {
      compared: new Counter({ name: 'shadow_compared_total', help: 'Key comparisons between primary and target, by result', labelNames: ['result'], registers: [registry] }),
      errors: new Counter({ name: 'shadow_compare_errors_total', help: 'Comparison reads that failed (the keys stay pending)', registers: [registry] }),
      dropped: new Counter({ name: 'shadow_keys_dropped_total', help: 'Touched keys not compared because MAX_PENDING_KEYS keys were waiting', registers: [registry] }),
      declared: new Counter({ name: 'shadow_divergences_total', help: 'Keys declared divergent (after SETTLE_ROUNDS failed comparisons)', registers: [registry] }),
    };
    new Gauge({
      name: 'shadow_divergent_keys',
      help: 'Keys whose states differ between primary and target right now',
      registers: [registry],
      collect() {
        this.set(self.divergent.size + self.divergentOverflow);
      },
    });
    new Gauge({
      name: 'shadow_pending_keys',
      help: 'Touched keys waiting for comparison',
      registers: [registry],
      collect() {
        this.set(self.pending.size);
      },
    });
    new Gauge({
      name: 'shadow_lag_seconds',
      help: 'Now minus processedAt of the newest WAL record mirrored into the target',
      registers: [registry],
      collect() {
        const lag = self.lagSeconds();
        if (lag !== null) this.set(lag);
      },
    });
  }

  /** Records mirrored into the target: their keys become due after the settle delay. */
  touched(refs: KeyRef[], newestProcessedAt: number | null, now = Date.now()): void {
    for (const r of refs) if (!this.pending.touch(r, now, this.o.settleMs)) this.m.dropped.inc();
    if (newestProcessedAt !== null && (this.newestProcessedAt === null || newestProcessedAt > this.newestProcessedAt)) this.newestProcessedAt = newestProcessedAt;
  }

  lagSeconds(now = Date.now()): number | null {
    return this.newestProcessedAt === null ? null : Math.max(0, (now - this.newestProcessedAt) / 1000);
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.round()
        .catch((err: unknown) => this.logger.error({ err }, 'comparison round failed'))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs);
        });
    };
    this.timer = setTimeout(tick, this.o.intervalMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.writeReport();
  }

  /** One comparison round: the due pending keys, and every divergent key again. */
  async round(now = Date.now()): Promise<void> {
    const due = this.pending.due(now, this.o.batch);
    const again = [...this.divergent.values()].slice(0, this.o.batch);
    const refs = [...due.map((e) => e.ref), ...again.map((d) => d.ref)];
    if (refs.length > 0) {
      let sides: [Map<string, Observed>, Map<string, Observed>];
      try {
        sides = await Promise.all([observe(this.primary, refs), observe(this.target, refs)]);
      } catch (err) {
        this.m.errors.inc();
        this.logger.warn({ err: String(err), keys: refs.length }, 'could not read both cores; the keys stay pending');
        for (const e of due) this.pending.retry(e, now, this.o.settleMs, false);
        await this.writeReport();
        return;
      }
      const [p, t] = sides;
      const at = new Date(now).toISOString();
      for (const e of due) this.judgePending(e, p.get(e.id)!, t.get(e.id)!, now, at);
      const judged = new Set(due.map((e) => e.id));
      for (const d of again) {
        const id = d.key;
        if (judged.has(id)) continue;
        const pv = p.get(id)!;
        const tv = t.get(id)!;
        if (sameObserved(pv, tv)) {
          this.divergent.delete(id);
          this.logger.info({ key: id }, 'divergent key agrees again');
        } else this.divergent.set(id, { ...d, primary: pv, target: tv, lastChecked: at });
      }
    }
    await this.writeReport();
  }

  private judgePending(e: PendingEntry, pv: Observed, tv: Observed, now: number, at: string): void {
    if (sameObserved(pv, tv)) {
      this.equal++;
      this.m.compared.inc({ result: 'equal' });
      this.pending.settle(e);
      if (this.divergent.delete(e.id)) this.logger.info({ key: e.id }, 'divergent key agrees again');
      return;
    }
    this.differs++;
    this.m.compared.inc({ result: 'differs' });
    if (e.failures + 1 < this.o.settleRounds) {
      this.pending.retry(e, now, this.o.settleMs, true);
      return;
    }
    this.pending.settle(e);
    const prev = this.divergent.get(e.id);
    if (!prev) {
      this.m.declared.inc();
      this.logger.warn({ key: e.id, primary: pv, target: tv }, 'divergent key');
      if (this.divergent.size >= this.o.maxDivergent) {
        this.divergentOverflow++;
        return;
      }
    }
    this.divergent.set(e.id, { key: e.id, ref: e.ref, primary: pv, target: tv, since: prev?.since ?? at, lastChecked: at });
  }

  report(now = Date.now()): ShadowReport {
    return {
      generatedAt: new Date(now).toISOString(),
      lagSeconds: this.lagSeconds(now),
      pending: this.pending.size,
      compared: { equal: this.equal, differs: this.differs },
      droppedKeys: this.pending.dropped,
      divergentCount: this.divergent.size + this.divergentOverflow,
      divergent: [...this.divergent.values()],
    };
  }

  /** Written to a temporary file and renamed, so a reader never sees half a report. */
  private async writeReport(): Promise<void> {
    const file = this.o.reportFile;
    if (!file) return;
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, JSON.stringify(this.report(), null, 2));
      await rename(`${file}.tmp`, file);
    } catch (err) {
      this.logger.warn({ err: String(err), file }, 'could not write the report');
    }
  }
}

/** What one core answers for each key, read in as few requests as the API allows. */
export async function observe(core: CoreClient, refs: KeyRef[]): Promise<Map<string, Observed>> {
  const out = new Map<string, Observed>();
  const groups = new Map<string, { ref: KeyRef; ids: string[]; args: Endpoint[] }>();
  for (const ref of refs) {
    const id = keyId(ref);
    if (out.has(id)) continue;
    out.set(id, ref.kind === 'count' ? { count: 0 } : { edge: null });
    const g =
      ref.kind === 'edge'
        ? `edge ${ref.db} ${ref.table} ${JSON.stringify(ref.source)}`
        : ref.kind === 'multi'
          ? `multi ${ref.db} ${ref.table}`
          : `count ${ref.db} ${ref.table} ${ref.direction}`;
    const entry = groups.get(g) ?? { ref, ids: [], args: [] };
    entry.ids.push(id);
    entry.args.push(ref.kind === 'edge' ? ref.target : ref.kind === 'multi' ? ref.id : ref.start);
    groups.set(g, entry);
  }
  for (const { ref, args } of groups.values()) {
    for (let i = 0; i < args.length; i += PER_REQUEST) {
      const chunk = args.slice(i, i + PER_REQUEST);
      if (ref.kind === 'edge') {
        for (const e of await core.get(ref.db, ref.table, ref.source, chunk)) {
          out.set(keyId({ ...ref, target: e.target }), { edge: normalEdge(e) });
        }
      } else if (ref.kind === 'multi') {
        for (const e of await core.multiEdges(ref.db, ref.table, chunk)) {
          if (e.id !== undefined) out.set(keyId({ ...ref, id: e.id }), { edge: normalEdge(e) });
        }
      } else {
        const counts = await core.counts(ref.db, ref.table, ref.direction, chunk);
        // Keyed as the core spelled the start: a LONG start comes back as a number.
        const byStart = new Map([...counts].map(([k, n]) => [String(JSON.parse(k)), n]));
        for (const start of chunk) {
          const n = byStart.get(String(start));
          if (n === undefined) throw new Error(`${core.baseUrl} answered no count for ${ref.db}.${ref.table} ${ref.direction} ${String(start)}`);
          out.set(keyId({ ...ref, start }), { count: n });
        }
      }
    }
  }
  return out;
}
