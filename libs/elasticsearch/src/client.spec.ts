import { describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { tempDir } from '@pipeline/testing';
import { checkEsAuth, createEsClient, esClientOptions, esConnectionFromEnv, esEnv } from './client';
import { LongSafeSerializer } from './serializer';

const schema = z.object(esEnv).superRefine(checkEsAuth);

describe('the Elasticsearch connection from the environment', () => {
  it('defaults to the local node without credentials', () => {
    expect(schema.parse({})).toEqual({ ES_URL: 'http://127.0.0.1:9200' });
  });

  it('refuses a user without a password, and an API key with a user, naming the variable', () => {
    const issues = (env: Record<string, string>) => schema.safeParse(env).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ ES_USERNAME: 'u' })).toEqual(['ES_PASSWORD: set ES_USERNAME and ES_PASSWORD together']);
    expect(issues({ ES_PASSWORD: 'p' })).toEqual(['ES_USERNAME: set ES_USERNAME and ES_PASSWORD together']);
    expect(issues({ ES_API_KEY: 'k', ES_USERNAME: 'u', ES_PASSWORD: 'p' })).toEqual(['ES_API_KEY: set ES_API_KEY or ES_USERNAME/ES_PASSWORD, not both']);
    expect(issues({ ES_URL: 'not a url' })?.[0]).toMatch(/^ES_URL: /);
  });
});

describe('client options', () => {
  it('always carry the lossless serializer, and the caller\'s tuning', () => {
    const o = esClientOptions({ url: 'http://es:9200' }, { requestTimeout: 30_000 });
    expect(o).toEqual({ node: 'http://es:9200', Serializer: LongSafeSerializer, requestTimeout: 30_000 });
    expect(esClientOptions({ url: 'http://es:9200' })).not.toHaveProperty('requestTimeout');
  });

  it('authenticate with the API key, or with the user and password', () => {
    expect(esClientOptions({ url: 'http://es:9200', apiKey: 'k' }).auth).toEqual({ apiKey: 'k' });
    const env = schema.parse({ ES_USERNAME: 'u', ES_PASSWORD: 'p' });
    expect(esClientOptions(esConnectionFromEnv(env)).auth).toEqual({ username: 'u', password: 'p' });
    expect(esClientOptions({ url: 'http://es:9200', username: 'u' })).not.toHaveProperty('auth');
  });

  it('trust the given CA only, and verify the certificate', () => {
    const file = join(tempDir('es-ca'), 'ca.crt');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\n');
    const o = esClientOptions({ url: 'https://es:9200', caFile: file });
    expect(o.tls).toEqual({ ca: Buffer.from('-----BEGIN CERTIFICATE-----\n'), rejectUnauthorized: true });
    expect(() => esClientOptions({ url: 'https://es:9200', caFile: join(file, 'missing') })).toThrow(/ENOTDIR|ENOENT/);
  });

  it('a created client uses the lossless serializer', async () => {
    const client = createEsClient({ url: 'http://127.0.0.1:9' });
    expect(client.serializer).toBeInstanceOf(LongSafeSerializer);
    await client.close();
  });
});
