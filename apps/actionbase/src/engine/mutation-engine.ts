import { ulidFactory } from '../ids';
import {
  classify,
  derivedChanges,
  foldEvents,
  statesEqual,
  type EdgeKey,
  type EdgeState,
  type Endpoint,
  type IndexEntry,
} from '@pipeline/edge-model';
import { encodeCdc, encodeWal, kafkaKey, type CdcRecord, type CdcState, type EdgeEventRecord, type RecordContext, type WalRecord } from '@pipeline/events';
import { transitionSchemaOf, type ResolvedTable } from '../catalog/catalog';
import type { MutationMode } from '../catalog/model';
import { ApiError, badRequest } from '../errors';
import type { RecordSink } from '../publish/record-sink';
import type { EdgeRow, EdgeStore, IndexRowWrite, KeyWrite } from '../storage/edge-store';
import { encodeSortKey } from '@pipeline/edge-model';
import { KeyLocks } from './key-locks';
import { LIMITS, SliceClock, SliceSizer, sortInSlices, yieldToEventLoop } from './limits';
import { prepareMutations, type PreparedItem } from './mutation-request';

/**
 * Stands for the commit sequence in a CDC record encoded before the commit. Random per process, so no
 * property value can imitate it; as a JSON key `"seq"` appears unescaped only as the record's own field.
 */
const SEQ_PLACEHOLDER = 1e15 + Math.floor(Math.random() * 8e15);
const SEQ_PLACEHOLDER_JSON = `"seq":${SEQ_PLACEHOLDER}`;

export interface RecordLimits {
  /** Largest encoded WAL record (from the WAL topic's max.message.bytes). */
  walRecordBytes: number;
  /** Largest encoded CDC record (from the CDC topic's max.message.bytes). */
  cdcRecordBytes: number;
}

export type ResultStatus = 'CREATED' | 'DELETED' | 'UPDATED' | 'IDLE' | 'QUEUED' | 'ERROR';

export interface MutationResult {
  source?: Endpoint;
  target?: Endpoint;
  id?: Endpoint;
  status: ResultStatus;
  /** Number of request items merged into this key. */
  count: number;
}

export interface MutationOptions {
  /** The `/sync` endpoints set SYNC; the plain endpoints leave it null. */
  requestMode: MutationMode | null;
  force: boolean;
  actor: string;
  requestId: string;
}

/** Keys read per statement while planning (then the slice clock decides whether to yield). */
const READ_KEYS = 50;

interface KeyGroup {
  key: string;
  items: PreparedItem[];
}

/**
 * The mutation flow of docs/model.md: validate, WAL (awaited), group by key, resolve the mode, and for
 * processed keys: lock, read, fold, write state + indexes + counts + CDC outbox in one transaction.
 */
export class MutationEngine {
  private readonly newId = ulidFactory();
  private readonly locks = new KeyLocks();
  /** Keys per commit: as many as fit in a slice of the event loop, learnt from the commits before. */
  private readonly commitKeys = new SliceSizer(64, 32, LIMITS.sliceItems);

  constructor(
    private readonly store: EdgeStore,
    private readonly sink: RecordSink,
    /** Told of each commit's CDC records (the relay, or the leader election that runs it). */
    private readonly relay: { notify(records?: number): void },
    private readonly cfg: { tenant: string; systemMode: MutationMode | null; recordLimits: RecordLimits; afterCommit?: () => void },
  ) {}

