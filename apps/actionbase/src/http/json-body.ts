import type { FastifyInstance } from 'fastify';
import { badRequest } from '../errors';
import { LIMITS, yieldToEventLoop } from '../engine/limits';

const SCAN_SLICE_CHARS = 1 << 20;

/**
 * Deepest nesting of objects and arrays in a JSON text, found without parsing it, in slices that
 * yield the event loop. Stops as soon as `limit` is passed. Brackets inside strings do not count.
 */
export async function jsonDepthExceeds(text: string, limit: number): Promise<boolean> {
  let depth = 0;
  let inString = false;
  for (let start = 0; start < text.length; start += SCAN_SLICE_CHARS) {
    if (start > 0) await yieldToEventLoop();
    const end = Math.min(text.length, start + SCAN_SLICE_CHARS);
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 0x5c) i++; // backslash: skip the escaped character
        else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > limit) return true;
      } else if (c === 0x7d || c === 0x5d) depth--;
    }
  }
  return false;
}

/**
 * JSON request bodies. The nesting depth is checked before parsing: a deep enough body would
 * overflow the stack in the parser, in an encoder or in a replay, each time the same way.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, async (_req: unknown, body: string | Buffer) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return undefined;
    if (await jsonDepthExceeds(text, LIMITS.jsonDepth))
      throw badRequest('body', `nested deeper than ${LIMITS.jsonDepth} levels of objects and arrays; flatten the properties`);
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw badRequest('body', `not valid JSON: ${(err as Error).message}`);
    }
  });
}
