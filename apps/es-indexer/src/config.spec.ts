import { describe, expect, it } from '@jest/globals';
import { loadConfig } from './config';

const A = 'alpha-Kq82mZx0Lp4w-token';

describe('lookup configuration', () => {
  it('stops the service at start with a message naming LOOKUP_TOKENS', () => {
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', LOOKUP_TOKENS: 'ann:password' })).toThrow(/LOOKUP_TOKENS: the token of ann is 8 characters long/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', LOOKUP_TOKENS: `ann:${A},bob:${A}` })).toThrow(/LOOKUP_TOKENS: ann and bob have the same token/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', LOOKUP_JWT_SECRET: 'short' })).toThrow(/LOOKUP_JWT_SECRET/);
    expect(() => loadConfig({ KAFKA_BROKERS: 'k:9092', LOOKUP_JWT_SECRET: 'x'.repeat(40), LOOKUP_JWT_JWKS_URL: 'https://idp.example/jwks' })).toThrow(/set only one of/);
    const c = loadConfig({ KAFKA_BROKERS: 'k:9092' });
    expect([c.API_HOST, c.HTTP_HOST]).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});
