/**
 * The support lookup as an attacker sees it: the real service (main.ts as a process, default listeners), the real
 * core writing to real Kafka, real Elasticsearch. Every case of the security review is replayed here.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { AlertRecordSchema, type AlertRecord } from '@pipeline/events';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { api, freePort, repoRoot, tempDir, waitFor, type CoreProcess } from '@pipeline/testing';
import { DAY_MS, edgesIndex } from '../../src/documents';
import { expireTombstones } from '../../src/indices';
import { alertsIndex } from '../../src/lookup.service';
import { dropPrefix, mutate, newPrefix, startCore } from '../harness';

const run = promisify(execFile);
const TOKEN = 'sec-agent-Rk29xQv7Lp3m-Tz8w';
const OTHER = 'sec-other-Hn51bYc2Wq8e-Kd4j';
const victim = `vic${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const BIDI = 'evil\u202Egnp.exe';
// Long enough to push the columns off-screen untruncated, short enough for the core's key rule (4,096 bytes).
const LONG = `long-${'x'.repeat(4_000)}`;

/**
 * The keyword mapping of apps/abuse-detector's alerts index (ALERTS_MAPPING in its alert-publisher.ts; an app
 * cannot import another), so the erasure's term, prefix and wildcard queries meet the same field types here.
 */
