import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  applyUpdates,
  currentSnapshot,
  InvalidUpdateError,
  newTableMetadata,
  parseMetadata,
  snapshotsToExpire,
  stringifyMetadata,
  toSnapshotId,
  type Snapshot,
  type TableMetadata,
} from './metadata';
import { icebergSchema, SNAPSHOT_COLUMNS } from './row-schema';

const base = () => newTableMetadata({ location: '/w/db/t', schema: icebergSchema(SNAPSHOT_COLUMNS), sortFieldIds: [1, 2, 3], now: 1000 });

const snap = (id: bigint, seq: number, ts: number, parent?: bigint): Snapshot => ({
  'snapshot-id': id,
  ...(parent !== undefined ? { 'parent-snapshot-id': parent } : {}),
  'sequence-number': seq,
  'timestamp-ms': ts,
  'manifest-list': `/w/db/t/metadata/snap-${id}.avro`,
  summary: { operation: 'append' },
  'schema-id': 0,
});

/** n snapshots on main, one per sequence number, ts = 1000 * seq. */
function chain(ids: bigint[]): TableMetadata {
  let m = base();
  ids.forEach((id, i) => {
    m = applyUpdates(
      m,
      [
        { action: 'add-snapshot', snapshot: snap(id, i + 1, 1000 * (i + 1), i ? ids[i - 1] : undefined) },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
      ],
      1000 * (i + 1),
    );
  });
  return m;
}

const id64 = fc.bigInt({ min: 1n, max: 2n ** 63n - 1n });

describe('table metadata JSON', () => {
  it('round-trips 64-bit snapshot ids exactly (JSON.parse would round them)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(id64, { minLength: 1, maxLength: 6 }), (ids) => {
        const m = chain(ids);
        const text = stringifyMetadata(m);
        const back = parseMetadata(text);
        expect(back).toEqual(m);
        expect(back['current-snapshot-id']).toBe(ids[ids.length - 1]);
        // The id is written as a plain JSON integer, as Iceberg Java writes it.
        expect(text).toMatch(new RegExp(`"current-snapshot-id": ?${ids[ids.length - 1]},`));
      }),
    );
  });

  it('reads a metadata file with ids beyond 2^53 as other engines write them', () => {
    const big = 9_007_199_254_740_993n; // 2^53 + 1: JSON.parse turns it into ...992
    const text = stringifyMetadata(chain([big]));
    expect(BigInt(JSON.parse(text)['current-snapshot-id'] as number)).not.toBe(big);
    expect(parseMetadata(text)['current-snapshot-id']).toBe(big);
    expect(parseMetadata(text.replace(`"current-snapshot-id": ${big}`, '"current-snapshot-id": -1'))['current-snapshot-id']).toBeNull();
  });

  it('takes snapshot ids from strings and safe numbers only', () => {
    expect(toSnapshotId('9223372036854775807')).toBe(2n ** 63n - 1n);
    expect(toSnapshotId(42)).toBe(42n);
    expect(() => toSnapshotId(2 ** 60)).toThrow(/not exact/);
    expect(() => toSnapshotId('12a')).toThrow(/integer/);
  });
});

describe('applyUpdates', () => {
  it('is pure: the base is unchanged', () => {
    const m = chain([1n, 2n]);
    const before = structuredClone(m);
    applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 1n }, { action: 'set-properties', updates: { a: 'b' } }]);
    expect(m).toEqual(before);
  });

  it('moves main (rollback), logs it, and keeps the later snapshots', () => {
    const m = applyUpdates(chain([1n, 2n, 3n]), [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 1n }], 9000);
    expect(currentSnapshot(m)?.['snapshot-id']).toBe(1n);
    expect(m.refs['main']).toEqual({ 'snapshot-id': 1n, type: 'branch' });
    expect(m.snapshots.map((s) => s['snapshot-id'])).toEqual([1n, 2n, 3n]);
    expect(m['snapshot-log'].at(-1)).toEqual({ 'snapshot-id': 1n, 'timestamp-ms': 9000 });
  });

  it('rejects a ref to a missing snapshot, removing a referenced snapshot, a duplicate id, a stale sequence number', () => {
    const m = chain([1n, 2n]);
    expect(() => applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 7n }])).toThrow(InvalidUpdateError);
    expect(() => applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': [2n] }])).toThrow(/ref main/);
    expect(() => applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(2n, 3, 5) }])).toThrow(/already exists/);
    expect(() => applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(9n, 2, 5) }])).toThrow(/sequence number/);
  });

  it('removing snapshots keeps the snapshot log naming only live snapshots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 11 }), (n, keepRaw) => {
        const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
        const m = chain(ids);
        const remove = ids.slice(0, Math.min(keepRaw, n - 1));
        const after = applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': remove }]);
        const live = new Set(after.snapshots.map((s) => s['snapshot-id']));
        expect(after.snapshots).toHaveLength(n - remove.length);
        for (const e of after['snapshot-log']) expect(live.has(e['snapshot-id'])).toBe(true);
        expect(after['current-snapshot-id']).toBe(ids[n - 1]);
      }),
    );
  });
});

describe('snapshotsToExpire', () => {
  it('never expires the current snapshot, a ref, or the newest minSnapshotsToKeep; expires only old ones', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 14 }), (n, keep, age, tagAt) => {
        const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
        let m = chain(ids);
        const tagged = ids[Math.min(tagAt, n - 1)]!;
        m = applyUpdates(m, [{ action: 'set-snapshot-ref', 'ref-name': 'audit', type: 'tag', 'snapshot-id': tagged }], m['last-updated-ms']);
        const now = 1000 * n + 10_000;
        const expired = snapshotsToExpire(m, { maxSnapshotAgeMs: age, minSnapshotsToKeep: keep }, now);
        const gone = new Set(expired);
        expect(gone.has(ids[n - 1]!)).toBe(false);
        expect(gone.has(tagged)).toBe(false);
        for (const s of m.snapshots) {
          if (!gone.has(s['snapshot-id'])) continue;
          expect(now - s['timestamp-ms']).toBeGreaterThan(age);
          expect(n - s['sequence-number']).toBeGreaterThanOrEqual(keep);
        }
        // The expiry applies (no ref points at an expired snapshot).
        expect(() => applyUpdates(m, [{ action: 'remove-snapshots', 'snapshot-ids': expired }])).not.toThrow();
      }),
    );
  });
});
