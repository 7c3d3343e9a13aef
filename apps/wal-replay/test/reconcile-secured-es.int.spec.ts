/**
 * reconcile's Elasticsearch side against a node with security and TLS: a private node (own folder, free ports,
 * a file-realm user with read rights on the prefix only, HTTPS under a CA of its own), never the shared one.
 * The side is built from the variables as an operator sets them (ES_URL, ES_USERNAME/ES_PASSWORD or ES_API_KEY,
 * ES_CA_FILE), the way the command builds it; a refused credential or an untrusted certificate fails the read
 * with a message naming the variable to fix.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { createKafka } from '@pipeline/kafka';
import { startElasticsearch, stopElasticsearch, type ElasticsearchOptions } from '@pipeline/stack';
import { freePort, tempDir } from '@pipeline/testing';
import { loadConfig } from '../src/config';
import { elasticsearchSide } from '../src/reconcile-command';
import { edgeKey } from '../src/edge-view';

const READER_PW = 'Replay-Reader-Pw-3k8w';
const prefix = `wr-sec-${Date.now().toString(36)}`;
const likes = { database: 'shop', table: 'likes', multi: false, fields: ['created_at'] };
// Offsets are never read here (point() is not called): no connection is made.
const kafka = createKafka({ brokers: ['127.0.0.1:9'], clientId: 'wal-replay-secured-es-test' });

describe('reconcile against an Elasticsearch with security and TLS', () => {
  const nodeDir = tempDir('wr-es-secured');
  let esOpts: ElasticsearchOptions | undefined;
  let esUrl: string;
  let caFile: string;
  let admin: Client | undefined;

  beforeAll(async () => {
    esOpts = {
      dir: nodeDir,
      port: await freePort(),
      transportPort: await freePort(),
      heap: '512m',
      security: {
        username: 'wr-admin',
        password: 'Wr-Admin-Pw-5q1z',
        tls: true,
        roles: { 'wr-reader': { indices: [{ names: [`${prefix}-*`], privileges: ['read'] }] } },
        users: [{ username: 'wr-reader', password: READER_PW, roles: ['wr-reader'] }],
      },
    };
    const started = await startElasticsearch(esOpts);
    esUrl = started.url;
    caFile = started.caFile!;
    admin = new Client({ node: esUrl, auth: { username: started.username!, password: started.password! }, tls: { ca: readFileSync(caFile), rejectUnauthorized: true } });
    // The es-indexer's current-state documents as reconcile reads them: one active edge, one tombstone.
    await admin.indices.create({
      index: `${prefix}-edges`,
      mappings: { properties: { database: { type: 'keyword' }, table: { type: 'keyword' }, docId: { type: 'keyword' }, active: { type: 'boolean' }, state: { type: 'object', enabled: false } } },
    });
    const state = (target: number, active: boolean) => ({ source: 'ann', target, active, version: 100 + target, properties: { created_at: { value: 1_000 + target, version: 100 + target } } });
    for (const [target, active] of [[1, true], [2, false]] as const) {
      await admin.index({ index: `${prefix}-edges`, id: `shop/likes/ann/${target}`, document: { database: 'shop', table: 'likes', docId: `shop/likes/ann/${target}`, active, state: state(target, active) } });
    }
    await admin.indices.refresh({ index: `${prefix}-edges` });
  }, 240_000);

  afterAll(async () => {
    await admin?.close();
    if (esOpts) await stopElasticsearch(esOpts);
  }, 60_000);

  const sideFor = (env: Record<string, string>) => elasticsearchSide(loadConfig(['reconcile'], { KAFKA_BROKERS: '127.0.0.1:9', ES_INDEX_PREFIX: prefix, ES_URL: esUrl, ...env }), kafka);

  async function readWith(env: Record<string, string>): Promise<Map<string, string | null>> {
    const side = sideFor(env);
    try {
      return await side.read(likes, undefined);
    } finally {
      await side.close();
    }
  }

  const failureOf = (env: Record<string, string>) => readWith(env).then(() => 'read succeeded', (e: Error) => e.message);

  it('reads the current state with basic auth over HTTPS verified against ES_CA_FILE', async () => {
    const views = await readWith({ ES_USERNAME: 'wr-reader', ES_PASSWORD: READER_PW, ES_CA_FILE: caFile });
    expect([...views.keys()].sort()).toEqual([edgeKey({ source: 'ann', target: 1 }, false), edgeKey({ source: 'ann', target: 2 }, false)]);
    expect(views.get(edgeKey({ source: 'ann', target: 1 }, false))).toBe('{"properties":{"created_at":1001},"source":"ann","target":"1","version":101}');
    expect(views.get(edgeKey({ source: 'ann', target: 2 }, false))).toBeNull();
    // No current-state index yet (an es-indexer that has indexed nothing): nothing held, not a failure.
    expect(await readWith({ ES_INDEX_PREFIX: `${prefix}-none`, ES_USERNAME: 'wr-reader', ES_PASSWORD: READER_PW, ES_CA_FILE: caFile })).toEqual(new Map());
  });

  it('names ES_USERNAME / ES_PASSWORD when the node refuses the password', async () => {
    expect(await failureOf({ ES_USERNAME: 'wr-reader', ES_PASSWORD: 'not-the-password', ES_CA_FILE: caFile })).toMatch(
      new RegExp(`^reconcile could not read ${prefix}-edges: Elasticsearch at 127\\.0\\.0\\.1:\\d+ refused the credentials \\(401 security_exception: .*\\): check ES_USERNAME \\(wr-reader\\) / ES_PASSWORD$`),
    );
  });

  it('sends ES_API_KEY as an API key, and names it when the node does not know the key', async () => {
    const bogus = Buffer.from('wrUnknownKeyId:wrUnknownKeySecret').toString('base64');
    const message = await failureOf({ ES_API_KEY: bogus, ES_CA_FILE: caFile });
    // The node names the key id it was given: proof the key went out as `Authorization: ApiKey`.
    expect(message).toContain('apikey authentication for id wrUnknownKeyId');
    expect(message).toMatch(/refused the credentials \(401 .*\): check ES_API_KEY$/);
  });

  it('asks for ES_CA_FILE when the node certificate is not trusted, and for credentials when none are set', async () => {
    expect(await failureOf({ ES_USERNAME: 'wr-reader', ES_PASSWORD: READER_PW })).toMatch(/TLS certificate of Elasticsearch at .* is not trusted \(.*\): set ES_CA_FILE/);
    expect(await failureOf({ ES_CA_FILE: caFile })).toMatch(/needs credentials \(401 .*\): set ES_API_KEY or ES_USERNAME\/ES_PASSWORD$/);
  });
});
