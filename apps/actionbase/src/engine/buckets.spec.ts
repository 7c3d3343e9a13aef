import { describe, expect, it } from '@jest/globals';
import { applyBucket, bucketOf, formatPeriod, queryPeriod, type DateBucket } from './buckets';

const day = (timezone: string, format = 'yyyy-MM-dd', unit: DateBucket['unit'] = 'MILLISECOND'): DateBucket => ({ type: 'date', name: 'day', unit, timezone, format });
const TS = 1704067200000; // 2024-01-01T00:00:00Z

describe('date buckets (Actionbase Bucket.Date)', () => {
  it('formats the period of a time in the bucket zone, Java pattern letters and quoted literals', () => {
    expect(formatPeriod(day('+00:00'), TS)).toBe('2024-01-01');
    expect(formatPeriod(day('-05:00'), TS)).toBe('2023-12-31');
    expect(formatPeriod(day('Asia/Seoul', "yyyy-MM-dd'T'HH"), TS)).toBe('2024-01-01T09');
    expect(formatPeriod(day('+00:00', 'yyMMdd HH:mm'), TS + 90 * 60_000)).toBe('240101 01:30');
  });

  it('reads the value in its unit; absent or non-integer values have no period', () => {
    expect(applyBucket(day('+00:00', 'yyyy-MM-dd', 'SECOND'), TS / 1000)).toBe('2024-01-01');
    expect(applyBucket(day('+00:00', 'yyyy-MM-dd', 'NANOSECOND'), BigInt(TS) * 1_000_000n)).toBe('2024-01-01');
    expect(applyBucket(day('+00:00'), null)).toBeNull();
    expect(applyBucket(day('+00:00'), 'soon')).toBeNull();
  });

  it('resolves now and now±N(m|h|d) in queries; ceil rounds up to the next period', () => {
    const now = TS + 5 * 3_600_000; // 05:00 on 2024-01-01
    expect(queryPeriod(day('+00:00'), 'now', false, now)).toBe('2024-01-01');
    expect(queryPeriod(day('+00:00'), 'now-1d', false, now)).toBe('2023-12-31');
    expect(queryPeriod(day('+00:00'), 'now+2h', false, now)).toBe('2024-01-01');
    expect(queryPeriod(day('+00:00'), 'now', true, now)).toBe('2024-01-02');
    expect(queryPeriod(day('+00:00'), 'now', true, TS)).toBe('2024-01-01'); // on a boundary already
    expect(queryPeriod(day('+09:00'), 'now', true, now)).toBe('2024-01-02'); // 14:00 in Seoul, next day starts at 15:00Z
    expect(queryPeriod(day('+00:00'), '2024-02-03', false, now)).toBe('2024-02-03');
  });

  it('refuses a bucket that is not a date bucket, naming the field', () => {
    expect(() => bucketOf({ type: 'week', name: 'w' }, 'schema.groups[0].fields[0].bucket')).toThrow(/schema.groups\[0\].fields\[0\].bucket/);
    expect(bucketOf(undefined, 'x')).toBeNull();
  });
});
