/**
 * The consistency check (docs/model.md, "What the consumers are for"): the core's state through its REST API
 * against the state accumulated from CDC, and the core's counts and indexes against that state.
 * Every mismatch names its table and key (or start and index), so an operator can repair that one.
 */
import { stringifyJson, type CdcState } from '@pipeline/events';
import type { CoreClient, EdgeView, Endpoint, TableBody } from '@pipeline/core-api';
import { compareIndexRows, multiEdgeKeyOf, storageKeyOf, type IndexedRow } from '@pipeline/edge-model';
import { countKey, type CdcSnapshot, type TableSnapshot } from './cdc-snapshot';
import { canonicalJson } from './edge-view';

export type MismatchKind = 'edge-missing' | 'edge-unexpected' | 'edge-differs' | 'count' | 'count-accumulated' | 'index-missing' | 'index-unexpected' | 'index-order' | 'table-missing';

export interface Mismatch {
  kind: MismatchKind;
  table: string;
  /** The edge key (source->target, or id) or the start/direction/index the mismatch is about. */
  key: string;
  detail: string;
}

export interface CheckReport {
  tables: number;
  edges: number;
  starts: number;
  scans: number;
  mismatches: Mismatch[];
}

const CHUNK = 100;
const chunks = <T>(xs: T[], n = CHUNK): T[][] => Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));
const ENDS = new Set(['_source', '_target']);

/** The view the core's queries give of a stored state (query-service.ts `view`). */
export function viewOf(s: CdcState): Pick<EdgeView, 'version' | 'source' | 'target' | 'properties'> {
  const properties: Record<string, unknown> = {};
  for (const [k, c] of Object.entries(s.properties)) if (c.value !== null && c.value !== undefined && !ENDS.has(k)) properties[k] = c.value;
  return { version: s.version, source: s.source, target: s.target, properties };
}

const canon = canonicalJson;
const edgeName = (s: { source: unknown; target: unknown; edgeId?: unknown; id?: unknown }): string =>
  s.edgeId !== undefined || s.id !== undefined ? `id=${stringifyJson(s.edgeId ?? s.id)}` : `${stringifyJson(s.source)}->${stringifyJson(s.target)}`;
const storageKey = (s: { source: Endpoint; target: Endpoint; edgeId?: Endpoint; id?: Endpoint }): string => {
  const id = s.edgeId ?? s.id;
  return id !== undefined ? multiEdgeKeyOf(id) : storageKeyOf(s.source, s.target);
};

export async function checkConsistency(core: CoreClient, snapshot: CdcSnapshot, tables: TableBody[], onProgress?: (msg: string) => void): Promise<CheckReport> {
  const report: CheckReport = { tables: 0, edges: 0, starts: 0, scans: 0, mismatches: [] };
  for (const t of snapshot.tables.values()) {
    const id = `${t.database}.${t.table}`;
    const def = tables.find((x) => x.database === t.database && x.table === t.table);
    if (!def) {
      report.mismatches.push({ kind: 'table-missing', table: id, key: '-', detail: 'in CDC but not in the core schema' });
      continue;
    }
    report.tables++;
    await checkEdges(core, t, report);
    onProgress?.(`${id}: ${t.keys.size} keys compared`);
    await checkCountsAndIndexes(core, t, def, report);
    onProgress?.(`${id}: counts and ${def.indexes.length} index(es) compared`);
  }
  return report;
}