  async mutate(table: ResolvedTable, body: unknown, opts: MutationOptions): Promise<{ results: MutationResult[] }> {
    if (table.def.readOnly) throw new ApiError(403, 'READ_ONLY', `table ${table.id} is read-only`);
    const multi = table.def.kind === 'MULTI_EDGE';
    const items = await prepareMutations(body, table, () => this.newId());
    const clock = new SliceClock();
    if (multi) await this.fillMultiEdgeEnds(table, items);
    const context = this.contextOf(table, opts);

    // Mode resolution (docs/model.md step 4): force ? request : (system ?? request ?? table).
    const mode: MutationMode = opts.force && opts.requestMode ? opts.requestMode : (this.cfg.systemMode ?? opts.requestMode ?? table.def.mode);
    // Multi-edges are always processed synchronously.
    const queue = !multi && (mode === 'ASYNC' || mode === 'IGNORE');

    const { walRecordBytes } = this.cfg.recordLimits;
    const processedAt = Date.now();
    const walMode: WalRecord['mode'] = { table: table.def.mode, request: opts.requestMode, system: this.cfg.systemMode, force: opts.force, queue };
    // The event as the WAL and the CDC records carry it, made once per item and shared by both.
    const records: EdgeEventRecord[] = new Array(items.length);
    const wal: { key: string; value: string }[] = [];
    for (const it of items) {
      if (clock.due()) await clock.yield();
      const record = eventRecord(it, opts.requestId);
      records[it.index] = record;
      const value = encodeWal({ version: '3', type: 'e', processedAt, context, event: record, mode: walMode });
      const bytes = Buffer.byteLength(value);
      if (bytes > walRecordBytes)
        throw badRequest(
          `mutations[${it.index}].edge.properties`,
          `its WAL record would be ${bytes} bytes, over the ${walRecordBytes} bytes the WAL topic takes (max.message.bytes); send smaller properties`,
        );
      wal.push({ key: kafkaKey(it.source, it.target), value });
    }

    const groups = await groupByKey(items, clock);
    if (queue) {
      await this.publishWal(wal);
      return { results: await ordered(groups.map((g) => resultOf(g, 'QUEUED', multi))) };
    }

    // In key order from here on: a slice's reads and its commit then touch neighbouring rows (fewer
    // pages per commit), and the locks take the keys in that order anyway.
    const sorted = await sortInSlices(groups, (g) => g.key);
    const release = await this.locks.acquire(sorted.map((g) => g.key));
    const statuses = new Map<string, ResultStatus>();
    try {
      // Everything the commit will write is computed before the WAL, under the key locks, so that a
      // request whose CDC record could not be published is refused with no WAL record at all.
      const lockAt = Date.now();
      const planned: { group: KeyGroup; before: EdgeRow | null; write: KeyWrite }[] = [];
      for (let i = 0; i < sorted.length; i += READ_KEYS) {
        if (clock.due()) await clock.yield();
        const slice = sorted.slice(i, i + READ_KEYS);
        const rows = await this.store.getRows(table.id, slice.map((g) => g.key));
        for (const g of slice) {
          const before = rows.get(g.key) ?? null;
          planned.push({ group: g, before, write: this.processKey(table, g, before, context, lockAt, statuses, records) });
        }
      }
      await this.publishWal(wal);
      // Committed in slices of keys, each slice atomic (state, indexes, counts and CDC of its keys),
      // so that a 10,000-key request does not hold the event loop for one long transaction. A crash
      // between slices leaves the rest in the WAL, from which a replay applies it.
      for (let i = 0; i < planned.length; ) {
        if (i > 0) await yieldToEventLoop();
        const slice = planned.slice(i, (i += this.commitKeys.size));
        const cpu = process.cpuUsage();
        const read = new Map<string, EdgeRow>();
        for (const p of slice) if (p.before) read.set(p.group.key, p.before);
        const applied = this.store.applyMutations(
          table.id,
          slice.map((p) => p.group.key),
          (current) =>
            slice.map((p) => {
              const now = current.get(p.group.key) ?? null;
              // The locks make this the state read above; recompute should another writer ever share the store.
              return now === p.before || statesEqual(now?.state ?? null, p.before?.state ?? null)
                ? p.write
                : this.processKey(table, p.group, now, context, lockAt, statuses, records);
            }),
          read,
        );
        // Only the synchronous part holds the event loop (all of it with SQLite, little with PostgreSQL).
        // Sized on CPU time, not on the clock: on a starved machine the clock would shrink commits to a
        // few keys each, and their fixed cost (~1.5 ms of CPU per SQLite commit) would take over.
        const used = process.cpuUsage(cpu);
        this.commitKeys.observe(slice.length, (used.user + used.system) / 1000);
        const seqs = await applied;
        this.relay.notify(seqs.length);
      }
    } finally {
      release();
    }
    this.cfg.afterCommit?.();
    return { results: await ordered(groups.map((g) => resultOf(g, statuses.get(g.key) ?? 'ERROR', multi))) };
  }

