import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { createEsClient } from '@pipeline/elasticsearch';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { freePort, repoRoot, tempDir, type CoreProcess } from '@pipeline/testing';
import { AuditLog } from '../src/audit-log';
import { Authenticator, parseTokenList } from '@pipeline/web-auth';
import type { Indexer } from '../src/indexer';
import { buildLookupApi } from '../src/lookup.api';
import { LookupService } from '../src/lookup.service';
import { dropPrefix, like, logger, mutate, newPrefix, runIndexer, startCore, waitFor, waitIndexed } from './harness';

const ONE = 'agent-one-7Qx93kLm2Pz-token';
const TWO = 'agent-two-Vb40sWq81nE-token';
const auth = new Authenticator(parseTokenList(`agent.one:${ONE},agent.two:${TWO}`));

describe('support lookup API and page', () => {
  let client: Client;
  let core: CoreProcess;
  let indexer: Indexer;
  let api: FastifyInstance;
  let audit: AuditLog;
  let base: string;
  let auditFile: string;
  const prefix = newPrefix();

  beforeAll(async () => {
    const { bootstrap } = await ensureKafka();
    // As main.ts makes it: the lossless serializer, so LONGs beyond 2^53 are indexed and read back exactly.
    client = createEsClient({ url: (await ensureElasticsearch()).url });
    let wal: string, cdc: string;
    ({ core, wal, cdc } = await startCore(bootstrap));
    ({ indexer } = await runIndexer({ bootstrap, client, prefix, wal, cdc }));
    auditFile = join(tempDir('esi-audit'), 'audit.jsonl');
    audit = new AuditLog(auditFile);
    api = await buildLookupApi({ lookup: new LookupService(client, prefix), audit, auth, logger });
    const port = await freePort();
    await api.listen({ port, host: '127.0.0.1' });
    base = `http://127.0.0.1:${port}`;
    await mutate(core, 'likes', 'req-a', [like('erin', 10, 100)]);
    await mutate(core, 'likes', 'req-b', [like('erin', 11, 100), like('frank', 10, 100)]);
    await mutate(core, 'likes', 'req-c', [like('erin', 10, 200, 'DELETE')]);
    await waitIndexed(client, prefix, 4 + 4);
  }, 180_000);

  afterAll(async () => {
    await api?.close();
    await indexer?.stop();
    await audit?.close();
    await core?.stop('SIGKILL');
    await dropPrefix(client, prefix);
    await client?.close();
  });

  // No file until the first audited request (a test run alone with -t starts there).
  const auditLines = () =>
    (existsSync(auditFile) ? readFileSync(auditFile, 'utf8') : '')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, any>);

  const get = (path: string, token?: string) => fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('refuses every lookup without valid credentials (401) and audits each refusal without a user', async () => {
    const cases = [
      ['/api/users/erin/mutations', undefined],
      ['/api/users/erin/mutations', 'not-a-token-at-all'],
      ['/api/edges/history?table=likes&source=erin&target=10', ONE.slice(0, -1)],
      ['/api/requests/req-a', 'Basic abc'],
      ['/api/events/x', ''],
    ] as const;
    for (const [path, token] of cases) {
      const res = await get(path, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const lines = auditLines();
    expect(lines).toHaveLength(cases.length);
    expect(lines.map((l) => [l.user, l.status])).toEqual(cases.map(() => [null, 401]));
    expect(lines[0]).toMatchObject({ url: '/api/users/erin/mutations', outcome: 'missing' });
    expect(lines[1]).toMatchObject({ outcome: 'unknown-token' });
  });

  it('answers accepted lookups and writes who, what and when to the audit log for each', async () => {
    const t0 = Date.now();
    const skip = auditLines().length;
    const user = await get('/api/users/erin/mutations?size=2', ONE);
    expect(user.status).toBe(200);
    const page1 = (await user.json()) as any;
    expect(page1.items).toHaveLength(2);
    const page2 = (await (await get(`/api/users/erin/mutations?size=50&cursor=${page1.next}`, ONE)).json()) as any;
    expect(page1.items.length + page2.items.length).toBe(6); // erin: 3 WAL + 3 CDC records
    const hist = (await (await get('/api/edges/history?table=likes&source=erin&target=10', TWO)).json()) as any;
    expect(hist.items.map((i: any) => `${i.kind}:${i.status}`)).toEqual(['wal:RECEIVED', 'cdc:CREATED', 'wal:RECEIVED', 'cdc:DELETED']);
    const req = (await (await get('/api/requests/req-b', TWO)).json()) as any;
    expect(req.items).toHaveLength(4);
    expect((await get('/api/users/erin/mutations?from=yesterday', ONE)).status).toBe(400);

    const lines = auditLines().slice(skip);
    expect(lines.map((l) => [l.user, l.action, l.status])).toEqual([
      ['agent.one', 'user-mutations', 200],
      ['agent.one', 'user-mutations', 200],
      ['agent.two', 'edge-history', 200],
      ['agent.two', 'request', 200],
      ['agent.one', 'user-mutations', 400],
    ]);
    expect(lines[0]).toMatchObject({ params: { user: 'erin', size: 2 }, status: 200, results: 2 });
    expect(lines[2]).toMatchObject({ params: { table: 'likes', source: 'erin', target: '10' }, results: 4 });
    for (const l of lines) expect(Date.parse(l.at)).toBeGreaterThanOrEqual(t0 - 1000);
  });

  it('the support page finds a user\'s mutations in a real browser (headless Chromium) and is refused with a wrong token', async () => {
    const before = auditLines().length;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(base + '/');
      await page.fill('#token', 'wrong-token-000');
      await page.fill('#by-user input[name=user]', 'erin');
      await page.click('#by-user button');
      await page.waitForSelector('#status.error');
      expect(await page.textContent('#status')).toContain('refused');

      await page.fill('#token', ONE);
      await page.click('#by-user button');
      await page.locator('#results tbody tr').nth(5).waitFor();
      expect(await page.locator('#results tbody tr').count()).toBe(6);
      const statuses = await page.$$eval('#results tbody tr.cdc td:nth-child(6)', (tds) => tds.map((td) => td.textContent));
      expect(statuses.sort()).toEqual(['CREATED', 'CREATED', 'DELETED']);

      await page.fill('#by-edge input[name=source]', 'erin');
      await page.fill('#by-edge input[name=target]', '10');
      await page.click('#by-edge button');
      // A polled locator count, not waitForFunction: the page's CSP (no unsafe-eval) refuses string evaluation.
      await waitFor('4 history rows', async () => (await page.locator('#results tbody tr').count()) === 4);
      const outcome = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => tr.children[7]?.textContent));
      expect(outcome[3]).toBe('active@100 → inactive@200');
      const dir = join(repoRoot, 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'es-indexer-support-page.png'), fullPage: true });
    } finally {
      await browser.close();
    }
    expect(auditLines().slice(before).map((l) => [l.action, l.status])).toEqual([
      ['none', 401],
      ['user-mutations', 200],
      ['edge-history', 200],
    ]);
  });

  it('the page signs in from a #token= link, drops the token from the address bar, shows times in the viewer\'s zone and links a record to its request', async () => {
    const before = auditLines().length;
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      // Seoul: UTC+9 all year, so the expected wall-clock time is plain arithmetic.
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, timezoneId: 'Asia/Seoul', locale: 'en-GB' });
      await page.goto(`${base}/#token=${ONE}`);
      await waitFor('signed in', async () => (await page.textContent('#status')) === 'Signed in as agent.one.');
      expect(page.url()).toBe(`${base}/`);
      expect(await page.evaluate('location.hash')).toBe('');
      expect(await page.textContent('#when-head')).toBe('When (Asia/Seoul)');

      await page.fill('#by-edge input[name=source]', 'erin');
      await page.fill('#by-edge input[name=target]', '10');
      await page.click('#by-edge button');
      await waitFor('4 history rows', async () => (await page.locator('#results tbody tr').count()) === 4);
      const hist = (await (await get('/api/edges/history?table=likes&source=erin&target=10', ONE)).json()) as any;
      const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent ?? '')));
      for (const [i, item] of (hist.items as any[]).entries()) {
        const seoul = new Date(item.at + 9 * 3_600_000).toISOString();
        expect(rows[i]![0]).toContain(seoul.slice(11, 23)); // HH:MM:SS.mmm in Seoul
        expect(rows[i]![0]).not.toContain('T');
        expect(rows[i]![4]).toBe(item.types.join(' → '));
      }
      expect(rows.map((r) => r[4])).toEqual(['INSERT', 'INSERT', 'DELETE', 'DELETE']);

      // The request link of the last outcome opens that request: its WAL record and its CDC outcome.
      await page.locator('#results tbody tr').nth(3).locator('td:nth-child(9) a').click();
      await waitFor('the request view', async () => (await page.textContent('#status'))?.startsWith('Request req-c') === true);
      const request = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => `${tr.className}:${tr.children[5]?.textContent}`));
      expect(request).toEqual(['wal:RECEIVED', 'cdc:DELETED']);
    } finally {
      await browser.close();
    }
    expect(auditLines().slice(before).map((l) => [l.user, l.action, l.status])).toEqual([
      ['agent.one', 'whoami', 200],
      ['agent.one', 'edge-history', 200],
      ['agent.one', 'edge-history', 200],
      ['agent.one', 'request', 200],
    ]);
  }, 60_000);

  it('shows a LONG id and version above 2^53 exactly, through Elasticsearch, the API and the page', async () => {
    const id = '9007199254740993'; // 2^53 + 1: a double cannot hold it (it becomes ...992)
    const version = '1764470000000000001'; // nanoseconds
    // Bare digits on the wire: JSON.stringify cannot write them.
    const res = await fetch(`${core.url}/graph/v3/databases/shop/tables/likes/edges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-long', 'x-actor-id': 'support-it' },
      body: `{"mutations":[{"type":"INSERT","edge":{"version":${version},"source":"gil","target":${id},"properties":{"created_at":${version}}}}]}`,
    });
    expect(res.status).toBe(200);
    const raw = await waitFor('the WAL and CDC records of gil through the lookup', async () => {
      const r = await get('/api/users/gil/mutations', ONE);
      const text = await r.text();
      return r.status === 200 && (JSON.parse(text) as { items: unknown[] }).items.length === 2 && text;
    }, 60_000);
    // The API's own text: the endpoints as strings, the versions as exact integers.
    expect(raw).toContain(`"target":"${id}"`);
    expect(raw).toContain(`"after":{"active":true,"version":${version}}`);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${base}/#token=${ONE}`);
      await page.fill('#by-user input[name=user]', 'gil');
      await page.click('#by-user button');
      await waitFor('2 rows of gil', async () => (await page.locator('#results tbody tr').count()) === 2);
      const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => ({ kind: tr.className, edge: tr.children[3]?.textContent, version: tr.children[6]?.textContent, states: tr.children[7]?.textContent })));
      expect(rows.sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
        { kind: 'cdc', edge: `gil → ${id}`, version, states: `∅ → active@${version}` },
        { kind: 'wal', edge: `gil → ${id}`, version, states: '' },
      ]);
      // The whole record on demand: the request as stored, every integer as it was sent.
      page.on('dialog', (d) => void d.accept('checking a LONG id for a ticket'));
      await page.locator('#results tbody tr.wal button.reveal').click();
      await page.locator('#revealed:not([hidden])').waitFor();
      const record = (await page.textContent('#revealed pre')) ?? '';
      expect(record).toContain(`"target": ${id}`);
      expect(record).toContain(`"version": ${version}`);
      expect(record).not.toContain('9007199254740992');
    } finally {
      await browser.close();
    }
  }, 90_000);
});
