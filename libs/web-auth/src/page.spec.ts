import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { tempDir } from '@pipeline/testing';
import { servePage } from './page';

describe('servePage', () => {
  const dir = join(tempDir('web-auth-page'), 'public');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'app.js'), 'console.log(1);');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  const app = Fastify();
  afterAll(() => app.close());

  it('serves the page files with their types as public routes, and an empty favicon', async () => {
    const publicRoutes: string[] = [];
    app.addHook('onRoute', (r) => {
      if (r.config?.public && r.method === 'GET') publicRoutes.push(r.url);
    });
    await servePage(app, pathToFileURL(`${dir}/`));
    expect(publicRoutes.sort()).toEqual(['/', '/app.css', '/app.js', '/favicon.ico']);
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<title>t</title>');
    expect((await app.inject({ url: '/app.js' })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await app.inject({ url: '/app.css' })).body).toBe('body{}');
    expect((await app.inject({ url: '/favicon.ico' })).statusCode).toBe(204);
  });

  it('fails at start, naming the file, when the page is missing', async () => {
    await expect(servePage(Fastify(), pathToFileURL(`${join(dir, 'nowhere')}/`))).rejects.toThrow(/index\.html/);
  });
});