async function checkEdges(core: CoreClient, t: TableSnapshot, report: CheckReport): Promise<void> {
  const id = `${t.database}.${t.table}`;
  const states = [...t.keys.values()].map((k) => k.state);
  report.edges += states.length;
  const compare = (expected: CdcState, got: EdgeView | undefined) => {
    const key = edgeName(expected);
    if (!expected.active) {
      if (got) report.mismatches.push({ kind: 'edge-unexpected', table: id, key, detail: `deleted in CDC (deletedAt ${expected.deletedAt}) but the core returns it` });
      return;
    }
    if (!got) {
      report.mismatches.push({ kind: 'edge-missing', table: id, key, detail: `active in CDC (version ${expected.version}) but the core does not return it` });
      return;
    }
    const want = viewOf(expected);
    // The client's get/multiEdges already give the present properties only (presentProperties), as the CDC state holds them.
    const have = { version: got.version, source: got.source, target: got.target, properties: got.properties };
    if (canon(want) !== canon(have)) report.mismatches.push({ kind: 'edge-differs', table: id, key, detail: `core ${canon(have)} != CDC ${canon(want)}` });
  };
  if (t.multi) {
    for (const part of chunks(states)) {
      const got = new Map((await core.multiEdges(t.database, t.table, part.map((s) => s.edgeId!))).map((e) => [stringifyJson(e.id), e]));
      for (const s of part) compare(s, got.get(stringifyJson(s.edgeId)));
    }
    return;
  }
  const bySource = new Map<string, CdcState[]>();
  for (const s of states) bySource.set(stringifyJson(s.source), [...(bySource.get(stringifyJson(s.source)) ?? []), s]);
  for (const group of bySource.values()) {
    for (const part of chunks(group)) {
      const got = new Map((await core.get(t.database, t.table, part[0]!.source, part.map((s) => s.target))).map((e) => [stringifyJson(e.target), e]));
      for (const s of part) compare(s, got.get(stringifyJson(s.target)));
    }
  }
}

async function checkCountsAndIndexes(core: CoreClient, t: TableSnapshot, def: TableBody, report: CheckReport): Promise<void> {
  const id = `${t.database}.${t.table}`;
  const directions = def.direction === 'BOTH' ? (['OUT', 'IN'] as const) : ([def.direction] as const);
  for (const dir of directions) {
    // Expected from the state: the active edges under each start.
    const byStart = new Map<string, { start: Endpoint; edges: CdcState[] }>();
    const touch = (start: Endpoint) => {
      const k = stringifyJson(start);
      let e = byStart.get(k);
      if (!e) byStart.set(k, (e = { start, edges: [] }));
      return e;
    };
    for (const { state } of t.keys.values()) {
      const start = dir === 'OUT' ? state.source : state.target;
      // A multi-edge only ever UPDATEd has no endpoints (''): nothing is counted or indexed under it.
      if (t.multi && start === '' && !state.active) continue;
      const e = touch(start);
      if (state.active) e.edges.push(state);
    }
    report.starts += byStart.size;
    for (const part of chunks([...byStart.values()])) {
      const counts = await core.counts(t.database, t.table, dir, part.map((p) => p.start));
      for (const p of part) {
        const got = counts.get(stringifyJson(p.start)) ?? 0;
        const key = `${dir} start=${stringifyJson(p.start)}`;
        if (got !== p.edges.length) report.mismatches.push({ kind: 'count', table: id, key, detail: `core count ${got}, active edges in CDC state ${p.edges.length}` });
        if (!t.multi) {
          const acc = t.accumulated.get(countKey(dir, p.start)) ?? 0;
          if (acc !== p.edges.length) report.mismatches.push({ kind: 'count-accumulated', table: id, key, detail: `sum of CDC accumulators ${acc}, active edges in CDC state ${p.edges.length}` });
        }
      }
    }
    for (const idx of def.indexes) {
      const orders = idx.fields.map((f) => f.order);
      for (const p of byStart.values()) {
        report.scans++;
        const expected: IndexedRow[] = p.edges
          .map((s) => ({ key: storageKey(s), values: idx.fields.map((f) => s.properties[f.field]?.value ?? null) }))
          .sort((a, b) => compareIndexRows(a, b, orders));
        const scanned = await core.scanAll(t.database, t.table, idx.index, dir, p.start);
        const got = scanned.map((e) => storageKey(e));
        const where = `${idx.index} ${dir} start=${stringifyJson(p.start)}`;
        const want = expected.map((e) => e.key);
        const gotSet = new Set(got);
        const wantSet = new Set(want);
        for (const k of want) if (!gotSet.has(k)) report.mismatches.push({ kind: 'index-missing', table: id, key: `${where} edge ${k}`, detail: 'active edge absent from the index scan' });
        for (const k of got) if (!wantSet.has(k)) report.mismatches.push({ kind: 'index-unexpected', table: id, key: `${where} edge ${k}`, detail: 'scan returns an edge the CDC state does not hold active' });
        const common = want.filter((k) => gotSet.has(k));
        const gotCommon = got.filter((k) => wantSet.has(k));
        if (canon(common) !== canon(gotCommon)) report.mismatches.push({ kind: 'index-order', table: id, key: where, detail: `scan order ${canon(gotCommon)} != expected ${canon(common)}` });
      }
    }
  }
}
