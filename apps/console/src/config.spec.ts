import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';

describe('console configuration', () => {
  it('defaults to what npm start runs, on loopback', () => {
    const c = loadConfig({});
    expect([c.HOST, c.PORT, c.CORE_URL]).toEqual(['127.0.0.1', 8097, 'http://127.0.0.1:8080']);
    expect(c.CONSUMERS.map((x) => x.name)).toEqual(['async-processor', 'es-indexer', 'snapshotter']);
    expect(c.CONSOLE_TOKENS.size).toBe(0);
  });

  it('reads the consumers list and the tokens, and names the variable of a bad value', () => {
    const c = loadConfig({ CONSUMERS: 'a=http://127.0.0.1:1/, b=http://h:2', CONSOLE_TOKENS: 'ann:alpha-Kq82mZx0Lp4w-token' });
    expect(c.CONSUMERS).toEqual([{ name: 'a', url: 'http://127.0.0.1:1' }, { name: 'b', url: 'http://h:2' }]);
    expect([...c.CONSOLE_TOKENS.values()]).toEqual(['ann']);
    expect(() => loadConfig({ CONSUMERS: 'nourl' })).toThrow(/CONSUMERS.*expected name=http/);
    expect(() => loadConfig({ CONSOLE_TOKENS: 'ann:password' })).toThrow(/CONSOLE_TOKENS.*8 characters long/);
    expect(() => loadConfig({ CATALOG: 'jdbc' })).toThrow(/CATALOG_URL/);
  });

  it('takes the Elasticsearch credentials as es-indexer does, and refuses a half pair or both kinds', () => {
    const c = loadConfig({ ES_URL: 'https://es:9200', ES_USERNAME: 'console', ES_PASSWORD: 'pw-123456', ES_CA_FILE: '/certs/ca.crt' });
    expect([c.ES_URL, c.ES_USERNAME, c.ES_PASSWORD, c.ES_CA_FILE, c.ES_API_KEY]).toEqual(['https://es:9200', 'console', 'pw-123456', '/certs/ca.crt', undefined]);
    expect(() => loadConfig({ ES_USERNAME: 'console' })).toThrow(/ES_PASSWORD.*together/);
    expect(() => loadConfig({ ES_API_KEY: 'a2V5', ES_USERNAME: 'u', ES_PASSWORD: 'p' })).toThrow(/ES_API_KEY.*not both/);
  });
});
