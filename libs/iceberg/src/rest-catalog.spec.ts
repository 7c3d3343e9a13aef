import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { applyUpdates, newTableMetadata, type Snapshot, type TableMetadata, type TableUpdate } from './metadata';
import { restCreateUpdates, restUpdates } from './rest-catalog';
import { icebergSchema, SNAPSHOT_COLUMNS } from './row-schema';

const empty = () => newTableMetadata({ location: '/w/db/t', schema: icebergSchema(SNAPSHOT_COLUMNS), sortFieldIds: [1, 2, 3], now: 1000, properties: { a: '1' } });

const snap = (id: bigint, seq: number, parent?: bigint): Snapshot => ({
  'snapshot-id': id,
  ...(parent !== undefined ? { 'parent-snapshot-id': parent } : {}),
  'sequence-number': seq,
  'timestamp-ms': 1000 * seq,
  'manifest-list': `/w/db/t/metadata/snap-${id}.avro`,
  summary: { operation: 'append' },
  'schema-id': 0,
});

/** A table with n snapshots on main. */
function chain(n: number): TableMetadata {
  let m = empty();
  for (let i = 1; i <= n; i++) {
    const id = BigInt(i) * 1_000_000_000_000_007n;
    m = applyUpdates(m, [{ action: 'add-snapshot', snapshot: snap(id, i, i > 1 ? BigInt(i - 1) * 1_000_000_000_000_007n : undefined) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id }], 1000 * i);
  }
  return m;
}

const observable = (m: TableMetadata) => ({ snapshots: m.snapshots.map((s) => s['snapshot-id']).sort(), refs: m.refs, properties: m.properties, current: m['current-snapshot-id'] });

describe('restUpdates', () => {
  it('an append becomes add-snapshot + set-snapshot-ref, asserting the uuid and main at the base snapshot', () => {
    const base = chain(2);
    const next = applyUpdates(base, [{ action: 'add-snapshot', snapshot: snap(77n, 3, base['current-snapshot-id']!) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 77n }]);
    const { requirements, updates } = restUpdates(base, next);
    expect(requirements).toEqual([
      { type: 'assert-table-uuid', uuid: base['table-uuid'] },
      { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': base['current-snapshot-id'] },
    ]);
    expect(updates.map((u) => u.action)).toEqual(['add-snapshot', 'set-snapshot-ref']);
  });

  it('the first snapshot of an empty table asserts that main does not exist yet', () => {
    const base = empty();
    const next = applyUpdates(base, [{ action: 'add-snapshot', snapshot: snap(5n, 1) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 5n }]);
    expect(restUpdates(base, next).requirements).toContainEqual({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null });
  });

  it('refuses changes it cannot express (schema, location)', () => {
    const base = chain(1);
    expect(() => restUpdates(base, { ...base, location: '/elsewhere' })).toThrow(/"location"/);
    expect(() => restUpdates(base, { ...base, schemas: [] })).toThrow(/"schemas"/);
  });

  it('property: applying the updates to the base gives the planned metadata (snapshots, refs, properties)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.oneof(fc.constant('append' as const), fc.constant('rollback' as const), fc.constant('expire' as const), fc.constant('tag' as const), fc.constant('prop' as const), fc.constant('unprop' as const)), { maxLength: 6 }),
        fc.bigInt({ min: 1n, max: (1n << 63n) - 1n }),
        (n, ops, seed) => {
          const base = chain(n);
          let next = base;
          let id = seed;
          for (const op of ops) {
            const cur = next['current-snapshot-id'];
            const updates: TableUpdate[] = [];
            if (op === 'append') {
              id = (id * 31n + 7n) % ((1n << 63n) - 1n) || 1n;
              if (next.snapshots.some((s) => s['snapshot-id'] === id)) continue;
              updates.push({ action: 'add-snapshot', snapshot: snap(id, next['last-sequence-number'] + 1, cur ?? undefined) }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id });
            } else if (op === 'rollback' && next.snapshots.length > 1) {
              updates.push({ action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': next.snapshots[0]!['snapshot-id'] });
            } else if (op === 'tag' && cur !== null) {
              updates.push({ action: 'set-snapshot-ref', 'ref-name': 'v1', type: 'tag', 'snapshot-id': cur });
            } else if (op === 'expire') {
              const refd = new Set(Object.values(next.refs).map((r) => r['snapshot-id']));
              const gone = next.snapshots.map((s) => s['snapshot-id']).filter((s) => !refd.has(s)).slice(0, 2);
              if (gone.length) updates.push({ action: 'remove-snapshots', 'snapshot-ids': gone });
            } else if (op === 'prop') {
              updates.push({ action: 'set-properties', updates: { [`k${ops.length}`]: String(seed % 100n) } });
            } else if (op === 'unprop') {
              updates.push({ action: 'remove-properties', removals: ['a'] });
            }
            next = applyUpdates(next, updates);
          }
          const { updates } = restUpdates(base, next);
          const replayed = applyUpdates(base, updates as unknown as TableUpdate[]);
          expect(observable(replayed)).toEqual(observable(next));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('restCreateUpdates', () => {
  it('builds the whole table from nothing, default sort order last, then its snapshots and main', () => {
    const m = chain(1);
    const actions = restCreateUpdates(m).map((u) => u.action);
    expect(actions).toEqual([
      'assign-uuid',
      'upgrade-format-version',
      'add-schema',
      'set-current-schema',
      'add-spec',
      'set-default-spec',
      'add-sort-order',
      'add-sort-order',
      'set-default-sort-order',
      'set-location',
      'add-snapshot',
      'set-snapshot-ref',
      'set-properties',
    ]);
    const orders = restCreateUpdates(m).filter((u) => u.action === 'add-sort-order') as unknown as { 'sort-order': { 'order-id': number } }[];
    expect(orders.map((o) => o['sort-order']['order-id'])).toEqual([0, m['default-sort-order-id']]);
  });
});
