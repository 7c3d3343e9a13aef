import { describe, expect, it } from '@jest/globals';
import { errors } from '@elastic/elasticsearch';
import { createEsClient } from './client';
import { explainEsError } from './explain';

const refusal = (status: number, type: string, reason: string) =>
  new errors.ResponseError({ statusCode: status, body: { error: { type, reason } }, headers: {}, warnings: null, meta: {} as never });

describe('a failed Elasticsearch request explained', () => {
  it('names the credential variable the node refused', () => {
    const r = refusal(401, 'security_exception', 'unable to authenticate with provided credentials');
    expect(explainEsError(r, { url: 'https://es:9200', apiKey: 'k' })).toBe(
      'Elasticsearch at es:9200 refused the credentials (401 security_exception: unable to authenticate with provided credentials): check ES_API_KEY',
    );
    expect(explainEsError(r, { url: 'https://es:9200', username: 'ann', password: 'p' })).toMatch(/check ES_USERNAME \(ann\) \/ ES_PASSWORD$/);
    expect(explainEsError(r, { url: 'https://es:9200' })).toMatch(/needs credentials .*: set ES_API_KEY or ES_USERNAME\/ES_PASSWORD$/);
    expect(explainEsError(refusal(403, 'security_exception', 'action [indices:data/read/search] is unauthorized'), { url: 'https://es:9200', apiKey: 'k' })).toMatch(
      /refused the request \(403 security_exception: action \[indices:data\/read\/search\] is unauthorized\): give ES_API_KEY the privileges/,
    );
  });

  it('keeps what the node says of the credential, and says the status alone when there is no body (HEAD)', () => {
    const r = new errors.ResponseError({
      statusCode: 401,
      body: { error: { type: 'security_exception', reason: 'unable to authenticate', additional_unsuccessful_credentials: 'API key: unable to find apikey with id k1' } },
      headers: {},
      warnings: null,
      meta: {} as never,
    });
    expect(explainEsError(r, { url: 'https://es:9200', apiKey: 'k' })).toBe(
      'Elasticsearch at es:9200 refused the credentials (401 security_exception: unable to authenticate; API key: unable to find apikey with id k1): check ES_API_KEY',
    );
    const head = new errors.ResponseError({ statusCode: 401, body: '', headers: {}, warnings: null, meta: {} as never });
    expect(explainEsError(head, { url: 'https://es:9200', apiKey: 'k' })).toBe('Elasticsearch at es:9200 refused the credentials (401): check ES_API_KEY');
  });

  it('asks for ES_CA_FILE when the certificate is not trusted', () => {
    const err = new errors.ConnectionError('self-signed certificate in certificate chain');
    expect(explainEsError(err, { url: 'https://es:9200' })).toMatch(/not trusted \(self-signed certificate in certificate chain\): set ES_CA_FILE/);
    expect(explainEsError(err, { url: 'https://es:9200', caFile: '/ca.pem' })).toMatch(/not trusted by ES_CA_FILE \/ca\.pem/);
  });

  it('points at ES_URL when nothing listens there (a real refused connection)', async () => {
    const client = createEsClient({ url: 'http://127.0.0.1:9' }, { maxRetries: 0 });
    try {
      const err = await client.cluster.health().then(() => undefined, (e: unknown) => e);
      expect(explainEsError(err, { url: 'http://127.0.0.1:9' })).toBe('connection refused by Elasticsearch at 127.0.0.1:9 (ES_URL)');
    } finally {
      await client.close();
    }
  });
});
