/**
 * The console's Elasticsearch box against a node with security and TLS: a private node (own folder, free ports,
 * a file-realm user with `monitor` and read rights on the prefix only, HTTPS under a CA of its own), never the
 * shared one. The sampler runs in-process with the variables as an operator sets them (ES_URL, ES_USERNAME /
 * ES_PASSWORD or ES_API_KEY, ES_CA_FILE); a refused credential or an untrusted certificate turns the box red
 * with a reason naming the variable to fix.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import pino from 'pino';
import { startElasticsearch, stopElasticsearch, type ElasticsearchOptions } from '@pipeline/stack';
import { freePort, tempDir } from '@pipeline/testing';
import { loadConfig } from '../src/config';
import { Sampler, type Component } from '../src/sampler';

const READER_PW = 'Console-Reader-Pw-6v2n';
const prefix = `console-sec-${Date.now().toString(36)}`;

describe('the console against an Elasticsearch with security and TLS', () => {
  const nodeDir = tempDir('console-es-secured');
  let esOpts: ElasticsearchOptions | undefined;
  let esUrl: string;
  let caFile: string;
  let admin: Client | undefined;
  let deadPort: number;

  beforeAll(async () => {
    esOpts = {
      dir: nodeDir,
      port: await freePort(),
      transportPort: await freePort(),
      heap: '512m',
      security: {
        username: 'console-admin',
        password: 'Console-Admin-Pw-1x7d',
        tls: true,
        roles: { 'console-reader': { cluster: ['monitor'], indices: [{ names: [`${prefix}-*`], privileges: ['read'] }] } },
        users: [{ username: 'console-reader', password: READER_PW, roles: ['console-reader'] }],
      },
    };
    const started = await startElasticsearch(esOpts);
    esUrl = started.url;
    caFile = started.caFile!;
    admin = new Client({ node: esUrl, auth: { username: started.username!, password: started.password! }, tls: { ca: readFileSync(caFile), rejectUnauthorized: true } });
    // A mutation-log document as es-indexer writes it, two minutes old.
    await admin.index({ index: `${prefix}-mutations-2026.01`, document: { '@timestamp': Date.now() - 120_000, kind: 'wal' }, refresh: true });
    deadPort = await freePort();
  }, 240_000);

  afterAll(async () => {
    await admin?.close();
    if (esOpts) await stopElasticsearch(esOpts);
  }, 60_000);

  /** One sample of the pipeline with these ES_* variables: only the Elasticsearch box matters here. */
  async function esBox(env: Record<string, string>): Promise<Component> {
    const cfg = loadConfig({
      ES_URL: esUrl,
      ES_INDEX_PREFIX: prefix,
      // Nothing else of the pipeline runs: the other boxes are red, the Elasticsearch box is sampled all the same.
      CORE_URL: `http://127.0.0.1:${deadPort}`,
      CONSUMERS: `es-indexer=http://127.0.0.1:${deadPort}`,
      REQUEST_TIMEOUT_MS: '10000',
      ...env,
    });
    const sampler = new Sampler(cfg, pino({ level: 'silent' }), { admin: () => Promise.reject(new Error('no Kafka in this test')) });
    try {
      await sampler.sample();
      const box = sampler.current().components.find((c) => c.id === 'sink:elasticsearch');
      if (!box) throw new Error('no Elasticsearch box');
      return box;
    } finally {
      await sampler.stop();
    }
  }

  it('reads the cluster and the newest record with basic auth over HTTPS verified against ES_CA_FILE', async () => {
    const box = await esBox({ ES_USERNAME: 'console-reader', ES_PASSWORD: READER_PW, ES_CA_FILE: caFile });
    expect({ status: box.status, reasons: box.reasons }).toEqual({ status: 'ok', reasons: [] });
    expect(box.figures.find((f) => f.label === 'newest record indexed')?.value).toMatch(/^2\.\d min ago$/);
  });

  it('turns red naming ES_USERNAME / ES_PASSWORD when the node refuses the password', async () => {
    const box = await esBox({ ES_USERNAME: 'console-reader', ES_PASSWORD: 'not-the-password', ES_CA_FILE: caFile });
    expect(box.status).toBe('down');
    expect(box.reasons).toEqual([expect.stringMatching(/^Elasticsearch at 127\.0\.0\.1:\d+ refused the credentials \(401 security_exception: .*\): check ES_USERNAME \(console-reader\) \/ ES_PASSWORD$/)]);
    expect(box.figures.find((f) => f.label === 'newest record indexed')?.value).toBe('–');
  });

  it('sends ES_API_KEY as an API key, and names it when the node does not know the key', async () => {
    const bogus = Buffer.from('consoleUnknownKeyId:consoleUnknownKeySecret').toString('base64');
    const box = await esBox({ ES_API_KEY: bogus, ES_CA_FILE: caFile });
    expect(box.status).toBe('down');
    // The node names the key id it was given: proof the key went out as `Authorization: ApiKey`.
    expect(box.reasons).toEqual([expect.stringMatching(/consoleUnknownKeyId.*\): check ES_API_KEY$/)]);
  });

  it('asks for ES_CA_FILE when the certificate is not trusted', async () => {
    const box = await esBox({ ES_USERNAME: 'console-reader', ES_PASSWORD: READER_PW });
    expect(box.status).toBe('down');
    expect(box.reasons).toEqual([expect.stringMatching(/TLS certificate of Elasticsearch at .* is not trusted \(.*\): set ES_CA_FILE/)]);
  });
});
