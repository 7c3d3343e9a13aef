import type { FastifyInstance, FastifyRequest } from 'fastify';
import { stringify as losslessStringify } from 'lossless-json';
import { badRequest } from '../errors';
import { LIMITS, SliceClock, type Gate } from '../engine/limits';

/** Characters scanned between two looks at the slice clock. */
const SCAN_CHECK_CHARS = 1 << 15;

export interface BodyScan {
  tooDeep: boolean;
  /** [start, end) of each integer literal outside strings that a JS number cannot hold exactly. */
  bigIntegers: [number, number][];
  /**
   * The largest array that is a member of a top-level object (the `mutations` of a batch): where its
   * brackets and the commas between its elements are, so that it can be parsed in slices.
   */
  array?: { open: number; close: number; commas: number[] };
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * One pass over a JSON text, without parsing it, in slices that yield the event loop: the deepest
 * nesting of objects and arrays (stops once past `depthLimit`), and where the integers beyond
 * ±(2^53-1) are, so that they can be read as bigint instead of being rounded.
 */
export async function scanJson(text: string, depthLimit: number): Promise<BodyScan> {
  let depth = 0;
  let inString = false;
  const bigIntegers: [number, number][] = [];
  const topIsObject = text.trimStart().startsWith('{');
  let array: BodyScan['array'];
  let current: { open: number; commas: number[] } | null = null;
  let i = 0;
  let nextCheck = SCAN_CHECK_CHARS;
  const clock = new SliceClock();
  while (i < text.length) {
    if (i >= nextCheck) {
      nextCheck = i + SCAN_CHECK_CHARS;
      if (clock.due()) await clock.yield();
    }
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > depthLimit) return { tooDeep: true, bigIntegers };
      if (depth === 2 && c === 0x5b && topIsObject) current = { open: i, commas: [] };
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === 2 && current) {
        if (!array || i - current.open > array.close - array.open) array = { ...current, close: i };
        current = null;
      }
      depth--;
    } else if (c === 0x2c) {
      if (depth === 2 && current) current.commas.push(i);
    } else if (c === 0x2d || isDigit(c)) {
      // a number token: digits, then maybe a fraction or an exponent
      const start = i;
      if (c === 0x2d) i++;
      const digitsFrom = i;
      while (i < text.length && isDigit(text.charCodeAt(i))) i++;
      const digits = i - digitsFrom;
      const next = text.charCodeAt(i);
      const integer = next !== 0x2e && next !== 0x65 && next !== 0x45;
      if (integer && digits >= 16 && !Number.isSafeInteger(Number(text.slice(start, i)))) bigIntegers.push([start, i]);
      continue;
    }
    i++;
  }
  return { tooDeep: false, bigIntegers, ...(array ? { array } : {}) };
}

/** Kept for callers that only need the depth. */
export async function jsonDepthExceeds(text: string, limit: number): Promise<boolean> {
  return (await scanJson(text, limit)).tooDeep;
}

/** Stands for a big integer inside the text handed to JSON.parse; random, so no client string can imitate it. */
const BIG_MARK = `\\u0000big:${Math.random().toString(36).slice(2)}:`;
const BIG_MARK_PARSED = JSON.parse(`"${BIG_MARK}"`) as string;

/** Marks each big integer of `text` (positions from `scan`) as a string JSON.parse keeps exact. */
function markBigIntegers(text: string, spans: [number, number][]): string {
  let marked = '';
  let from = 0;
  for (const [start, end] of spans) {
    marked += text.slice(from, start) + `"${BIG_MARK}${text.slice(start, end)}"`;
    from = end;
  }
  return marked + text.slice(from);
}

/** Bodies from this size on are parsed in slices of their big array's elements. */
const SLICED_PARSE_CHARS = 1 << 20;
/** Elements parsed by one JSON.parse; the slice clock decides when to yield. */
const ELEMENTS_PER_PARSE = 32;

/**
 * JSON.parse, with the integers that `scan` found read as bigint: each is turned into a marked string
 * first, and the marked strings into bigint after (a full lossless parser is about 80 times slower on
 * a 7 MiB batch). A big body's main array is parsed a slice of elements at a time, yielding the event
 * loop in between: one JSON.parse of 7 MiB held it for tens of milliseconds.
 */
export async function parseLossless(text: string, scan: BodyScan, slicing = { minChars: SLICED_PARSE_CHARS, perSlice: ELEMENTS_PER_PARSE }): Promise<unknown> {
  if (scan.bigIntegers.length > 0) {
    const marked = markBigIntegers(text, scan.bigIntegers);
    // positions moved: scan the marked text again for the array (it has no big integers left)
    return revive(await parseSliced(marked, await scanJson(marked, Number.MAX_SAFE_INTEGER), slicing));
  }
  return parseSliced(text, scan, slicing);
}

