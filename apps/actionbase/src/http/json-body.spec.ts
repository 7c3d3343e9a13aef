import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseLossless, scanJson, Serialized, serializeInSlices, stringifyLossless } from './json-body';

const parse = async (text: string) => parseLossless(text, await scanJson(text, 64));

describe('lossless JSON bodies', () => {
  it('integers beyond 2^53 become bigint; everything else is what JSON.parse gives', async () => {
    const v = (await parse('{"a":9007199254740993,"b":-9223372036854775808,"c":9007199254740991,"d":1e21,"e":12345678901234567.5,"s":"9007199254740993","t":[18446744073709551616]}')) as Record<string, unknown>;
    expect(v).toEqual({ a: 9007199254740993n, b: -9223372036854775808n, c: 9007199254740991, d: 1e21, e: Number('12345678901234567.5'), s: '9007199254740993', t: [18446744073709551616n] });
  });

  it('digits inside strings, escaped quotes included, are left alone', async () => {
    expect(await parse('{"k":"a\\"12345678901234567890","n":1}')).toEqual({ k: 'a"12345678901234567890', n: 1 });
  });

  it('round-trips any 64-bit integer through parse and stringify as a bare JSON integer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), async (b) => {
        const text = `{"v":${b}}`;
        const parsed = (await parse(text)) as { v: number | bigint };
        expect(BigInt(parsed.v)).toBe(b);
        expect(typeof parsed.v).toBe(Number.isSafeInteger(Number(b)) && BigInt(Number(b)) === b ? 'number' : 'bigint');
        expect(stringifyLossless(parsed)).toBe(text);
      }),
    );
  });

  it('parsing in slices gives exactly what JSON.parse gives', async () => {
    const slicing = { minChars: 0, perSlice: 3 };
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
        fc.string(),
        fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 40 }),
        async (rest, key, items) => {
          const text = JSON.stringify({ ...rest, [key]: items });
          const scan = await scanJson(text, 64);
          fc.pre(scan.bigIntegers.length === 0); // those differ from JSON.parse on purpose (bigint)
          expect(await parseLossless(text, scan, slicing)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 300 },
    );
    const withBig = `{"a":1,"mutations":[${Array.from({ length: 10 }, (_, i) => `{"v":${9007199254740993n + BigInt(i)},"s":"x,]"}`).join(',')}],"z":[1,2]}`;
    const parsed = (await parseLossless(withBig, await scanJson(withBig, 64), slicing)) as { mutations: { v: bigint }[] };
    expect(parsed.mutations.map((m) => m.v)).toEqual(Array.from({ length: 10 }, (_, i) => 9007199254740993n + BigInt(i)));
  });

  it('measures depth outside strings only', async () => {
    expect((await scanJson('[[["[[[["]]]', 3)).tooDeep).toBe(false);
    expect((await scanJson('[[[[]]]]', 3)).tooDeep).toBe(true);
  });

  it('an answer with a long array, serialized in slices, is the text stringifyLossless gives', async () => {
    const results = Array.from({ length: 2_345 }, (_, i) => ({ source: `u${i}`, target: i % 3 ? i : 2n ** 63n - BigInt(i), status: 'CREATED', count: 1 }));
    const payload = { before: 'x', results, after: [1, 2] };
    const out = await serializeInSlices(payload);
    expect(out).toBeInstanceOf(Serialized);
    expect((out as Serialized).text).toBe(stringifyLossless(payload));
    const small = { results: results.slice(0, 10) };
    expect(await serializeInSlices(small)).toBe(small); // left to the reply serializer
  });
});
