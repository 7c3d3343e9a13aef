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

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The largest double not above `b` (every double beyond 2^53 is an integer, so BigInt() of it is exact). */
function floorDouble(b: bigint): number {
  f64[0] = Number(b); // nearest
  if (BigInt(f64[0]) > b) {
    // one step toward -Infinity: down in magnitude for positives, up for negatives
    if (f64[0] > 0) u64[0] = u64[0]! - 1n;
    else u64[0] = u64[0]! + 1n;
  }
  return f64[0];
}

/**
 * A LONG beyond ±(2^53-1), held as a bigint: the double at or below it, then its distance from that
 * double (below 2^11 for 64-bit values) in two bytes. Ordered exactly among themselves and against
 * every safe integer (whose 9-byte encodings never share their first 9 bytes: those doubles lie
 * within ±2^53). Values in one LONG field are either safe numbers or such bigints, so the set stays
 * prefix-free, which DESC inversion needs.
 */
function encodeBigInt(b: bigint): Buffer {
  if (b >= -MAX_SAFE && b <= MAX_SAFE) return encodeNumber(Number(b));
  const d = floorDouble(b);
  const offset = Number(b - BigInt(d));
  const out = Buffer.alloc(11);
  encodeNumber(d).copy(out, 0);
  out.writeUInt16BE(offset, 9);
  return out;
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
  if (typeof value === 'bigint') return encodeBigInt(value);
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
