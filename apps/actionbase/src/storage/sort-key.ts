/**
 * Order-preserving binary encoding of index values, so that the storage engine can keep index rows
 * sorted by plain byte comparison (SQLite BLOB order, HBase row keys) and scan ranges and pages cheaply.
 *
 * Each component is self-delimiting and prefix-free, which is what makes DESC a plain byte inversion:
 * inverting a prefix-free encoding reverses its order.
 */

const TAG_NULL = 0x01;
const TAG_FALSE = 0x02;
const TAG_TRUE = 0x03;
const TAG_NUMBER = 0x04;
const TAG_STRING = 0x05;

function encodeNumber(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = TAG_NUMBER;
  b.writeDoubleBE(n === 0 ? 0 : n, 1); // -0 and 0 compare equal
  // IEEE-754 to lexicographic: flip the sign bit of positives, every bit of negatives.
  if ((b[1]! & 0x80) === 0) b[1] = b[1]! | 0x80;
  else for (let i = 1; i < 9; i++) b[i] = ~b[i]! & 0xff;
  return b;
}

function encodeString(s: string): Buffer {
  const raw = Buffer.from(s, 'utf8');
  // Escape 0x00 as 0x00 0xFF and terminate with 0x00 0x00: prefix-free and order-preserving.
  const out: number[] = [TAG_STRING];
  for (const byte of raw) {
    out.push(byte);
    if (byte === 0x00) out.push(0xff);
  }
  out.push(0x00, 0x00);
  return Buffer.from(out);
}

export function encodeComponent(value: unknown): Buffer {
  if (value === null || value === undefined) return Buffer.from([TAG_NULL]);
  if (typeof value === 'boolean') return Buffer.from([value ? TAG_TRUE : TAG_FALSE]);
  if (typeof value === 'number') return encodeNumber(value);
  if (typeof value === 'bigint') return encodeNumber(Number(value));
  if (typeof value === 'string') return encodeString(value);
  return encodeString(JSON.stringify(value));
}

function invert(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  for (let i = 0; i < b.length; i++) out[i] = ~b[i]! & 0xff;
  return out;
}

export function encodeSortKey(values: readonly unknown[], orders: readonly ('ASC' | 'DESC')[]): Buffer {
  return Buffer.concat(
    values.map((v, i) => {
      const c = encodeComponent(v);
      return orders[i] === 'DESC' ? invert(c) : c;
    }),
  );
}

/**
 * A key greater than every key that starts with `prefix`: no component starts with 0xFF
 * (tags are 0x01-0x05, inverted 0xFA-0xFE).
 */
export function prefixUpperBound(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([0xff])]);
}
