/**
 * Failure paths of the lookup, against the real Elasticsearch: what the client sees (generic), what the log keeps
 * (details, no looked-up person), what the audit keeps (everything), and the start-up refusals of bad credentials.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { ensureElasticsearch } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, waitFor } from '@pipeline/testing';
import { AuditLog } from '../../src/audit-log';
import { Authenticator, parseTokenList } from '@pipeline/web-auth';
import { buildLookupApi } from '../../src/lookup.api';
import { LookupService } from '../../src/lookup.service';
import { dropPrefix, newPrefix } from '../harness';

const run = promisify(execFile);
const TOKEN = 'fail-agent-Pz81kQm3Xv7c-Lw2n';
const person = `pers${Date.now().toString(36)}`;

describe('lookup failures and start-up refusals', () => {
  let client: Client;
  let esUrl: string;
  const prefix = newPrefix();
  const dir = tempDir('esi-fail');
  let logs = '';
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, cb) {
        logs += String(chunk);
        cb();
      },
    }),
  );
  const auth = new Authenticator(parseTokenList(`fail.agent:${TOKEN}`));
  const apis: FastifyInstance[] = [];

  async function serve(lookup: LookupService, audit: AuditLog): Promise<string> {
    const api = await buildLookupApi({ lookup, audit, auth, logger });
    apis.push(api);
    const port = await freePort();
    await api.listen({ port, host: '127.0.0.1' });
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    esUrl = (await ensureElasticsearch()).url;
    client = new Client({ node: esUrl });
  });

  afterAll(async () => {
    for (const a of apis) await a.close();
    await dropPrefix(client, prefix);
    await client.close();
  });

  it('answers an Elasticsearch failure with a generic 500 and logs its type without the query or the person', async () => {
    // A mutation-log index whose @timestamp is text: sorting across it fails inside Elasticsearch.
    await client.indices.create({ index: `${prefix}-mutations-2020.01.01`, mappings: { properties: { '@timestamp': { type: 'text' }, parties: { type: 'keyword' } } } });
    await client.index({ index: `${prefix}-mutations-2020.01.01`, document: { '@timestamp': 'x', parties: [person] }, refresh: true });
    const auditFile = join(dir, 'audit-es.jsonl');
    const base = await serve(new LookupService(client, prefix), new AuditLog(auditFile));
    const res = await fetch(`${base}/api/users/${person}/mutations`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(500);
    expect(body).toMatchObject({ status: 500, code: 'LOOKUP_FAILED' });
    expect(body['message']).toMatch(/^the lookup failed; give the operators this id: \S+$/);
    expect(JSON.stringify(body)).not.toMatch(/exception|text|fielddata|timestamp/i);
    await waitFor('the failure logged', async () => logs.includes('lookup failed'));
    const line = logs.split('\n').find((l) => l.includes('lookup failed'))!;
    expect(JSON.parse(line).error).toMatchObject({ name: 'ResponseError', statusCode: 400 });
    expect(logs).not.toContain(person);
    const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(audit).toEqual([expect.objectContaining({ user: 'fail.agent', action: 'user-mutations', status: 500, outcome: 'LOOKUP_FAILED', params: expect.objectContaining({ user: person }) })]);
  });

  it('answers 503 and no data when the audit line cannot be written', async () => {
    const notAFile = join(dir, 'audit-dir');
    mkdirSync(notAFile);
    const base = await serve(new LookupService(client, `${prefix}x`), new AuditLog(notAFile));
    const res = await fetch(`${base}/api/users/${person}/mutations`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(text).not.toContain('items');
  });

  it('refuses to start with weak or shared tokens, naming LOOKUP_TOKENS', async () => {
    const start = (tokens: string) =>
      run(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/main.ts')], {
        cwd: repoRoot,
        env: { ...process.env, KAFKA_BROKERS: '127.0.0.1:1', ES_URL: esUrl, LOOKUP_TOKENS: tokens, API_PORT: '0', HTTP_PORT: '0' },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
      );
    const weak = await start('ann:password');
    expect(weak.code).toBe(2);
    expect(weak.stderr).toContain('LOOKUP_TOKENS: the token of ann is 8 characters long');
    const shared = await start(`ann:${TOKEN},bob:${TOKEN}`);
    expect(shared.code).toBe(2);
    expect(shared.stderr).toContain('LOOKUP_TOKENS: ann and bob have the same token');
  });

  it('accepts a signed token minted by the admin command in the running service, and refuses a forged signature', async () => {
    const secret = 'signing-secret-for-the-test-0123456789abcdef';
    const apiPort = await freePort();
    const env = { ...process.env, ES_URL: esUrl, INDEX_PREFIX: prefix, LOOKUP_JWT_SECRET: secret, LOOKUP_JWT_MAX_TTL_S: '600' };
    const minted = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/admin.cli.ts'), 'mint-token', 'jwt.agent', '--ttl-seconds', '300'], { cwd: repoRoot, env });
    const jwt = minted.stdout.trim();
    expect(jwt.split('.')).toHaveLength(3);
    const app = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/main.ts')], {
      cwd: repoRoot,
      env: { ...env, KAFKA_BROKERS: '127.0.0.1:1', ROLE: 'api', API_PORT: String(apiPort), HTTP_PORT: '0', AUDIT_LOG_PATH: join(dir, 'audit-jwt.jsonl'), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    app.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    app.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const who = await waitFor(`the api up (${out.slice(-300)})`, async () => {
        if (app.exitCode !== null) throw new Error(`exited: ${out}`);
        const r = await fetch(`http://127.0.0.1:${apiPort}/api/whoami`, { headers: { authorization: `Bearer ${jwt}` } }).catch(() => undefined);
        return r && ((await r.json()) as { user?: string });
      }, 60_000);
      expect(who).toEqual({ user: 'jwt.agent' });
      const forged = `${jwt.slice(0, jwt.lastIndexOf('.'))}.${Buffer.from('x'.repeat(32)).toString('base64url')}`;
      expect((await fetch(`http://127.0.0.1:${apiPort}/api/whoami`, { headers: { authorization: `Bearer ${forged}` } })).status).toBe(401);
      const audit = readFileSync(join(dir, 'audit-jwt.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(audit.at(-1)).toMatchObject({ user: null, status: 401, outcome: 'bad-signature' });
    } finally {
      const exited = new Promise((r) => app.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
  });
});
