import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import pino from 'pino';
import { createTestDatabase, tempDir, testStorage } from '@pipeline/testing';
import { loadConfig } from '../config';
import { startCore, type CoreOptions, type RunningCore } from '../core';

export interface TestCore extends RunningCore {
  /** WAL/CDC records written to the log sink (when no Kafka is configured). */
  logged: { topic: 'wal' | 'cdc'; key: string; record: Record<string, unknown> }[];
  storagePath: string;
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
}

/**
 * Starts a core in-process on a random port with a fresh SQLite file, or, under `TEST_STORAGE=postgres`,
 * a fresh PostgreSQL database (see @pipeline/testing).
 */
export async function startTestCore(env: Record<string, string> = {}, opts: CoreOptions = {}): Promise<TestCore> {
  const storagePath = env.STORAGE_PATH ?? join(tempDir('actionbase'), 'core.db');
  if (testStorage() === 'postgres' && !env.STORAGE) env = { ...env, STORAGE: 'postgres', DATABASE_URL: await createTestDatabase() };
  const cfg = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', HEARTBEAT_INTERVAL_MS: '3600000', ...env, STORAGE_PATH: storagePath });
  const out = new PassThrough();
  const logged: TestCore['logged'] = [];
  let buf = '';
  out.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      logged.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  });
  const core = await startCore(cfg, pino({ level: 'silent' }), { logOut: out, ...opts });
  return {
    ...core,
    logged,
    storagePath,
    async call(method, path, body, headers = {}) {
      const res = await fetch(core.url + path, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}

/** A `likes` table (user -> product, BOTH directions, index on created_at DESC) in database `shop`. */
export async function createLikesTable(core: TestCore, table = 'likes', mode = 'SYNC'): Promise<void> {
  await core.call('POST', '/graph/v3/databases', { database: 'shop', comment: 'test shop' });
  const r = await core.call('POST', '/graph/v3/databases/shop/tables', {
    table,
    type: 'EDGE',
    schema: {
      source: { type: 'STRING' },
      target: { type: 'LONG' },
      properties: [
        { name: 'created_at', type: 'LONG', nullable: false },
        { name: 'note', type: 'STRING', nullable: true },
      ],
    },
    direction: 'BOTH',
    indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
    mode,
  });
  if (r.status !== 200) throw new Error(`create table failed: ${JSON.stringify(r.body)}`);
}
