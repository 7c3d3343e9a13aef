/**
 * The PostgreSQL store's own guarantees, with two store instances (as two core processes would hold)
 * on one real database: per-key serialization across them, CDC sequence order equal to commit order,
 * catalog changes announced to the other instance, migrations safe to run from several at once.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createTestDatabase, waitFor } from '@pipeline/testing';
import type { EdgeRow, KeyWrite } from '../../src/storage/edge-store';
import { PgEdgeStore } from '../../src/storage/pg-store';

const opened: PgEdgeStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

async function twoStores(): Promise<[PgEdgeStore, PgEdgeStore]> {
  const url = await createTestDatabase();
  // Opened at once: both run the migrations; node-pg-migrate's lock lets one do it.
  const stores = await Promise.all([PgEdgeStore.open({ connectionString: url, poolSize: 8 }), PgEdgeStore.open({ connectionString: url, poolSize: 8 })]);
  opened.push(...stores);
  return stores;
}

/** One read-modify-write: the edge's version goes up by one; the CDC record carries the version written. */
const bump =
  (key: string) =>
  (before: Map<string, EdgeRow>): KeyWrite[] => {
    const prev = before.get(key);
    const version = Number(prev?.state.version ?? 0) + 1;
    return [
      {
        row: { key, source: 's', target: key, state: { active: true, version, createdAt: 1, deletedAt: null, properties: {} } },
        counts: prev ? [] : [{ direction: 'OUT', start: 's', delta: 1 }],
        removeIndex: [],
        addIndex: [],
        cdc: { kafkaKey: key, build: (seq) => JSON.stringify({ key, version, seq }) },
      },
    ];
  };

describe('PgEdgeStore across instances', () => {
  it('serializes writers of one key across instances: no lost update, exact counts, CDC seq order is version order', async () => {
    const [a, b] = await twoStores();
    const keys = ['["s","k1"]', '["s","k2"]', '["s","k3"]'];
    const perKey = 60;
    const writes: Promise<number[]>[] = [];
    // No in-process lock here: only the store's advisory locks keep these apart.
    for (let i = 0; i < perKey; i++) for (const k of keys) writes.push((i % 2 ? a : b).applyMutations('t#7', [k], bump(k)));
    await Promise.all(writes);

    const rows = await a.getRows('t#7', keys);
    for (const k of keys) expect(rows.get(k)?.state.version).toBe(perKey);
    expect(await b.count('t#7', 'OUT', 's')).toBe(keys.length);

    const outbox = await b.readOutbox(0, 10_000);
    expect(outbox).toHaveLength(perKey * keys.length);
    for (const k of keys) {
      const versions = outbox.filter((r) => r.key === k).map((r) => (JSON.parse(r.value) as { version: number }).version);
      expect(versions).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
    }
    // The seq written into each record is its outbox position, and the hybrid-clock floor holds.
    for (const r of outbox) expect((JSON.parse(r.value) as { seq: number }).seq).toBe(r.seq);
    expect(outbox[0]!.seq).toBeGreaterThanOrEqual((Date.now() - 60_000) * 2048);
  });

  it('takes the locks of a multi-key slice in one order: crossing slices on two instances never deadlock', async () => {
    const [a, b] = await twoStores();
    const keys = Array.from({ length: 20 }, (_, i) => `["s","x${i}"]`);
    const slice = (ks: string[]) => (before: Map<string, EdgeRow>) => ks.flatMap((k) => bump(k)(before));
    const runs: Promise<number[]>[] = [];
    for (let i = 0; i < 20; i++) {
      runs.push(a.applyMutations('t#8', keys, slice(keys)));
      runs.push(b.applyMutations('t#8', [...keys].reverse(), slice([...keys].reverse())));
    }
    await Promise.all(runs);
    const rows = await a.getRows('t#8', keys);
    for (const k of keys) expect(rows.get(k)?.state.version).toBe(40);
  });

  it('announces a catalog change to the other instance, which reads it back', async () => {
    const [a, b] = await twoStores();
    let heard = 0;
    b.onCatalogChange(() => heard++);
    // The listener connects in the background: change until it hears (each change is a new database).
    let n = 0;
    await waitFor('the other instance to hear a catalog change', async () => {
      await a.saveDatabase({ name: `db${n++}`, comment: '', active: true });
      return heard > 0;
    });
    const snap = await b.loadCatalog();
    expect(snap.databases.map((d) => d.name)).toContain('db0');
  });

  it('rolls a failed unit back whole', async () => {
    const [a] = await twoStores();
    await expect(
      a.atomically(async (tx) => {
        await tx.saveDatabase({ name: 'gone', comment: '', active: true });
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await a.loadCatalog()).databases).toEqual([]);
  });
});
