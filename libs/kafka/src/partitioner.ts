/**
 * Kafka's Java default partitioning for keyed records: murmur2 (seed 0x9747b28c) over the key bytes,
 * made positive with `& 0x7fffffff`, modulo the partition count
 * (org.apache.kafka.common.utils.Utils.murmur2 / toPositive, BuiltInPartitioner.partitionForKey).
 * Records of one key land in the same partition as a Java producer would put them.
 */

/** Java's Utils.murmur2: a signed 32-bit hash of the bytes. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seed = 0x9747b28c;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (seed ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    let k = view.getInt32(i * 4, true);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length4 * 4;
  const rest = length % 4;
  if (rest === 3) h ^= view.getUint8(tail + 2) << 16;
  if (rest >= 2) h ^= view.getUint8(tail + 1) << 8;
  if (rest >= 1) {
    h ^= view.getUint8(tail);
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's Utils.toPositive. */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition a Java producer picks for this key. */
export function partitionForKey(key: string | Uint8Array, numPartitions: number): number {
  if (!Number.isInteger(numPartitions) || numPartitions <= 0) throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return toPositive(murmur2(bytes)) % numPartitions;
}

/**
 * toPositive(murmur2(key)): what a partitioner callback returns when the client itself takes it modulo the
 * partition count (e.g. @platformatic/kafka's `partitioner` option).
 */
export function positiveKeyHash(key: string | Uint8Array): number {
  return toPositive(murmur2(typeof key === 'string' ? Buffer.from(key, 'utf8') : key));
}
