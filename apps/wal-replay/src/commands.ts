/**
 * The three commands. Each reads a bounded range of a topic, reports progress, and keeps a checkpoint in
 * the state file after every applied batch, so an interrupted run started again with the same arguments
 * continues where it stopped (what it applies twice is harmless: the transition is idempotent).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KafkaClient } from '@pipeline/kafka';
import { CheckpointFile, fromOffsets, toOffsets, type Checkpoint } from './checkpoint';
import { CdcSnapshot, stateKey } from './cdc-snapshot';
import { readIcebergTable } from '@pipeline/iceberg';
import type { CdcState } from '@pipeline/events';
import { checkConsistency, type CheckReport } from './consistency-check';
import { CoreClient, type MutationItem, type SchemaDump } from '@pipeline/core-api';
import { CoreSink, emptyCounters, type ApplyCounters } from './core.sink';
import { stateToMutations } from './mutation-builder';
import { loadSchema } from './schema-source';
import { readRange } from './topic-reader';
import type { Config } from './config';

export interface Deps {
  cfg: Config;
  kafka: KafkaClient;
  logger: Logger;
}

const targetOf = (cfg: Config): CoreClient => {
  if (!cfg.TARGET_URL) throw new Error('TARGET_URL (--target-url) is required');
  return new CoreClient({ baseUrl: cfg.TARGET_URL, actor: cfg.ACTOR, token: cfg.API_TOKEN });
};
const stateFileOf = (cfg: Config) => new CheckpointFile(cfg.STATE_FILE ?? `.data/wal-replay/${cfg.command}.state.json`);

/** Logs progress at most every PROGRESS_INTERVAL_MS. */
function progress(logger: Logger, everyMs: number) {
  let last = 0;
  return (msg: string, data: Record<string, unknown>, force = false) => {
    const now = Date.now();
    if (!force && now - last < everyMs) return;
    last = now;
    logger.info(data, msg);
  };
}

async function prepareTarget(deps: Deps, target: CoreClient): Promise<{ schema: SchemaDump; sink: CoreSink }> {
  const { cfg, logger } = deps;
  const schema = await loadSchema({ sourceUrl: cfg.SOURCE_URL, schemaFile: cfg.SCHEMA_FILE, actor: cfg.ACTOR, token: cfg.API_TOKEN });
  const { created } = await target.applySchema(schema);
  logger.info({ created }, `schema: ${schema.databases.length} database(s), ${schema.tables.length} table(s), ${schema.aliases.length} alias(es) on the target`);
  const sink = new CoreSink(target, { maxBatch: cfg.BATCH_SIZE, retries: cfg.RETRIES, retryBaseMs: cfg.RETRY_BASE_MS }, logger.child({ component: 'core-sink' }));
  for (const t of schema.tables) sink.multi.set(`${t.database}.${t.table}`, t.type === 'MULTI_EDGE');
  return { schema, sink };
}

/** Replays the WAL range of the checkpoint's current phase into the sink, checkpointing each batch. */
async function replayWal(deps: Deps, file: CheckpointFile, cp: Checkpoint, sink: CoreSink, fromTime: number | undefined): Promise<void> {
  const { cfg, kafka, logger } = deps;
  const phase = cp.phase;
  const positions = fromOffsets(cp.positions[phase]);
  const ends = fromOffsets(cp.ends[phase]);
  const reached = new Set<number>(((cp.data[`${phase}.timeReached`] as number[] | undefined) ?? []));
  const total = [...ends].reduce((s, [p, e]) => s + Number(e - (positions.get(p) ?? 0n)), 0);
  const report = progress(logger, cfg.PROGRESS_INTERVAL_MS);
  const started = Date.now();
  const c = sink.counters;
  await readRange(
    kafka,
    { topic: cfg.WAL_TOPIC, groupId: `${cp.groupId}-${randomUUID().slice(0, 8)}`, from: positions, ends, ...(fromTime !== undefined ? { fromTime, timeReached: reached } : {}) },
    async (partition, messages, next, timeReached) => {
      await sink.write(messages);
      positions.set(partition, next);
      if (timeReached) reached.add(partition);
      cp.positions[phase] = toOffsets(positions);
      cp.data[`${phase}.timeReached`] = [...reached];
      Object.assign(cp.counters, c);
      file.save(cp);
      const left = [...ends].reduce((s, [p, e]) => s + Math.max(0, Number(e - (positions.get(p) ?? 0n))), 0);
      const secs = (Date.now() - started) / 1000;
      report('replaying WAL', { phase, read: c.read, applied: c.applied, skippedSys: c.system, rejected: c.rejected, offsetsLeft: left, ofOffsets: total, recordsPerSec: Math.round(c.applied / Math.max(secs, 0.001)) });
    },
    logger,
  );
}

