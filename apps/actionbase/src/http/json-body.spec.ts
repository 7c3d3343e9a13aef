import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseLossless, scanJson, stringifyLossless } from './json-body';

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

  it('measures depth outside strings only', async () => {
    expect((await scanJson('[[["[[[["]]]', 3)).tooDeep).toBe(false);
    expect((await scanJson('[[[[]]]]', 3)).tooDeep).toBe(true);
  });
});