const ALERTS_MAPPING = {
  dynamic: 'strict' as const,
  properties: {
    version: { type: 'keyword' as const },
    alertId: { type: 'keyword' as const },
    rule: { type: 'keyword' as const },
    ruleName: { type: 'keyword' as const },
    database: { type: 'keyword' as const },
    table: { type: 'keyword' as const },
    subject: { properties: { kind: { type: 'keyword' as const }, id: { type: 'keyword' as const } } },
    users: { type: 'keyword' as const },
    windowStart: { type: 'date' as const, format: 'epoch_millis' },
    windowEnd: { type: 'date' as const, format: 'epoch_millis' },
    observed: { type: 'double' as const },
    threshold: { type: 'double' as const },
    baseline: { properties: { mean: { type: 'double' as const }, stddev: { type: 'double' as const }, zScore: { type: 'double' as const } } },
    emittedAt: { type: 'date' as const, format: 'epoch_millis' },
  },
};

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe('support lookup security (real service, Kafka, Elasticsearch)', () => {
  let core: CoreProcess;
  let app: ChildProcess;
  let client: Client;
  let esUrl: string;
  let output = '';
  let apiPort: number;
  let httpPort: number;
  const prefix = newPrefix();
  const dir = tempDir('esi-sec');
  const auditFile = join(dir, 'audit.jsonl');
  const table = 'profiles';

  /** A request exactly as written: no client-side normalisation of the path (curl --path-as-is). */
  const raw = (method: string, path: string, headers: Record<string, string> = {}): Promise<Raw> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: apiPort, method, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  const bearer = (t = TOKEN) => ({ authorization: `Bearer ${t}` });
  const auditLines = () =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);
  const admin = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/admin.cli.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, ES_URL: esUrl, INDEX_PREFIX: prefix, AUDIT_LOG_PATH: auditFile, ...env },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  beforeAll(async () => {
    const { bootstrap } = await ensureKafka();
    esUrl = (await ensureElasticsearch()).url;
    client = new Client({ node: esUrl });
    let wal: string, cdc: string;
    ({ core, wal, cdc } = await startCore(bootstrap));
    const created = await api(core.url, 'POST', '/graph/v3/databases/shop/tables', {
      table,
      schema: {
        source: { type: 'STRING' },
        target: { type: 'STRING' },
        properties: [
          { name: 'email', type: 'STRING', nullable: true },
          { name: 'note', type: 'STRING', nullable: true },
        ],
      },
      direction: 'BOTH',
      indexes: [],
      mode: 'SYNC',
    });
    expect(created.status).toBe(200);
    [apiPort, httpPort] = [await freePort(), await freePort()];
    // API_HOST and HTTP_HOST left unset on purpose: the defaults must be loopback.
    app = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'apps/es-indexer/src/main.ts')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        KAFKA_BROKERS: bootstrap,
        ES_URL: esUrl,
        WAL_TOPIC: wal,
        CDC_TOPIC: cdc,
        CONSUMER_GROUP: `${prefix}.group`,
        INDEX_PREFIX: prefix,
        API_PORT: String(apiPort),
        HTTP_PORT: String(httpPort),
        LOOKUP_TOKENS: `sec.agent:${TOKEN},sec.other:${OTHER}`,
        AUDIT_LOG_PATH: auditFile,
        REFRESH_INTERVAL: '200ms',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    app.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor(`the app ready (${output.slice(-500)})`, async () => {
      if (app.exitCode !== null) throw new Error(`app exited: ${output}`);
      return (await fetch(`http://127.0.0.1:${httpPort}/health/readiness`).catch(() => undefined))?.ok;
    }, 90_000);
    const edge = (type: string, source: string, target: string, version: number, properties: Record<string, unknown> = {}) => ({ type, edge: { version, source, target, properties } });
    const post = (id: string, m: unknown[]) => mutate(core, table, id, m);
    await post(`${victim}-r1`, [edge('INSERT', victim, 'shop-1', 100, { email: `${victim}@example.com`, note: 'private note' })]);
    await post(`${victim}-r2`, [edge('INSERT', victim, 'shop-2', 100, { email: `${victim}@example.com` })]);
    await post(`${victim}-r3`, [edge('DELETE', victim, 'shop-2', 200)]);
    await post(`m-${Date.now()}-r4`, [edge('INSERT', 'mallory', BIDI, 100), edge('INSERT', 'mallory', LONG, 100)]);
    await waitFor('the victim and mallory indexed', async () => {
      const v = await raw('GET', `/api/users/${victim}/mutations?size=50`, bearer());
      const m = await raw('GET', `/api/users/mallory/mutations?size=50`, bearer());
      return v.status === 200 && JSON.parse(v.body).items.length === 6 && JSON.parse(m.body).items.length === 4;
    }, 90_000);
  }, 240_000);

  afterAll(async () => {
    if (app && app.exitCode === null) app.kill('SIGKILL');
    await core?.stop('SIGKILL');
    await dropPrefix(client, prefix);
    await client?.close();
  });

  it('listens on loopback only by default, lookup API and probes alike', async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
    expect(output).toMatch(/"host":"127\.0\.0\.1"/);
    if (external) {
      for (const port of [apiPort, httpPort]) {
        const err = await fetch(`http://${external}:${port}/`).then(
          () => undefined,
          (e: Error & { cause?: { code?: string } }) => e.cause?.code,
        );
        expect(err).toBe('ECONNREFUSED');
      }
    }
  });

  it('refuses at least 20 spellings of protected paths and credentials with 401, no data, and audits each one', async () => {
    const reqId = `${victim}-r1`;
    const basic = `Basic ${Buffer.from(`sec.agent:${TOKEN}`).toString('base64')}`;
    const cases: [string, string, Record<string, string>?][] = [
      ['GET', `/api/users/${victim}/mutations`],
      ['GET', `/%61pi/users/${victim}/mutations`],
      ['GET', `/ap%69/users/${victim}/mutations`],
      ['GET', `/%61%70%69/users/${victim}/mutations`],
      ['GET', `/%61%50%49/users/${victim}/mutations`],
      ['GET', `/api/%75sers/${victim}/mutations`],
      ['GET', `/api/users/${victim}/%6d%75tations`],
      ['GET', `/%2561pi/users/${victim}/mutations`],
      ['GET', `/API/users/${victim}/mutations`],
      ['GET', `/Api/Users/${victim}/Mutations`],
      ['GET', `/./api/users/${victim}/mutations`],
      ['GET', `/api/./users/${victim}/mutations`],
      ['GET', `/x/../api/users/${victim}/mutations`],
      ['GET', `/%2e/api/users/${victim}/mutations`],
      ['GET', `/api/users/${victim}/mutations/`],
      ['GET', `//api/users/${victim}/mutations`],
      ['GET', `/api//users/${victim}/mutations`],
      ['GET', `/api/users/${victim}/mutations;x=1`],
      ['GET', `/api%2fusers/${victim}/mutations`],
      ['HEAD', `/api/users/${victim}/mutations`],
      ['HEAD', `/%61pi/users/${victim}/mutations`],
      ['OPTIONS', `/api/users/${victim}/mutations`, { origin: 'http://evil.example', 'access-control-request-method': 'GET' }],
      ['POST', `/api/users/${victim}/mutations`],
      ['GET', `/api/users/${victim}/mutations?access_token=${TOKEN}`],
      ['GET', `/api/users/${victim}/mutations?token=${TOKEN}`],
      ['GET', `/api/users/${victim}/mutations`, { authorization: basic }],
      ['GET', `/api/users/${victim}/mutations`, { authorization: TOKEN }],
      ['GET', `/api/users/${victim}/mutations`, { authorization: `Bearer ${TOKEN}x` }],
      ['GET', `/api/users/${victim}/mutations`, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ['GET', `/api/users/${victim}/mutations`, { authorization: `Token ${TOKEN}` }],
      ['GET', `/api/users/${victim}/mutations`, { 'x-api-key': TOKEN, 'x-original-url': '/', 'x-forwarded-user': 'sec.agent' }],
      ['GET', `/%61pi/edges/state?table=${table}&source=${victim}&target=shop-1`],
      ['GET', `/ap%69/edges/history?table=${table}&source=${victim}&target=shop-1`],
      ['GET', `/%61%70%69/requests/${reqId}`],
      ['GET', `/%61pi/events/x`],
      ['GET', `/%61pi/records/x?reason=looking-around`],
      ['GET', `/%61pi/whoami`],
    ];
    const before = auditLines().length;
    for (const [method, path, headers] of cases) {
      const r = await raw(method, path, headers);
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 });
      expect(r.body).not.toContain(victim);
      expect(r.body).not.toContain('items');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    const lines = auditLines().slice(before);
    expect(lines).toHaveLength(cases.length);
    for (const l of lines) expect(l).toMatchObject({ user: null, status: 401 });
    // The credential given in a query string is not copied into the audit.
    expect(JSON.stringify(lines)).not.toContain(TOKEN);

    // Control: the canonical and the encoded spelling both answer with the token, so the 401s above were real refusals.
    for (const p of [`/api/users/${victim}/mutations`, `/%61pi/users/${victim}/mutations`]) {
      const ok = await raw('GET', p, bearer());
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body).items).toHaveLength(6);
    }
  });

  it('answers undecodable URLs with a generic 400, the security headers and an audit line', async () => {
    const before = auditLines().length;
    for (const path of [`/%zz/users/${victim}/mutations`, `/api/users/%zz/mutations`, `/api/users/${victim}/mutations%`]) {
      const r = await raw('GET', path, bearer());
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ status: 400, code: 'BAD_REQUEST', message: 'the request is malformed' });
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(auditLines().slice(before).map((l) => [l.user, l.status, l.outcome])).toEqual(Array(3).fill([null, 400, 'FST_ERR_BAD_URL']));
  });

  it('audits refusals after authentication with the user: bad cursor and size=501 give generic 400s', async () => {
    const before = auditLines().length;
    const forged = Buffer.from(JSON.stringify([{ bool: 1 }, 'x'])).toString('base64url');
    const wrongType = Buffer.from(JSON.stringify(['not-a-date', 'x'])).toString('base64url');
    for (const c of ['not-base64-json', forged, wrongType]) {
      const r = await raw('GET', `/api/users/${victim}/mutations?cursor=${c}`, bearer());
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ status: 400, code: 'BAD_CURSOR', message: 'cursor is not one this API returned; start again without it' });
      expect(r.body).not.toMatch(/exception|elasticsearch/i);
    }
    const big = await raw('GET', `/api/users/${victim}/mutations?size=501`, bearer());
    expect(big.status).toBe(400);
    expect(JSON.parse(big.body).message).toMatch(/^size: /);
    const lines = auditLines().slice(before);
    expect(lines.map((l) => [l.user, l.action, l.status, l.outcome])).toEqual([
      ['sec.agent', 'user-mutations', 400, 'BAD_CURSOR'],
      ['sec.agent', 'user-mutations', 400, 'BAD_CURSOR'],
      ['sec.agent', 'user-mutations', 400, 'BAD_CURSOR'],
      ['sec.agent', 'user-mutations', 400, 'BAD_REQUEST'],
    ]);
    // The app log holds no looked-up person (they are in the audit only).
    expect(output).not.toContain(victim);
  });

  it('logs a missing edge as results 0 and an existing one as 1; 404s are audited too', async () => {
    const before = auditLines().length;
    const missing = await raw('GET', `/api/edges/state?table=${table}&source=${victim}&target=never`, bearer());
    expect(JSON.parse(missing.body)).toEqual({ state: null });
    const found = await raw('GET', `/api/edges/state?table=${table}&source=${victim}&target=shop-1`, bearer());
    expect(JSON.parse(found.body).state).toMatchObject({ source: victim, target: 'shop-1', active: true });
    const nf = await raw('GET', '/api/nothing-here', bearer());
    expect(nf.status).toBe(404);
    expect(nf.body).not.toContain('nothing-here');
    expect(auditLines().slice(before).map((l) => [l.action, l.status, l.results])).toEqual([
      ['edge-state', 200, 0],
      ['edge-state', 200, 1],
      ['none', 404, undefined],
    ]);
  });

  it('answers with what support needs only; the full record comes through an audited reveal with a reason', async () => {
    const r = await raw('GET', `/api/users/${victim}/mutations?size=50`, bearer());
    const items = JSON.parse(r.body).items as Record<string, unknown>[];
    expect(r.body).not.toContain('@example.com');
    expect(r.body).not.toContain('private note');
    for (const i of items) {
      for (const k of ['properties', 'events', 'kafka', 'actor', 'mode', 'wal', 'cdc']) expect(i).not.toHaveProperty(k);
    }
    const cdc = items.find((i) => i['kind'] === 'cdc' && i['status'] === 'DELETED')!;
    expect(cdc['before']).toEqual({ active: true, version: 100 });
    expect(cdc['after']).toEqual({ active: false, version: 200 });
    const state = JSON.parse((await raw('GET', `/api/edges/state?table=${table}&source=${victim}&target=shop-1`, bearer())).body).state;
    expect(JSON.stringify(state)).not.toContain('@example.com');

    const wal = items.find((i) => i['kind'] === 'wal' && (i['requestIds'] as string[]).includes(`${victim}-r1`))!;
    const before = auditLines().length;
    const noReason = await raw('GET', `/api/records/${encodeURIComponent(String(wal['id']))}`, bearer(OTHER));
    expect(noReason.status).toBe(400);
    expect(noReason.body).not.toContain('@example.com');
    const revealed = await raw('GET', `/api/records/${encodeURIComponent(String(wal['id']))}?reason=${encodeURIComponent('ticket 4711: user asks what email was sent')}`, bearer(OTHER));
    expect(revealed.status).toBe(200);
    expect(JSON.parse(revealed.body).record.wal.event.properties).toMatchObject({ email: `${victim}@example.com`, note: 'private note' });
    expect(auditLines().slice(before).map((l) => [l.user, l.action, l.status, l.reason ?? null, l.results ?? null])).toEqual([
      ['sec.other', 'reveal', 400, null, null],
      ['sec.other', 'reveal', 200, 'ticket 4711: user asks what email was sent', 1],
    ]);
  });

  it('sends the security headers on the page, its assets and every API answer, and no CORS headers', async () => {
    for (const [path, headers] of [
      ['/', {}],
      ['/app.js', {}],
      ['/app.css', {}],
      [`/api/users/${victim}/mutations`, bearer()],
      [`/api/users/${victim}/mutations`, {}],
      ['/api/nothing', bearer()],
    ] as [string, Record<string, string>][]) {
      const r = await raw('GET', path, { ...headers, origin: 'http://evil.example' });
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['content-security-policy']).toContain("script-src 'self'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('shows bidi and control characters escaped and cuts long values with a way to expand them (headless Chromium)', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`http://127.0.0.1:${apiPort}/`);
      await page.fill('#token', TOKEN);
      await page.fill('#by-user input[name=user]', 'mallory');
      await page.click('#by-user button');
      await page.locator('#results tbody tr').nth(3).waitFor();
      const cells = await page.$$eval('#results tbody tr td:nth-child(4)', (tds) => tds.map((td) => td.textContent ?? ''));
      const bidi = cells.find((c) => c.includes('evil'))!;
      expect(bidi).toBe('mallory → evil\\u{202E}gnp.exe');
      expect(bidi).not.toContain('\u202E');
      const longCell = page.locator('#results tbody tr td:nth-child(4)', { hasText: 'long-' }).first();
      const shown = (await longCell.locator('span').textContent())!;
      expect(shown.length).toBeLessThanOrEqual(121);
      await longCell.locator('button.expand').click();
      expect((await longCell.locator('span').textContent())!).toBe(`mallory → ${LONG}`);
      // A reveal asks for a reason, shows the whole record and leaves an audit line with the reason.
      const before = auditLines().length;
      page.once('dialog', (d) => void d.accept('ticket 5150: checking the long target'));
      await page.locator('#results tbody tr.cdc button.reveal').first().click();
      await page.waitForSelector('#revealed:not([hidden])');
      expect(await page.textContent('#revealed pre')).toContain('"cdc"');
      expect(auditLines().slice(before)).toEqual([expect.objectContaining({ user: 'sec.agent', action: 'reveal', status: 200, reason: 'ticket 5150: checking the long target' })]);
      // The table stays within the page: no 4,000-character column.
      const width = await page.evaluate('document.documentElement.scrollWidth');
      expect(width as number).toBeLessThanOrEqual(1400);
    } finally {
      await browser.close();
    }
  });

  it('keeps auditing when the audit file is rotated or deleted, and verify-audit checks the chain across files', async () => {
    const rotated = `${auditFile}.1`;
    renameSync(auditFile, rotated);
    expect((await raw('GET', '/api/whoami', bearer())).status).toBe(200);
    expect(auditLines().map((l) => l.action)).toEqual(['whoami']);
    const deletedCopy = readFileSync(auditFile, 'utf8');
    rmSync(auditFile);
    expect((await raw('GET', '/api/whoami', bearer(OTHER))).status).toBe(200);
    expect(auditLines().map((l) => l.user)).toEqual(['sec.other']);
    // Put the deleted file back as the middle rotation: the three files form one chain.
    writeFileSync(`${auditFile}.2`, deletedCopy);
    const ok = await admin(['verify-audit', rotated, `${auditFile}.2`, auditFile]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, startsAfter: '0'.repeat(64) });

    // An edited line fails its hash; a removed line fails the next line's prev.
    const lines = readFileSync(rotated, 'utf8').split('\n').filter(Boolean);
    const edited = join(dir, 'edited.jsonl');
    writeFileSync(edited, [...lines.slice(0, 3), lines[3]!.replace('"ip":"127.0.0.1"', '"ip":"10.9.9.9"'), ...lines.slice(4)].join('\n') + '\n');
    const e = await admin(['verify-audit', edited]);
    expect(e.code).toBe(1);
    expect(e.stderr).toContain(`${edited}:4: its content does not match its hash (edited)`);
    const removed = join(dir, 'removed.jsonl');
    writeFileSync(removed, [...lines.slice(0, 5), ...lines.slice(6)].join('\n') + '\n');
    const r = await admin(['verify-audit', removed]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${removed}:6: its prev hash is not the hash of the line before`);
  });

  it('expires tombstones of the current state after TOMBSTONE_RETENTION_DAYS and keeps live edges', async () => {
    const query = (active: boolean) => ({ bool: { filter: [{ term: { parties: victim } }, { term: { active } }] } });
    await client.indices.refresh({ index: edgesIndex(prefix) });
    expect((await client.count({ index: edgesIndex(prefix), query: query(false) })).count).toBe(1);
    expect(await expireTombstones(client, prefix, 14)).toBe(0); // the tombstone is minutes old
    expect(await expireTombstones(client, prefix, 14, Date.now() + 15 * DAY_MS)).toBeGreaterThanOrEqual(1);
    expect((await client.count({ index: edgesIndex(prefix), query: query(false) })).count).toBe(0);
    expect((await client.count({ index: edgesIndex(prefix), query: query(true) })).count).toBe(1);
  });

  it('erases a person from every index with proof, and leaves no document that mentions them', async () => {
    // Alerts as apps/abuse-detector writes them (AlertRecordSchema documents, keyword mapping of its index): the
    // victim as actor (users), as the target of a flapping edge (only in subject.id), as a spiking target.
    const alerts = alertsIndex(prefix);
    await client.indices.create({ index: alerts, mappings: ALERTS_MAPPING });
    const alert = (rule: AlertRecord['rule'], kind: AlertRecord['subject']['kind'], id: string, users: string[]): AlertRecord =>
      AlertRecordSchema.parse({
        version: '1',
        alertId: `${rule}:shop.${table}:${kind}:${id}:1764115200000`,
        rule,
        ruleName: rule,
        database: 'shop',
        table,
        subject: { kind, id },
        users,
        windowStart: 1_764_115_200_000,
        windowEnd: 1_764_115_260_000,
        observed: 12,
        threshold: 10,
        emittedAt: Date.now(),
      });
    const seeded = [
      alert('burst', 'actor', victim, [victim]),
      alert('flapping', 'edge', `mallory:${victim}`, ['mallory']),
      alert('target-spike', 'target', victim, [victim]),
      alert('burst', 'actor', 'mallory', ['mallory']),
      alert('flapping', 'edge', 'mallory:shop-9', ['mallory']),
      // Ids with colons: edges between other people whose `source:target` starts or ends like the victim's
      // (`<victim>:x` → `y`, `w` → `z:<victim>`), kept; an edge from `m:n` to the victim, erased.
      alert('flapping', 'edge', `${victim}:x:y`, [`${victim}:x`]),
      alert('flapping', 'edge', `w:z:${victim}`, ['w']),
      alert('flapping', 'edge', `m:n:${victim}`, ['m:n']),
    ];
    await client.bulk({ refresh: true, operations: seeded.flatMap((a) => [{ index: { _index: alerts, _id: a.alertId } }, a]) });
    const er = await admin(['erase', victim, '--operator', 'dpo.jane', '--reason', 'erasure request #99']);
    if (er.code !== 0) throw new Error(`erase exited with ${er.code}: ${er.stderr} ${er.stdout}`);
    const proof = JSON.parse(er.stdout);
    expect(proof.alertsIndex).toEqual({ name: alerts, exists: true });
    expect(proof.before.mutations).toBe(6);
    expect(proof.before.edges).toBe(1); // the tombstone already expired above
    expect(proof.before.alerts).toBe(4);
    expect(proof.deleted.alerts).toBe(4);
    expect(proof.after).toEqual({ mutations: 0, edges: 0, alerts: 0 });
    await client.indices.refresh({ index: alerts });
    const kept = await client.search<AlertRecord>({ index: alerts, size: 100, query: { match_all: {} } });
    expect(kept.hits.hits.map((h) => h._id).sort()).toEqual([3, 4, 5, 6].map((i) => seeded[i]!.alertId).sort());
    // Not one document of the prefix mentions the person anywhere in its source.
    await client.indices.refresh({ index: `${prefix}-*` });
    const all = await client.search({ index: `${prefix}-*`, size: 10_000, query: { match_all: {} } });
    expect(all.hits.hits.length).toBeGreaterThan(0); // mallory's records are still there
    const decoys = new Set([5, 6].map((i) => seeded[i]!.alertId)); // other people's edges, the victim's id inside theirs
    expect(all.hits.hits.filter((h) => !decoys.has(h._id!) && JSON.stringify(h._source).includes(victim)).map((h) => h._id)).toEqual([]);
    const gone = await raw('GET', `/api/users/${victim}/mutations`, bearer());
    expect(JSON.parse(gone.body).items).toEqual([]);
    expect(auditLines().find((l) => l.action === 'erase')).toMatchObject({
      user: 'dpo.jane',
      params: { subject: victim, before: { alerts: 4 }, after: { mutations: 0, edges: 0, alerts: 0 } },
      results: 11,
      reason: 'erasure request #99',
    });
  });

  it('erases where no abuse-detector wrote an alerts index, and says so', async () => {
    const bare = newPrefix();
    const er = await admin(['erase', victim, '--operator', 'dpo.jane', '--reason', 'erasure request #100'], { INDEX_PREFIX: bare });
    expect(er.code).toBe(0);
    expect(JSON.parse(er.stdout)).toMatchObject({ alertsIndex: { name: alertsIndex(bare), exists: false }, after: { mutations: 0, edges: 0, alerts: 0 } });
    expect(er.stderr).toContain(`no alerts index ${alertsIndex(bare)}`);
  });
});