  private async publishWal(wal: { key: string; value: string }[]): Promise<void> {
    try {
      await this.sink.publishWal(wal);
    } catch (err) {
      // Nothing was applied: the WAL is the source of truth for replay, so no WAL, no mutation.
      throw new ApiError(503, 'WAL_UNAVAILABLE', 'the WAL could not be written; nothing was applied, retry later', undefined, { cause: err });
    }
  }

  private processKey(
    table: ResolvedTable,
    group: KeyGroup,
    row: EdgeRow | null,
    context: RecordContext,
    lockAt: number,
    statuses: Map<string, ResultStatus>,
    records: readonly EdgeEventRecord[],
  ): KeyWrite {
    const first = group.items[0]!;
    const multi = table.def.kind === 'MULTI_EDGE';
    const before = row?.state ?? null;
    const fold = foldEvents(before, group.items.map((i) => i.event), transitionSchemaOf(table));
    const after = fold.state;
    const unchanged = statesEqual(before, after);
    const { status: changeStatus, accumulator } = classify(before, after);
    const status: ResultStatus = fold.rejected.length > 0 && fold.applied.length === 0 ? 'ERROR' : changeStatus;
    statuses.set(group.key, status);

    const edgeKey: EdgeKey = multi ? { id: first.id! } : { source: first.source, target: first.target };
    const derived = derivedChanges(before, after, edgeKey, table.shape);
    const ends = multi ? multiEdgeEnds(after ?? before, row) : { source: first.source, target: first.target };
    const message = fold.rejected.length ? fold.rejected.map((r) => r.error.message).join('; ') : null;
    // A multi-edge's endpoints can move on UPDATE: each state carries its own (docs/model.md, "Edges").
    const stateOf = (s: EdgeState | null): CdcState | null =>
      s && { ...(multi ? multiEdgeEnds(s, row) : ends), ...(multi ? { edgeId: first.id! } : {}), ...s };

    const write: KeyWrite = {
      row: after && { key: group.key, source: ends.source, target: ends.target, ...(multi ? { id: first.id! } : {}), state: after },
      counts: derived.counts,
      removeIndex: derived.removeIndex.map((e) => this.indexRow(table, e)),
      addIndex: derived.addIndex.map((e) => this.indexRow(table, e)),
      cdc: this.cdcOf(kafkaKey(ends.source, ends.target), first.index, {
        version: '3',
        type: 'e',
        processedAt: Date.now(),
        lockAt,
        seq: SEQ_PLACEHOLDER,
        status,
        accumulator,
        message,
        context,
        events: group.items.map((i) => records[i.index]!),
        before: stateOf(before),
        after: stateOf(unchanged ? before : after),
      }),
    };
    return write;
  }

  /**
   * Encodes the CDC record once, with a placeholder where the commit sequence goes, and refuses it now
   * when the CDC topic could not take it (a CDC record carries the events and both states: 3-4 times
   * its WAL records). The sequence is known only inside the commit; it replaces the placeholder there.
   */
  private cdcOf(key: string, itemIndex: number, record: CdcRecord): KeyWrite['cdc'] {
    const text = encodeCdc(record);
    // Held as bytes outside the JS heap until the commit: the CDC records of a batch (3-4 times its WAL)
    // live from here to their commit, and as strings every young-generation collection meanwhile copied
    // them (bench/README.md, health under load).
    const encoded = Buffer.from(text);
    const bytes = encoded.length;
    const limit = this.cfg.recordLimits.cdcRecordBytes;
    if (bytes > limit)
      throw badRequest(
        `mutations[${itemIndex}].edge.properties`,
        `the CDC record of this edge (its events and its state before and after) would be ${bytes} bytes, over the ${limit} bytes the CDC topic takes (max.message.bytes); send smaller properties`,
      );
    const at = encoded.indexOf(SEQ_PLACEHOLDER_JSON);
    if (at < 0) return { kafkaKey: key, build: (seq) => encodeCdc({ ...record, seq }) };
    const after = at + SEQ_PLACEHOLDER_JSON.length;
    return {
      kafkaKey: key,
      build: (seq) => `${encoded.toString('utf8', 0, at)}"seq":${seq}${encoded.toString('utf8', after)}`,
    };
  }

