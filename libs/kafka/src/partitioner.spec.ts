import { describe, it, expect } from '@jest/globals';
import { murmur2, partitionForKey, toPositive } from './partitioner';

// Generated with the Java client (kafka-clients 4.1.1): Utils.murmur2(key.getBytes(UTF_8)),
// Utils.toPositive(h) % 3 and % 12. See docs/kafka-client.md for the one-liner that produced them.
const JAVA: [string, number, number, number][] = [
  ['', 275646681, 0, 9],
  ['a', -1563381124, 1, 4],
  ['ab', 316155434, 2, 2],
  ['abc', 479470107, 0, 3],
  ['abcd', -1323649548, 2, 8],
  ['abcde', 461995741, 1, 1],
  ['21', -973932308, 0, 0],
  ['foobar', -790332482, 0, 6],
  ['a-little-bit-long-string', -985981536, 2, 8],
  ['a-little-bit-longer-string', -1486304829, 2, 11],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 2, 5],
  ['edge:user:1|follows|user:2', 1268123386, 1, 10],
  ['ünïcødé ✓', 1258380168, 0, 0],
  ['kafka', -798503068, 1, 4],
  ['0', 971027396, 2, 8],
  ['1', -1993445489, 0, 3],
  ['128', -326012175, 2, 5],
  ['2187', -1508407203, 2, 5],
  ['16384', -325739742, 2, 2],
  ['78125', -1654490814, 2, 2],
  ['279936', 1462227128, 2, 8],
  ['823543', -2014198330, 1, 10],
  ['2097152', 607668903, 0, 3],
  ['4782969', -1182699775, 1, 1],
  ['10000000', -1830336757, 1, 7],
  ['19487171', -1603849305, 2, 11],
  ['35831808', -857013643, 1, 1],
  ['62748517', -1167431028, 2, 8],
  ['105413504', -381294639, 2, 5],
  ['170859375', -1658323481, 0, 3],
];

describe('Java-compatible murmur2 partitioning', () => {
  it.each(JAVA)('murmur2(%j) matches the Java client', (key, hash, p3, p12) => {
    expect(murmur2(Buffer.from(key, 'utf8'))).toBe(hash);
    expect(partitionForKey(key, 3)).toBe(p3);
    expect(partitionForKey(Buffer.from(key, 'utf8'), 12)).toBe(p12);
  });

  it('toPositive masks the sign bit like Java (not an unsigned shift)', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    // An unsigned view (h >>> 0) would put 'a' (negative hash) in another partition of 3.
    const h = murmur2(Buffer.from('a'));
    expect((h >>> 0) % 3).not.toBe(partitionForKey('a', 3));
  });

  it('rejects a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
  });
});
