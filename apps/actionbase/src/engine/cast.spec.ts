import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { castField, castKey, castVersion, checkStringKey } from './cast';

const rejects = (f: () => unknown, why?: RegExp) => expect(f).toThrow(why ?? /./);

describe('cast', () => {
  it('versions and LONG values: integers or plain decimal integer text only', () => {
    expect(castVersion(7, 'v')).toBe(7);
    expect(castVersion('7', 'v')).toBe(7);
    expect(castVersion('-12', 'v')).toBe(-12);
    for (const bad of ['0x10', '0b11', '0o7', '1e3', ' 7 ', '7 ', '', '1.5', 'Infinity', 'NaN', '+7', true, null, undefined, {}, [], 1.5, Infinity])
      rejects(() => castVersion(bad, 'v'));
    for (const bad of ['0x10', '1e3', ' 7', 1.5, true]) {
      rejects(() => castField(bad, 'LONG', 'p'), /expected LONG/);
      rejects(() => castField(bad, 'INT', 'p'), /expected INT/);
      rejects(() => castKey(bad, 'LONG', 'k'), /expected LONG/);
    }
    rejects(() => castField(2 ** 31, 'INT', 'p'), /32-bit/);
    expect(castField('2147483647', 'INT', 'p')).toBe(2147483647);
  });

  it('decimal text round-trips for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(castVersion(String(n), 'v')).toBe(n);
        expect(castKey(String(n), 'LONG', 'k')).toBe(n);
      }),
    );
  });

  it('DOUBLE takes JSON-number text, nothing looser', () => {
    expect(castField('1.5', 'DOUBLE', 'p')).toBe(1.5);
    expect(castField('-2e3', 'DOUBLE', 'p')).toBe(-2000);
    for (const bad of ['0x10', ' 1', '1.', '.5', 'Infinity', '', true]) rejects(() => castField(bad, 'DOUBLE', 'p'), /expected DOUBLE/);
  });

  it('BOOLEAN, STRING and JSON', () => {
    expect(castField('true', 'BOOLEAN', 'p')).toBe(true);
    rejects(() => castField('yes', 'BOOLEAN', 'p'), /expected BOOLEAN/);
    expect(castField(5, 'STRING', 'p')).toBe('5');
    expect(castField({ a: [1] }, 'JSON', 'p')).toEqual({ a: [1] });
    expect(castField(null, 'LONG', 'p')).toBeNull();
  });

  it('string keys: what can be written can be read back', () => {
    for (const [bad, why] of [
      ['', /empty/],
      [' a', /whitespace/],
      ['a\t', /whitespace/],
      ['a,b', /comma/],
      ['\ud800', /surrogate/],
      ['a\udfffb', /surrogate/],
      ['k'.repeat(4097), /at most 4096 bytes/],
      ['é'.repeat(2049), /at most 4096 bytes/],
    ] as const)
      rejects(() => checkStringKey(bad, 'source'), why);
    for (const ok of ['a', 'in side', 'ü🙂', 'k'.repeat(4096), 'semi;colon:ok']) expect(castKey(ok, 'STRING', 'source')).toBe(ok);
    rejects(() => castKey(undefined, 'STRING', 'source'), /required/);
  });

  it('any well-formed string without commas or outer whitespace, within the size, is a key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }), (s) => {
        const ok = s.trim() === s && !s.includes(',');
        if (ok) expect(checkStringKey(s, 'k')).toBe(s);
        else rejects(() => checkStringKey(s, 'k'));
      }),
    );
  });
});
