// The indexer and the lookup against an Elasticsearch with security on: a private node (own folder, free ports,
// xpack.security with a file-realm user and HTTPS under a CA of its own), never the shared one. Both run as the
// real process (main.ts), configured only through ES_URL, ES_USERNAME/ES_PASSWORD or ES_API_KEY, and ES_CA_FILE.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { ensureKafka, startElasticsearch, stopElasticsearch, type ElasticsearchOptions } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, waitFor, type CoreProcess } from '@pipeline/testing';
import { mutationIndexPattern } from '../../src/documents';
import { like, mutate, newPrefix, startCore } from '../harness';

const TOKEN = 'support.ann:esec-token-Vq8rT3kW7nZ2-0001';
const BEARER = { authorization: `Bearer ${TOKEN.split(':')[1]}` };
const INDEXER_PW = 'Indexer-Only-Pw-4d9q';
const LOOKUP_PW = 'Lookup-Read-Pw-8m2x';

interface App {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  apiUrl: string;
  healthUrl: string;
}

describe('es-indexer against an Elasticsearch with security and TLS', () => {
  const nodeDir = tempDir('es-secured');
  let esOpts: ElasticsearchOptions;
  let esUrl: string;
  let caFile: string;
  let admin: Client;
  let username: string;
  let password: string;
  let bootstrap: string;
  let core: CoreProcess;
  let wal: string;
  let cdc: string;
  const apps: App[] = [];
  const auditDir = tempDir('es-secured-audit');
  /** The prefix the successful runs index into; later runs with bad credentials must not read it. */
  const prefix = newPrefix();

  beforeAll(async () => {
    ({ bootstrap } = await ensureKafka());
    const [port, transportPort] = [await freePort(), await freePort()];
    // The least privileges each part needs, as "Deploying safely" in the README asks: the indexer owns its
    // prefix's indices and templates, the lookup only reads them.
    const indices = [`${prefix}-*`];
    esOpts = {
      dir: nodeDir,
      port,
      transportPort,
      heap: '512m',
      security: {
        username: 'pipeline-admin',
        password: 'Secured-Es-Pw-7f3k',
        tls: true,
        roles: {
          'esi-indexer': { cluster: ['monitor', 'manage_index_templates'], indices: [{ names: indices, privileges: ['all'] }] },
          'esi-lookup': { indices: [{ names: indices, privileges: ['read'] }] },
        },
        users: [
          { username: 'esi-indexer', password: INDEXER_PW, roles: ['esi-indexer'] },
          { username: 'esi-lookup', password: LOOKUP_PW, roles: ['esi-lookup'] },
        ],
      },
    };
    const started = await startElasticsearch(esOpts);
    esUrl = started.url;
    caFile = started.caFile!;
    username = started.username!;
    password = started.password!;
    admin = new Client({ node: esUrl, auth: { username, password }, tls: { ca: readFileSync(caFile), rejectUnauthorized: true } });
    ({ core, wal, cdc } = await startCore(bootstrap));
  }, 240_000);

  afterAll(async () => {
    for (const a of apps) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    await core?.stop('SIGKILL');
    await admin?.close();
    if (esOpts) await stopElasticsearch(esOpts);
  }, 60_000);

  async function startApp(name: string, env: Record<string, string>): Promise<App> {
    const [apiPort, httpPort] = [await freePort(), await freePort()];
    let output = '';
    const base = { ...process.env };
    for (const k of ['ES_USERNAME', 'ES_PASSWORD', 'ES_API_KEY', 'ES_CA_FILE']) delete base[k];
    const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/main.ts')], {
      cwd: repoRoot,
      env: {
        ...base,
        KAFKA_BROKERS: bootstrap,
        ES_URL: esUrl,
        WAL_TOPIC: wal,
        CDC_TOPIC: cdc,
        CONSUMER_GROUP: `${prefix}.${name}`,
        INDEX_PREFIX: prefix,
        API_PORT: String(apiPort),
        API_HOST: '127.0.0.1',
        HTTP_PORT: String(httpPort),
        LOOKUP_TOKENS: TOKEN,
        AUDIT_LOG_PATH: join(auditDir, `${name}.jsonl`),
        REFRESH_INTERVAL: '200ms',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const app = { proc, output: () => output, exited, apiUrl: `http://127.0.0.1:${apiPort}`, healthUrl: `http://127.0.0.1:${httpPort}` };
    apps.push(app);
    return app;
  }

  async function stopApp(app: App): Promise<void> {
    if (app.proc.exitCode === null && app.proc.signalCode === null) app.proc.kill('SIGTERM');
    await app.exited;
  }

  async function waitLookupUp(app: App): Promise<void> {
    await waitFor(`the lookup of the app up (${app.output().slice(-400)})`, async () => {
      if (app.proc.exitCode !== null) throw new Error(`app exited: ${app.output()}`);
      return (await fetch(`${app.apiUrl}/api/whoami`, { headers: BEARER }).catch(() => undefined))?.ok;
    }, 60_000);
  }

  const lookupUser = (app: App, user: string) =>
    fetch(`${app.apiUrl}/api/users/${user}/mutations`, { headers: BEARER }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  async function indicesOf(p: string): Promise<string[]> {
    const rows = (await admin.cat.indices({ index: `${p}-*`, format: 'json', h: 'index', expand_wildcards: 'all' } as never)) as unknown as { index: string }[];
    return rows.map((r) => r.index).sort();
  }

  async function mutationDocs(p: string): Promise<number> {
    await admin.indices.refresh({ index: `${p}-*`, allow_no_indices: true, ignore_unavailable: true });
    return (await admin.count({ index: mutationIndexPattern(p), allow_no_indices: true, ignore_unavailable: true })).count;
  }

  it('the node refuses requests without credentials, and plain HTTP', async () => {
    const ca = readFileSync(caFile);
    const anonymous = new Client({ node: esUrl, tls: { ca, rejectUnauthorized: true } });
    try {
      const err = await anonymous.cluster.health().then(() => undefined, (e: { meta?: { statusCode?: number } }) => e);
      expect(err?.meta?.statusCode).toBe(401);
    } finally {
      await anonymous.close();
    }
    expect(esUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const plain = await fetch(esUrl.replace('https:', 'http:')).then((r) => r.status, () => 'refused');
    expect(plain).not.toBe(200);
  });

  it('indexes and answers lookups with basic auth over HTTPS verified against ES_CA_FILE, each part with only its own rights', async () => {
    const indexer = await startApp('basic-indexer', { ROLE: 'indexer', ES_USERNAME: 'esi-indexer', ES_PASSWORD: INDEXER_PW, ES_CA_FILE: caFile });
    const lookup = await startApp('basic-api', { ROLE: 'api', ES_USERNAME: 'esi-lookup', ES_PASSWORD: LOOKUP_PW, ES_CA_FILE: caFile });
    await waitFor(`the indexer ready (${indexer.output().slice(-400)})`, async () => {
      if (indexer.proc.exitCode !== null) throw new Error(`indexer exited: ${indexer.output()}`);
      return (await fetch(`${indexer.healthUrl}/health/readiness`).catch(() => undefined))?.ok;
    }, 60_000);
    await waitLookupUp(lookup);
    await mutate(core, 'likes', 'esec-1', [like('sec.ada', 7, 100)]);
    await mutate(core, 'likes', 'esec-2', [like('sec.ada', 8, 200)]);
    const page = await waitFor('4 records of sec.ada through the lookup', async () => {
      const r = await lookupUser(lookup, 'sec.ada');
      return r.status === 200 && r.body.items.length === 4 && r.body;
    }, 60_000);
    expect(page.items.map((i: any) => `${i.kind}:${i.status}`).sort()).toEqual(['cdc:CREATED', 'cdc:CREATED', 'wal:RECEIVED', 'wal:RECEIVED']);
    // Written by the secured indexer, read back independently as the node's admin.
    expect(await mutationDocs(prefix)).toBe(4);
    // The lookup's user reads, and may not write.
    const readOnly = new Client({ node: esUrl, auth: { username: 'esi-lookup', password: LOOKUP_PW }, tls: { ca: readFileSync(caFile), rejectUnauthorized: true } });
    try {
      const denied = await readOnly.index({ index: `${prefix}-edges`, document: { forged: true } }).then(() => undefined, (e: { meta?: { statusCode?: number } }) => e);
      expect(denied?.meta?.statusCode).toBe(403);
    } finally {
      await readOnly.close();
    }
    for (const app of [lookup, indexer]) {
      await stopApp(app);
      expect(await app.exited).toBe(0);
    }
  });

  it('refuses a wrong password: the indexer stops at start and indexes nothing, the lookup answers nothing', async () => {
    const other = newPrefix();
    const indexer = await startApp('wrong-pw-indexer', { ROLE: 'indexer', INDEX_PREFIX: other, ES_USERNAME: 'esi-indexer', ES_PASSWORD: 'not-the-password', ES_CA_FILE: caFile });
    expect(await indexer.exited).toBe(1);
    expect(indexer.output()).toContain('security_exception');
    expect(await indicesOf(other)).toEqual([]);

    const lookup = await startApp('wrong-pw-api', { ROLE: 'api', ES_USERNAME: 'esi-lookup', ES_PASSWORD: 'not-the-password', ES_CA_FILE: caFile });
    await waitLookupUp(lookup);
    const r = await lookupUser(lookup, 'sec.ada');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ status: 500, code: 'LOOKUP_FAILED', message: expect.stringContaining('give the operators this id') });
    expect(JSON.stringify(r.body)).not.toContain('sec.ada');
    await waitFor('the refusal in the log', async () => lookup.output().includes('security_exception'), 10_000);
    await stopApp(lookup);
  });

  it('refuses the node without ES_CA_FILE (its certificate is not trusted) and indexes nothing', async () => {
    const other = newPrefix();
    const indexer = await startApp('no-ca', { ROLE: 'indexer', INDEX_PREFIX: other, ES_USERNAME: username, ES_PASSWORD: password });
    expect(await indexer.exited).toBe(1);
    expect(indexer.output()).toMatch(/self[- ]signed|unable to verify|SELF_SIGNED|UNABLE_TO_VERIFY/i);
    expect(await indicesOf(other)).toEqual([]);
  });

  it('sends ES_API_KEY as an API key: a key the node does not know is refused, nothing indexed or answered', async () => {
    const bogus = Buffer.from('esecUnknownKeyId:esecUnknownKeySecret').toString('base64');
    const other = newPrefix();
    const indexer = await startApp('bogus-key-indexer', { ROLE: 'indexer', INDEX_PREFIX: other, ES_API_KEY: bogus, ES_CA_FILE: caFile });
    expect(await indexer.exited).toBe(1);
    // The node names the credential it was given: proof the key went out as `Authorization: ApiKey`.
    expect(indexer.output()).toContain('apikey authentication for id esecUnknownKeyId');
    expect(await indicesOf(other)).toEqual([]);

    const lookup = await startApp('bogus-key-api', { ROLE: 'api', ES_API_KEY: bogus, ES_CA_FILE: caFile });
    await waitLookupUp(lookup);
    const r = await lookupUser(lookup, 'sec.ada');
    expect(r.status).toBe(500);
    expect(r.body.code).toBe('LOOKUP_FAILED');
    await stopApp(lookup);
  });

  it('indexes and answers with an API key made through the security API, when this build can store keys', async () => {
    const made = await admin.security
      .createApiKey({ name: `${prefix}-indexer`, expiration: '1h' })
      .then((k) => ({ ok: true as const, encoded: k.encoded }), (e: { message?: string }) => ({ ok: false as const, reason: e.message ?? String(e) }));
    if (!made.ok) {
      // Maven's integ-test-zip has no analysis-common module, and the security index's mapping needs its
      // `pattern_capture` filter, so no API key (nor native user) can be stored on this build. The full
      // distribution (docker/compose.yaml's image) has it. Any other failure is a real one.
      expect(made.reason).toContain('pattern_capture');
      return;
    }
    const app = await startApp('api-key', { ES_API_KEY: made.encoded, ES_CA_FILE: caFile, CONSUMER_GROUP: `${prefix}.api-key` });
    await waitLookupUp(app);
    await mutate(core, 'likes', 'esec-3', [like('sec.bob', 9, 300)]);
    await waitFor('sec.bob through the lookup with the API key', async () => {
      const r = await lookupUser(app, 'sec.bob');
      return r.status === 200 && r.body.items.length === 2;
    }, 60_000);
    await stopApp(app);
  });
});