async function parseSliced(text: string, scan: BodyScan, slicing: { minChars: number; perSlice: number }): Promise<unknown> {
  const a = scan.array;
  const ELEMENTS_PER_SLICE = slicing.perSlice;
  if (!a || text.length < slicing.minChars || a.commas.length < ELEMENTS_PER_SLICE) return JSON.parse(text);
  // the object around the array, with a placeholder where the array was
  const skeleton = JSON.parse(`${text.slice(0, a.open)}"${BIG_MARK}array"${text.slice(a.close + 1)}`) as Record<string, unknown>;
  const key = Object.keys(skeleton).find((k) => skeleton[k] === `${BIG_MARK_PARSED}array`);
  if (key === undefined) return JSON.parse(text);
  const bounds = [a.open, ...a.commas, a.close];
  const out: unknown[] = [];
  const clock = new SliceClock();
  for (let e = 0; e < bounds.length - 1; e += ELEMENTS_PER_SLICE) {
    if (clock.due()) await clock.yield();
    const from = bounds[e]! + 1;
    const to = bounds[Math.min(e + ELEMENTS_PER_SLICE, bounds.length - 1)]!;
    for (const v of JSON.parse(`[${text.slice(from, to)}]`) as unknown[]) out.push(v);
  }
  skeleton[key] = out;
  return skeleton;
}

function revive(v: unknown): unknown {
  if (typeof v === 'string') return v.startsWith(BIG_MARK_PARSED) ? BigInt(v.slice(BIG_MARK_PARSED.length)) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = revive(o[k]);
  }
  return v;
}

/** An answer already serialized (by `serializeInSlices`): the reply serializer sends its text as is. */
export class Serialized {
  constructor(readonly text: string) {}
}

/** Answers with an array longer than this (the results of a big batch) are serialized in slices. */
const SLICED_ANSWER_ITEMS = 1_000;
const ANSWER_ITEMS_PER_STRINGIFY = 64;

/**
 * The answer to a big batch (10,000 results, ~700 KB of JSON) serialized a slice of its main array at a
 * time, yielding the event loop in between; other answers are left to the reply serializer as they are.
 */
export async function serializeInSlices(payload: unknown): Promise<unknown> {
  // Plain objects only: anything else may serialize itself (toJSON).
  if (typeof payload !== 'object' || payload === null || Object.getPrototypeOf(payload) !== Object.prototype) return payload;
  const o = payload as Record<string, unknown>;
  const key = Object.keys(o).find((k) => Array.isArray(o[k]) && (o[k] as unknown[]).length > SLICED_ANSWER_ITEMS);
  if (key === undefined) return payload;
  const items = o[key] as unknown[];
  const placeholder = JSON.stringify(`${BIG_MARK}answer`);
  const skeleton = stringifyLossless({ ...o, [key]: `${BIG_MARK}answer` });
  const parts: string[] = [];
  const clock = new SliceClock();
  for (let i = 0; i < items.length; i += ANSWER_ITEMS_PER_STRINGIFY) {
    if (clock.due()) await clock.yield();
    parts.push(stringifyLossless(items.slice(i, i + ANSWER_ITEMS_PER_STRINGIFY)).slice(1, -1));
  }
  const at = skeleton.indexOf(placeholder);
  return new Serialized(`${skeleton.slice(0, at)}[${parts.join(',')}]${skeleton.slice(at + placeholder.length)}`);
}

/** JSON with bigint written as a bare integer (never quoted); plain JSON.stringify when there is none. */
export function stringifyLossless(payload: unknown): string {
  try {
    return JSON.stringify(payload);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const text = losslessStringify(payload);
    if (text === undefined) throw err;
    return text;
  }
}

/**
 * JSON request bodies. The nesting depth is checked before parsing: a deep enough body would
 * overflow the stack in the parser, in an encoder or in a replay, each time the same way.
 */
/** Bodies from this size on are big batches: parsed and processed a few at a time (see `heavy`). */
export const HEAVY_BODY_CHARS = 1 << 20;

/**
 * `heavy` bounds how many big bodies are parsed and processed at once. Each parsed batch costs about
 * ten times its size in memory and keeps the event loop and the garbage collector busy; letting all
 * admitted batches in at once made the probes wait for seconds. The permit is held until the answer.
 */
export function registerJsonBodyParser(app: FastifyInstance, heavy: Gate): void {
  app.addHook('preSerialization', async (_req, _reply, payload) => serializeInSlices(payload));
  app.setReplySerializer((payload) => (payload instanceof Serialized ? payload.text : stringifyLossless(payload)));
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, async (req: FastifyRequest, body: string | Buffer) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return undefined;
    if (text.length >= HEAVY_BODY_CHARS) req.releaseHeavy = await heavy.acquire();
    const scan = await scanJson(text, LIMITS.jsonDepth);
    if (scan.tooDeep) throw badRequest('body', `nested deeper than ${LIMITS.jsonDepth} levels of objects and arrays; flatten the properties`);
    try {
      return await parseLossless(text, scan);
    } catch (err) {
      throw badRequest('body', `not valid JSON: ${(err as Error).message}`);
    }
  });
}