async function startOffsets(deps: Deps, topic: string): Promise<Map<number, bigint>> {
  const admin = await deps.kafka.admin();
  try {
    return await admin.endOffsets(topic);
  } finally {
    await admin.close();
  }
}

function fresh(command: string, fingerprint: string): Checkpoint {
  return { command, fingerprint, groupId: `wal-replay-${command}-${randomUUID()}`, phase: '', positions: {}, ends: {}, counters: {}, data: {}, done: false, updatedAt: '' };
}

export async function rebuild(deps: Deps): Promise<ApplyCounters & { seconds: number; recordsPerSec: number }> {
  const { cfg, logger } = deps;
  const target = targetOf(cfg);
  const file = stateFileOf(cfg);
  const fingerprint = JSON.stringify({ wal: cfg.WAL_TOPIC, target: cfg.TARGET_URL, offset: cfg.FROM_OFFSET ? (cfg.FROM_OFFSET.all !== undefined ? String(cfg.FROM_OFFSET.all) : JSON.stringify([...(cfg.FROM_OFFSET.per ?? [])].map(([p, o]) => [p, String(o)]))) : null, time: cfg.FROM_TIME ?? null });
  const { sink } = await prepareTarget(deps, target);
  let cp = file.load('rebuild', fingerprint);
  if (cp) {
    logger.info({ stateFile: file.path, positions: cp.positions.wal }, 'resuming from the checkpoint');
    Object.assign(sink.counters, cp.counters);
  } else {
    cp = fresh('rebuild', fingerprint);
    cp.phase = 'wal';
    const ends = await startOffsets(deps, cfg.WAL_TOPIC);
    const from = new Map<number, bigint>();
    for (const p of ends.keys()) {
      const o = cfg.FROM_OFFSET?.all ?? cfg.FROM_OFFSET?.per?.get(p) ?? 0n;
      from.set(p, o);
    }
    cp.ends.wal = toOffsets(ends);
    cp.positions.wal = toOffsets(from);
    file.save(cp);
  }
  const started = Date.now();
  await replayWal(deps, file, cp, sink, cfg.FROM_TIME);
  cp.done = true;
  Object.assign(cp.counters, sink.counters);
  file.save(cp);
  const seconds = (Date.now() - started) / 1000;
  const recordsPerSec = Math.round(sink.counters.applied / Math.max(seconds, 0.001));
  logger.info({ ...sink.counters, seconds, recordsPerSec }, 'rebuild done');
  return { ...sink.counters, seconds, recordsPerSec };
}

/** Reads the CDC topic up to its current end and folds it (optionally only records committed up to `until`). */
export async function readSnapshot(deps: Deps, groupId: string, until?: number): Promise<CdcSnapshot> {
  const { cfg, kafka, logger } = deps;
  const snapshot = new CdcSnapshot(until);
  const ends = await startOffsets(deps, cfg.CDC_TOPIC);
  const report = progress(logger, cfg.PROGRESS_INTERVAL_MS);
  await readRange(
    kafka,
    { topic: cfg.CDC_TOPIC, groupId, from: new Map(), ends },
    async (_p, messages) => {
      for (const m of messages) if (m.value) snapshot.add(m.value);
      report('reading CDC', { records: snapshot.records, tables: snapshot.tables.size });
    },
    logger,
  );
  logger.info({ records: snapshot.records, tables: snapshot.tables.size, undecodable: snapshot.skipped, historyRestarts: snapshot.restarts, cut: new Date(snapshot.cut || 0).toISOString() }, 'CDC state folded');
  return snapshot;
}

export interface MigrateResult {
  loadedKeys: number;
  loadItems: number;
  approximated: { table: string; key: string; why: string[] }[];
  cut: number;
  walFrom: number;
  wal: ApplyCounters;
}

interface SnapshotTable {
  database: string;
  table: string;
  multi: boolean;
  states: CdcState[];
}

