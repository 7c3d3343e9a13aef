/**
 * Shared set-up of the abuse suite: a real core (child process) on fresh topics of the real Kafka,
 * a table with string and JSON properties, and a way to prove that a refused request changed nothing:
 * neither the state nor the WAL/CDC topics.
 */
import { expect } from '@jest/globals';
import { api, dataRecords, waitFor, type CoreProcess } from '@pipeline/testing';

export const DB = 'abuse';
export const TABLE = 'notes';
export const SENTINEL = 'sentinel';
export const base = (table = TABLE) => `/graph/v3/databases/${DB}/tables/${table}`;

/** POST/GET with any body text; the answer's body parsed when it is JSON. */
export async function raw(
  url: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * A table (string source and target, a LONG `n`, a STRING `note`, a JSON `doc`, an index on n). Sent
 * in Actionbase's documented form first, then in the core's earlier form.
 */
export async function createTable(url: string, table: string): Promise<void> {
  await api(url, 'POST', '/graph/v3/databases', { database: DB, comment: 'abuse suite' });
  const actionbaseForm = {
    table,
    schema: {
      type: 'EDGE',
      source: { type: 'string', comment: 'source' },
      target: { type: 'string', comment: 'target' },
      properties: [
        { name: 'n', type: 'long', nullable: true, comment: '' },
        { name: 'note', type: 'string', nullable: true, comment: '' },
        { name: 'doc', type: 'json', nullable: true, comment: '' },
      ],
      direction: 'BOTH',
      indexes: [{ index: 'by_n', fields: [{ field: 'n', order: 'ASC' }], comment: '' }],
      groups: [],
    },
    storage: `datastore://default/${table}`,
    mode: 'SYNC',
    comment: 'abuse suite',
  };
  const first = await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, actionbaseForm);
  if (first.status === 200 || first.status === 201) return;
  const earlierForm = {
    table,
    schema: {
      source: { type: 'STRING' },
      target: { type: 'STRING' },
      properties: [
        { name: 'n', type: 'LONG', nullable: true },
        { name: 'note', type: 'STRING', nullable: true },
        { name: 'doc', type: 'JSON', nullable: true },
      ],
    },
    direction: 'BOTH',
    indexes: [{ index: 'by_n', fields: [{ field: 'n', order: 'ASC' }] }],
    mode: 'SYNC',
  };
  const second = await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, earlierForm);
  if (second.status !== 200 && second.status !== 201) throw new Error(`create table ${table}: ${JSON.stringify(first.body)} / ${JSON.stringify(second.body)}`);
}

export const insert = (source: string, target: string, version: number, properties: Record<string, unknown> = {}) => ({
  type: 'INSERT',
  edge: { version, source, target, properties },
});

export interface Topics {
  bootstrap: string;
  wal: string;
  cdc: string;
}

export interface Snapshot {
  wal: number;
  cdc: number;
  state: unknown;
}

let sentinelVersion = 1;

/**
 * State and topic contents, after everything committed before the call has been relayed: a write to
 * the sentinel table goes through the same relay, so once its CDC record is on the topic, every
 * earlier one is too. Sentinel records are left out of the counts.
 */
export async function snapshot(core: CoreProcess, t: Topics): Promise<Snapshot> {
  const v = sentinelVersion++;
  // Retried while the shared broker is briefly away (503 WAL_UNAVAILABLE changes nothing).
  await waitFor(`the sentinel write (${core.output.slice(-1000)})`, async () => {
    const r = await api(core.url, 'POST', `${base(SENTINEL)}/edges`, { mutations: [insert('s', 's', v, { n: v })] });
    if (r.status !== 200 && r.status !== 503) throw new Error(`sentinel write: ${JSON.stringify(r.body)}`);
    return r.status === 200;
  }, 60_000);
  const notSentinel = (x: { value: any }) => x.value?.context?.table !== SENTINEL;
  const cdc = await waitFor('the sentinel CDC record', async () => {
    const recs = await dataRecords(t.bootstrap, t.cdc);
    return recs.some((x) => x.value?.context?.table === SENTINEL && x.value?.after?.version === v) && recs;
  });
  const wal = await dataRecords(t.bootstrap, t.wal);
  const [count, scan, countIn] = await Promise.all([
    api(core.url, 'GET', `${base()}/edges/count?start=a&direction=OUT`),
    api(core.url, 'GET', `${base()}/edges/scan/by_n?start=a&direction=OUT&limit=100`),
    api(core.url, 'GET', `${base()}/edges/count?start=b&direction=IN`),
  ]);
  return {
    wal: wal.filter(notSentinel).length,
    cdc: cdc.filter(notSentinel).length,
    state: { count: count.body.count, countIn: countIn.body.count, edges: scan.body.edges },
  };
}

/** The request was refused with `status`, and nothing changed: same state, no WAL or CDC record. */
export async function expectRefusedAndUnchanged(
  core: CoreProcess,
  t: Topics,
  before: Snapshot,
  res: { status: number; body: any },
  status: number,
  message?: RegExp,
): Promise<void> {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
  if (message) expect(res.body.message).toMatch(message);
  const after = await snapshot(core, t);
  expect(after).toEqual(before);
}
