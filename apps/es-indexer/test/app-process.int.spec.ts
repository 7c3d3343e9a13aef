import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, waitFor, type CoreProcess } from '@pipeline/testing';
import { dropPrefix, like, mutate, newPrefix, startCore } from './harness';

const run = promisify(execFile);

describe('es-indexer as a process (main.ts) and the lookup CLI', () => {
  let core: CoreProcess;
  let app: ChildProcess;
  let client: Client;
  let output = '';
  const prefix = newPrefix();
  let apiUrl: string;
  let healthUrl: string;
  const auditFile = join(tempDir('esi-app'), 'audit.jsonl');

  beforeAll(async () => {
    const { bootstrap } = await ensureKafka();
    const { url } = await ensureElasticsearch();
    client = new Client({ node: url });
    let wal: string, cdc: string;
    ({ core, wal, cdc } = await startCore(bootstrap));
    const [apiPort, httpPort] = [await freePort(), await freePort()];
    apiUrl = `http://127.0.0.1:${apiPort}`;
    healthUrl = `http://127.0.0.1:${httpPort}`;
    app = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/main.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        KAFKA_BROKERS: bootstrap,
        ES_URL: url,
        WAL_TOPIC: wal,
        CDC_TOPIC: cdc,
        CONSUMER_GROUP: `${prefix}.group`,
        INDEX_PREFIX: prefix,
        API_PORT: String(apiPort),
        API_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        LOOKUP_TOKENS: 'cli.user:cli-token-Hq7vZ2mX9pL4-0001',
        AUDIT_LOG_PATH: auditFile,
        REFRESH_INTERVAL: '200ms',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    app.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(`the app ready (${output.slice(-500)})`, async () => {
      if (app.exitCode !== null) throw new Error(`app exited: ${output}`);
      return (await fetch(`${healthUrl}/health/readiness`).catch(() => undefined))?.ok;
    }, 60_000);
  }, 120_000);

  afterAll(async () => {
    if (app && app.exitCode === null) app.kill('SIGKILL');
    await core?.stop('SIGKILL');
    await dropPrefix(client, prefix);
    await client?.close();
  });

  const cli = (args: string[], token?: string) =>
    run(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/lookup.cli.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, LOOKUP_URL: apiUrl, ...(token ? { LOOKUP_TOKEN: token } : { LOOKUP_TOKEN: 'wrong-token-xyz' }) },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('indexes what the core wrote, answers the CLI with a token (audited), refuses it without, and stops cleanly on SIGTERM', async () => {
    await mutate(core, 'likes', 'cli-1', [like('gina', 5, 100)]);
    await mutate(core, 'likes', 'cli-2', [like('gina', 5, 200, 'DELETE')]);
    const lines = await waitFor('4 records through the CLI', async () => {
      const r = await cli(['user', 'gina'], 'cli-token-Hq7vZ2mX9pL4-0001');
      const items = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      return items.length === 4 && items;
    }, 60_000);
    expect(lines.map((i: any) => `${i.kind}:${i.status}`).sort()).toEqual(['cdc:CREATED', 'cdc:DELETED', 'wal:RECEIVED', 'wal:RECEIVED']);
    const state = await cli(['state', 'likes', 'gina', '5'], 'cli-token-Hq7vZ2mX9pL4-0001');
    expect(JSON.parse(state.stdout)).toMatchObject({ active: false, status: 'DELETED' });
    const refused = await cli(['user', 'gina']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('401');
    const audit = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const accepted = audit.filter((a) => a.status === 200);
    expect(accepted.every((a) => a.user === 'cli.user')).toBe(true);
    expect(accepted.at(-1)).toMatchObject({ action: 'edge-state', params: { source: 'gina' }, results: 1 });
    expect(audit.at(-1)).toMatchObject({ user: null, status: 401, outcome: 'unknown-token' });
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    expect(metrics).toMatch(/es_indexer_documents_total\{kind="wal",target="mutations"\} 2/);

    const exited = new Promise<number | null>((r) => app.once('exit', (code) => r(code)));
    app.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