/**
 * The snapshot to load and its cut. From CDC: the latest after per key, cut = SNAPSHOT_UNTIL or the newest
 * processedAt folded. From the snapshotter's Iceberg tables: their current rows, cut = the oldest of the
 * tables' newest changes (a table committed less recently must not leave a gap before the WAL replay).
 */
async function snapshotTables(deps: Deps, schema: SchemaDump, groupId: string): Promise<{ tables: SnapshotTable[]; cut: number }> {
  const { cfg, logger } = deps;
  if (cfg.SNAPSHOT_SOURCE === 'cdc') {
    const snapshot = await readSnapshot(deps, groupId, cfg.SNAPSHOT_UNTIL);
    const tables = [...snapshot.tables.values()].map((t) => ({ database: t.database, table: t.table, multi: t.multi, states: [...t.keys.values()].map((k) => k.state) }));
    return { tables, cut: cfg.SNAPSHOT_UNTIL ?? snapshot.cut };
  }
  const tables: SnapshotTable[] = [];
  let newestCut = Number.POSITIVE_INFINITY;
  const consumed: Record<string, number>[] = [];
  for (const def of schema.tables) {
    const multi = def.type === 'MULTI_EDGE';
    const read = await readIcebergTable(cfg.ICEBERG_WAREHOUSE, def.database!, def.table, multi, def.schema.properties.map((p) => p.name));
    if (!read) continue;
    tables.push({ database: def.database!, table: def.table, multi, states: read.states });
    if (read.newestChange > 0) newestCut = Math.min(newestCut, read.newestChange);
    consumed.push(read.offsets);
    logger.info({ table: `${def.database}.${def.table}`, rows: read.states.length, offsets: read.offsets }, 'Iceberg table read');
  }
  const offsetCut = await cutFromOffsets(deps, consumed);
  const cut = offsetCut ?? newestCut;
  if (!Number.isFinite(cut)) throw new Error(`no snapshotter Iceberg table with rows under ${cfg.ICEBERG_WAREHOUSE}`);
  logger.info({ cut: new Date(cut).toISOString(), from: offsetCut !== undefined ? 'CDC offsets in the snapshot summaries' : 'newest changes' }, 'Iceberg snapshot cut');
  return { tables, cut };
}

/**
 * The exact cut of snapshots that record the CDC offsets they consumed: a table holds every CDC record of a
 * partition below its next offset, so the processedAt of the record just below it bounds what is in; the
 * oldest of these over tables and partitions is the cut (CDC records of a partition are in commit order).
 * Undefined when no summary carries offsets of CDC_TOPIC.
 */
async function cutFromOffsets(deps: Deps, consumed: Record<string, number>[]): Promise<number | undefined> {
  const { cfg } = deps;
  const wanted = new Map<number, Set<bigint>>();
  for (const offsets of consumed) {
    for (const [tp, next] of Object.entries(offsets)) {
      const i = tp.lastIndexOf(':');
      if (tp.slice(0, i) !== cfg.CDC_TOPIC || next <= 0) continue;
      const p = Number(tp.slice(i + 1));
      wanted.set(p, (wanted.get(p) ?? new Set()).add(BigInt(next - 1)));
    }
  }
  if (wanted.size === 0) return undefined;
  const from = new Map([...wanted].map(([p, o]) => [p, [...o].reduce((a, b) => (b < a ? b : a))]));
  const ends = new Map([...wanted].map(([p, o]) => [p, [...o].reduce((a, b) => (b > a ? b : a)) + 1n]));
  let cut = Number.POSITIVE_INFINITY;
  await readRange(
    deps.kafka,
    { topic: cfg.CDC_TOPIC, groupId: `wal-replay-cut-${randomUUID()}`, from, ends },
    async (p, messages) => {
      for (const m of messages) {
        if (!wanted.get(p)?.has(m.offset) || !m.value) continue;
        const at = (JSON.parse(m.value.toString('utf8')) as { processedAt?: number; ts?: number }).processedAt ?? m.timestamp;
        cut = Math.min(cut, at);
      }
    },
    deps.logger,
  );
  return Number.isFinite(cut) ? cut : undefined;
}

