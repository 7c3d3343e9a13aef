import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Authenticator, parseTokenList } from '@pipeline/web-auth';
import { buildConsoleApi } from './console.api';
import { loadConfig } from './config';
import { Sampler } from './sampler';

const TOKEN = 'operator-Zr81kQm4Wx2p-token';

describe('console API', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const sampler = new Sampler(loadConfig({}), pino({ level: 'silent' }));
    app = await buildConsoleApi({ sampler, auth: new Authenticator(parseTokenList(`ops:${TOKEN}`)), logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => app.close());

  it('serves the page, /health and /metrics without a token', async () => {
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('Pipeline console');
    expect((await app.inject({ url: '/app.js' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'UP' });
    expect((await app.inject({ url: '/metrics' })).body).toContain('console_components');
  });

  it('refuses the figures, and any unknown route, without a valid bearer token', async () => {
    for (const url of ['/api/state', '/api/whoami', '/nothing-here', '/API/state']) {
      expect({ url, status: (await app.inject({ url })).statusCode }).toEqual({ url, status: 401 });
      expect({ url, status: (await app.inject({ url, headers: { authorization: `Bearer ${TOKEN}x` } })).statusCode }).toEqual({ url, status: 401 });
    }
    expect((await app.inject({ url: `/api/state?token=${TOKEN}` })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/api/state', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ user: 'ops', components: [], links: [] });
    expect(ok.headers['cache-control']).toBe('no-store');
    expect((await app.inject({ url: '/nothing-here', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(404);
  });
});