  /**
   * WAL records are keyed `_source:_target` (docs/records.md, "Kafka"), so that every record of one edge
   * lands in one partition. An UPDATE or DELETE may omit the endpoints: take them from an earlier
   * item of the same request, else from the stored row.
   */
  private async fillMultiEdgeEnds(table: ResolvedTable, items: PreparedItem[]): Promise<void> {
    const missing = items.filter((i) => i.endsMissing);
    if (missing.length === 0) return;
    const stored = await this.store.getRows(table.id, [...new Set(missing.map((i) => i.key))]);
    const known = new Map<string, { source: Endpoint; target: Endpoint }>();
    for (const it of items) {
      const prev = known.get(it.key) ?? stored.get(it.key);
      if (it.endsMissing && prev) {
        if (it.event.properties._source === undefined) it.source = prev.source;
        if (it.event.properties._target === undefined) it.target = prev.target;
      }
      known.set(it.key, { source: it.source, target: it.target });
    }
  }

  private indexRow(table: ResolvedTable, e: IndexEntry): IndexRowWrite {
    const spec = table.def.indexes.find((i) => i.name === e.index)!;
    return { index: e.index, direction: e.direction, start: e.start, sortKey: encodeSortKey(e.values, spec.fields.map((f) => f.order)) };
  }

  private contextOf(table: ResolvedTable, opts: MutationOptions): RecordContext {
    return {
      tenant: this.cfg.tenant,
      database: table.def.database,
      table: table.def.name,
      alias: table.alias,
      request: { actor: opts.actor, requestId: opts.requestId },
    };
  }
}

/** An item's event in the records' field order (EdgeEventSchema), which the encoders then take as it is. */
function eventRecord(it: PreparedItem, requestId: string): EdgeEventRecord {
  const e = it.event;
  return it.id !== undefined
    ? { id: e.id, requestId, type: e.type, version: e.version, source: it.source, target: it.target, edgeId: it.id, properties: e.properties }
    : { id: e.id, requestId, type: e.type, version: e.version, source: it.source, target: it.target, properties: e.properties };
}

async function groupByKey(items: PreparedItem[], clock: SliceClock): Promise<KeyGroup[]> {
  const groups = new Map<string, KeyGroup>();
  for (const it of items) {
    if (clock.due()) await clock.yield();
    const g = groups.get(it.key);
    if (g) g.items.push(it);
    else groups.set(it.key, { key: it.key, items: [it] });
  }
  return [...groups.values()];
}

/** One result per key, ordered as Actionbase orders them: by the text `source:target`, or by the id's text. */
function ordered(results: MutationResult[]): Promise<MutationResult[]> {
  return sortInSlices(results, (r) => (r.id !== undefined ? String(r.id) : `${String(r.source)}:${String(r.target)}`));
}

function resultOf(g: KeyGroup, status: ResultStatus, multi: boolean): MutationResult {
  const first = g.items[0]!;
  return multi
    ? { id: first.id!, status, count: g.items.length }
    : { source: first.source, target: first.target, status, count: g.items.length };
}

/** A multi-edge's endpoints are its `_source`/`_target` properties (docs/model.md, "Edges"). */
function multiEdgeEnds(state: EdgeState | null, row: EdgeRow | null): { source: Endpoint; target: Endpoint } {
  const s = state?.properties._source?.value;
  const t = state?.properties._target?.value;
  return {
    source: (s as Endpoint | null | undefined) ?? row?.source ?? '',
    target: (t as Endpoint | null | undefined) ?? row?.target ?? '',
  };
}
