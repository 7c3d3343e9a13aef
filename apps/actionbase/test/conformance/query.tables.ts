/**
 * The core and tables of the query and mutation conformance suites: Actionbase's API reference uses
 * `your_database.your_table` (edges with `weight` and `type`) and a multi-edge table (`amount`,
 * `paidAt`). The core runs as a child process on the log sink: these suites are about the REST contract.
 */
import { api, CoreProcess, freePort, tempStorage } from '@pipeline/testing';

export const DB = 'your_database';
export const EDGES = 'your_table';
export const MULTI = 'your_multi_table';
export const path = (table: string) => `/graph/v3/databases/${DB}/tables/${table}`;

export async function startConformanceCore(): Promise<CoreProcess> {
  const core = new CoreProcess({ PORT: String(await freePort()), KAFKA_BROKERS: '', STORAGE_PATH: tempStorage(), LOG_LEVEL: 'warn', HEARTBEAT_INTERVAL_MS: '3600000' });
  await core.start();
  await api(core.url, 'POST', '/graph/v3/databases', { database: DB, comment: 'conformance' });
  await createTable(core.url, EDGES, false);
  await createTable(core.url, MULTI, true);
  return core;
}

const props = [
  ['weight', 'double'],
  ['type', 'string'],
  ['createdAt', 'long'],
  ['amount', 'long'],
  ['paidAt', 'long'],
] as const;
const indexes = [
  { index: 'your_index', fields: [{ field: 'type', order: 'ASC' }, { field: 'createdAt', order: 'ASC' }] },
  { index: 'by_created', fields: [{ field: 'createdAt', order: 'DESC' }] },
];

/** Sent in Actionbase's documented form first, then in the core's earlier form. */
async function createTable(url: string, table: string, multi: boolean): Promise<void> {
  const actionbase = {
    table,
    schema: {
      type: multi ? 'MULTI_EDGE' : 'EDGE',
      ...(multi ? { id: { type: 'string', comment: 'edge id' } } : {}),
      source: { type: 'string', comment: '' },
      target: { type: 'string', comment: '' },
      properties: props.map(([name, type]) => ({ name, type, nullable: true, comment: '' })),
      direction: 'BOTH',
      indexes: indexes.map((i) => ({ ...i, comment: '' })),
      groups: [],
    },
    storage: `datastore://default/${table}`,
    mode: 'SYNC',
    comment: 'conformance',
  };
  const first = await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, actionbase);
  if (first.status < 300) return;
  const earlier = {
    table,
    type: multi ? 'MULTI_EDGE' : 'EDGE',
    schema: {
      source: { type: 'STRING' },
      target: { type: 'STRING' },
      properties: props.map(([name, type]) => ({ name, type: type.toUpperCase(), nullable: true })),
    },
    direction: 'BOTH',
    indexes,
    mode: 'SYNC',
  };
  const second = await api(url, 'POST', `/graph/v3/databases/${DB}/tables`, earlier);
  if (second.status >= 300) throw new Error(`create ${table}: ${JSON.stringify(first.body)} / ${JSON.stringify(second.body)}`);
}
