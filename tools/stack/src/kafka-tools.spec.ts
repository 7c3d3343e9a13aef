import { describe, expect, it } from '@jest/globals';
import { kafkaToolsArtifacts, parseConsumerPerf, parseProducerPerf } from './kafka-tools';

describe('kafka-tools', () => {
  it("parses ProducerPerformance's summary line, not its progress lines", () => {
    const out = [
      '48001 records sent, 9600.2 records/sec (5.49 MB/sec), 1571.3 ms avg latency, 2364.0 ms max latency.',
      '100000 records sent, 10299.0 records/sec (6.31 MB/sec), 1489.65 ms avg latency, 2541.00 ms max latency, 1468 ms 50th, 2313 ms 95th, 2470 ms 99th, 2532 ms 99.9th.',
      '',
    ].join('\n');
    expect(parseProducerPerf(out)).toEqual({ records: 100000, recordsPerSec: 10299, mbPerSec: 6.31, avgLatencyMs: 1489.65, p50Ms: 1468, p99Ms: 2470 });
  });

  it('says what it got when the tool printed no summary', () => {
    expect(() => parseProducerPerf('Exception in thread "main" org.apache.kafka.common.errors.TimeoutException')).toThrow(/no summary line/);
  });

  it("parses ConsumerPerformance's result line by its header", () => {
    const out = [
      'start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec',
      '2026-11-29 19:00:00:000, 2026-11-29 19:00:04:000, 61.2, 15.3, 100000, 25000.0, 3012, 988, 61.9, 101214.6',
    ].join('\n');
    expect(parseConsumerPerf(out)).toEqual({ records: 100000, recordsPerSec: 25000, mbPerSec: 15.3, fetchRecordsPerSec: 101214.6 });
    expect(() => parseConsumerPerf('WARN no records')).toThrow(/no result/);
  });

  it('fetches the tools of the broker version with an slf4j binding', () => {
    expect(kafkaToolsArtifacts('4.1.1').map((a) => `${a.groupId}:${a.artifactId}:${a.version}`)).toEqual(['org.apache.kafka:kafka-tools:4.1.1', 'org.slf4j:slf4j-nop:1.7.36']);
  });
});
