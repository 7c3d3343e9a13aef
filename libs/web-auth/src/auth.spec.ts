import { describe, expect, it } from '@jest/globals';
import { Authenticator, mintToken, parseTokenList, tokenWeakness } from './auth';

const A = 'alpha-Kq82mZx0Lp4w-token';
const B = 'bravo-Wn37cVt5Hr9e-token';

describe('token rules', () => {
  it('refuses weak tokens with the reason', () => {
    expect(tokenWeakness('password')).toMatch(/8 characters long; use 20 or more/);
    expect(tokenWeakness('aaaaaaaaaaaaaaaaaaaaaaaa')).toMatch(/fewer than 8 distinct/);
    expect(tokenWeakness('abcdefghijabcdefghij')).toMatch(/bits; 96 or more/);
    expect(tokenWeakness(A)).toBeUndefined();
    // What tools/scripts/start-pipeline.sh generates: 12 random bytes as hex.
    expect(tokenWeakness('3f9c0a7be1d24c58a96e0b1f')).toBeUndefined();
  });

  it('refuses duplicate tokens, naming both holders, and accepts several tokens for one person', () => {
    expect(() => parseTokenList(`ann:${A},bob:${A}`)).toThrow('ann and bob have the same token');
    expect(() => parseTokenList(`ann:${A},:${B}`)).toThrow(/entry 2: expected user:token/);
    expect([...parseTokenList(`ann:${A},ann:${B}`).values()]).toEqual(['ann', 'ann']);
  });
});

describe('Authenticator', () => {
  const secret = 'jwt-secret-that-is-long-enough-0123456789';
  const auth = new Authenticator(parseTokenList(`ann:${A},bob:${B}`), { secret, audience: 'lookup', maxTtlSeconds: 3600, userClaim: 'sub' });

  it('accepts only Authorization: Bearer with a configured token', async () => {
    expect(await auth.authenticate(`Bearer ${A}`)).toEqual({ user: 'ann', via: 'token' });
    expect(await auth.authenticate(`bearer ${B}`)).toEqual({ user: 'bob', via: 'token' });
    expect(await auth.authenticate(undefined)).toEqual({ refusal: 'missing' });
    expect(await auth.authenticate(A)).toEqual({ refusal: 'malformed' });
    expect(await auth.authenticate(`Basic ${Buffer.from(`ann:${A}`).toString('base64')}`)).toEqual({ refusal: 'malformed' });
    expect(await auth.authenticate(`Bearer ${A.slice(0, -1)}`)).toEqual({ refusal: 'unknown-token' });
    expect(await auth.authenticate(`Bearer ${A} `)).toEqual({ refusal: 'malformed' });
  });

  it('accepts a short-lived signed token and refuses expired, foreign, long-lived and unsigned ones', async () => {
    expect(await auth.authenticate(`Bearer ${await mintToken({ secret, audience: 'lookup' }, 'carol', 600)}`)).toEqual({ user: 'carol', via: 'jwt' });
    expect(await auth.authenticate(`Bearer ${await mintToken({ secret, audience: 'other' }, 'carol', 600)}`)).toEqual({ refusal: 'bad-claims' });
    expect(await auth.authenticate(`Bearer ${await mintToken({ secret: `${secret}-x`, audience: 'lookup' }, 'carol', 600)}`)).toEqual({ refusal: 'bad-signature' });
    expect(await auth.authenticate(`Bearer ${await mintToken({ secret, audience: 'lookup' }, 'carol', 7200)}`)).toEqual({ refusal: 'bad-claims' });
    expect(await auth.authenticate(`Bearer ${await mintToken({ secret, audience: 'lookup' }, 'carol', -10)}`)).toEqual({ refusal: 'expired' });
    const [, payload] = (await mintToken({ secret, audience: 'lookup' }, 'carol', 600)).split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.x`;
    expect(await auth.authenticate(`Bearer ${none}`)).not.toHaveProperty('user');
  });

  it('is empty (refuses everyone) without tokens or a JWT key', () => {
    expect(new Authenticator(new Map()).empty).toBe(true);
    expect(auth.empty).toBe(false);
  });
});
