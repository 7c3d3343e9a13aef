import { describe, expect, it } from '@jest/globals';
import { QueueService } from './queue-service';

const service = () =>
  new QueueService({ queues: () => ({}) as never, allocateTableId: async () => 1 }, { getDatabase: () => ({}) as never, listTables: () => [], listAliases: () => [], purgeDropped: () => undefined, change: (fn) => fn() });

describe('queue partitioning (Actionbase PartitionHasher: floorMod(xxhash32(utf8(key), seed 0), partitions))', () => {
  it('follows xxhash32 test vectors, taken as a signed Java int', async () => {
    const s = service();
    // xxh32("abc", 0) = 0x32D153FF = 852579327 (positive); 852579327 mod 1000 = 327
    expect(await s.partitionOf('abc', 1000)).toBe(327);
    // xxh32("", 0) = 0x02CC5D05 = 46947589; mod 7 = 46947589 - 7 * 6706798 = 3
    expect(await s.partitionOf('', 7)).toBe(3);
    // xxh32("user1", 0) = 0xBB88B2D7, negative as an int (-1148669225): floorMod, not %, keeps it in range
    expect(await s.partitionOf('user1', 30)).toBe(25);
    expect(await s.partitionOf('anything', 1)).toBe(0);
  });
});