export async function migrate(deps: Deps): Promise<MigrateResult> {
  const { cfg, logger } = deps;
  const target = targetOf(cfg);
  const file = stateFileOf(cfg);
  const fingerprint = JSON.stringify({ wal: cfg.WAL_TOPIC, cdc: cfg.CDC_TOPIC, target: cfg.TARGET_URL, until: cfg.SNAPSHOT_UNTIL ?? null, overlap: cfg.OVERLAP_MS, source: cfg.SNAPSHOT_SOURCE });
  const { schema, sink } = await prepareTarget(deps, target);
  let cp = file.load('migrate', fingerprint);
  const result: MigrateResult = { loadedKeys: 0, loadItems: 0, approximated: [], cut: 0, walFrom: 0, wal: emptyCounters() };
  if (!cp || cp.phase !== 'wal') {
    // The snapshot phase is not checkpointed mid-way: folding CDC is cheap, and loading a state twice is harmless.
    cp = fresh('migrate', fingerprint);
    const { tables, cut } = await snapshotTables(deps, schema, `${cp.groupId}-cdc`);
    const report = progress(logger, cfg.PROGRESS_INTERVAL_MS);
    for (const t of tables) {
      const def = schema.tables.find((x) => x.database === t.database && x.table === t.table);
      if (!def) throw new Error(`table ${t.database}.${t.table} is in the snapshot but not in the schema`);
      const fields = [...(t.multi ? [{ name: '_source', type: def.schema.source.type, nullable: false }, { name: '_target', type: def.schema.target.type, nullable: false }] : []), ...def.schema.properties];
      let pending: MutationItem[] = [];
      const flush = async () => {
        if (pending.length) await sink.send(t.database, t.table, t.multi, pending);
        pending = [];
      };
      for (const state of t.states) {
        const load = stateToMutations(state, fields, t.multi);
        if (load.approximations.length) result.approximated.push({ table: `${t.database}.${t.table}`, key: stateKey(state), why: load.approximations });
        // A key's items stay in one request, so the core folds them together in version order.
        if (pending.length + load.items.length > cfg.BATCH_SIZE) await flush();
        pending.push(...load.items);
        result.loadedKeys++;
        result.loadItems += load.items.length;
        report('loading snapshot', { table: `${t.database}.${t.table}`, keys: result.loadedKeys, items: result.loadItems });
      }
      await flush();
    }
    logger.info({ keys: result.loadedKeys, items: result.loadItems, approximated: result.approximated.length }, 'snapshot loaded');
    cp.phase = 'wal';
    cp.data.cut = cut;
    cp.data.loadedKeys = result.loadedKeys;
    cp.data.loadItems = result.loadItems;
    cp.data.approximated = result.approximated;
    const ends = await startOffsets(deps, cfg.WAL_TOPIC);
    cp.ends.wal = toOffsets(ends);
    cp.positions.wal = toOffsets(new Map([...ends.keys()].map((p) => [p, 0n])));
    file.save(cp);
  } else {
    logger.info({ stateFile: file.path }, 'snapshot already loaded; resuming the WAL replay from the checkpoint');
    Object.assign(sink.counters, cp.counters);
  }
  result.cut = cp.data.cut as number;
  result.loadedKeys = cp.data.loadedKeys as number;
  result.loadItems = cp.data.loadItems as number;
  result.approximated = cp.data.approximated as MigrateResult['approximated'];
  result.walFrom = result.cut - cfg.OVERLAP_MS;
  const walCounters = emptyCounters();
  const walSink = new CoreSink(target, { maxBatch: cfg.BATCH_SIZE, retries: cfg.RETRIES, retryBaseMs: cfg.RETRY_BASE_MS }, logger.child({ component: 'core-sink' }), walCounters);
  for (const [k, v] of sink.multi) walSink.multi.set(k, v);
  if (cp.counters.read) Object.assign(walCounters, cp.counters);
  logger.info({ cut: new Date(result.cut).toISOString(), walFrom: new Date(result.walFrom).toISOString() }, 'replaying the WAL from shortly before the snapshot cut');
  await replayWal(deps, file, cp, walSink, result.walFrom);
  cp.done = true;
  file.save(cp);
  result.wal = walCounters;
  logger.info({ ...walCounters }, 'migrate done');
  return result;
}

export async function check(deps: Deps): Promise<CheckReport> {
  const { cfg, logger } = deps;
  const target = targetOf(cfg);
  const snapshot = await readSnapshot(deps, `wal-replay-check-${randomUUID()}`);
  const schema = await target.schema();
  const report = await checkConsistency(target, snapshot, schema.tables, (msg) => logger.info(msg));
  return report;
}
