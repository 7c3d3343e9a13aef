/**
 * What a pipeline app that serves a browser page (the support lookup, the console) sends and serves alike: the
 * security headers of every answer, and the page's own files as public routes.
 */
import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without authentication (the page's static files, probes). */
    public?: boolean;
  }
}

/** On every answer, page and API alike. The page loads only its own script and style, talks only to its origin and may not be framed. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const PAGE_FILES: Record<string, string> = { '/': 'index.html', '/app.js': 'app.js', '/app.css': 'app.css' };
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/**
 * Registers the page (`index.html`, `app.js`, `app.css` of `publicDir`, read once here) and an empty favicon as
 * public routes. Browsers ask for the favicon on their own; without its route each page load would leave a 401.
 */
export async function servePage(app: FastifyInstance, publicDir: URL): Promise<void> {
  app.get('/favicon.ico', { config: { public: true } }, async (_req, reply) => reply.code(204).header('cache-control', 'max-age=86400').send());
  for (const [route, file] of Object.entries(PAGE_FILES)) {
    const body = await readFile(new URL(file, publicDir));
    const type = TYPES[file.split('.').pop()!]!;
    app.get(route, { config: { public: true } }, async (_req, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
}
