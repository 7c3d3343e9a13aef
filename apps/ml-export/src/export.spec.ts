/**
 * No leakage, on crafted change logs written as Parquet files whose order disagrees with event time: every
 * example's features are the counts of the changes strictly before it, and a change added later in time never
 * alters an earlier example (while it does alter the later ones, which is what makes this check able to fail).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { runExport, type ExportOptions } from './export';
import { readDataset, tempDir, writeChangeLogFile, type CraftedChange } from './spec-helpers';

const B = Date.UTC(2026, 10, 20, 23, 0, 0);
const H1 = '2026-11-20-23';
const H2 = '2026-11-21-00';
const silent = pino({ level: 'silent' });

const c1: CraftedChange = { at: B + 1000, seq: 1, source: 'u1', target: 'i1', before: null, after: true };
const c2: CraftedChange = { at: B + 2000, seq: 2, source: 'u2', target: 'i1', before: null, after: true };
const c3: CraftedChange = { at: B + 3000, seq: 3, source: 'u1', target: 'i1', before: true, after: false };
const c4: CraftedChange = { at: B + 4000, seq: 4, source: 'u3', target: 'i1', before: null, after: true };
// Same millisecond as c4: the commit sequence orders them.
const c5: CraftedChange = { at: B + 4000, seq: 5, source: 'u1', target: 'i2', before: null, after: true };
// An update of an active edge: counts and labels do not move.
const c7: CraftedChange = { at: B + 5000, seq: 7, source: 'u3', target: 'i1', before: true, after: true };
// The next hour, and the next UTC day.
const c6: CraftedChange = { at: B + 3_600_500, seq: 6_000, source: 'u2', target: 'i2', before: null, after: true };

async function craftedWarehouse(): Promise<string> {
  const wh = await tempDir('wh');
  // File-name order puts later changes first: a fold in read order would see the future.
  await writeChangeLogFile(wh, 'shop.likes', H1, 'part-a.parquet', [c4, c7, c2]);
  await writeChangeLogFile(wh, 'shop.likes', H1, 'part-b.parquet', [c5, c3, c1]);
  await writeChangeLogFile(wh, 'shop.likes', H2, 'part-a.parquet', [c6]);
  return wh;
}

const options = (wh: string, out: string, more: Partial<ExportOptions> = {}): ExportOptions => ({
  TABLE: 'shop.likes',
  OUT_DIR: out,
  OVERWRITE: false,
  WAREHOUSE_DIR: wh,
  CATALOG: 'folder',
  CATALOG_NAME: 'actionbase',
  CUT: 'none',
  NEGATIVES: 0,
  SEED: 1,
  MAX_ROWS_PER_FILE: 1_000_000,
  ...more,
});

const brief = (rows: Awaited<ReturnType<typeof readDataset>>) => rows.map((r) => [r.seq, r.user, r.item, r.label, r.itemIn, r.userOut]);

describe('ml-export on a crafted history', () => {
  it('gives each example the counts of the changes before it, whatever the order of the files', async () => {
    const wh = await craftedWarehouse();
    const out = path.join(await tempDir('out'), 'ds');
    const report = await runExport(options(wh, out), silent);
    const rows = await readDataset(out);
    expect(brief(rows)).toEqual([
      [1, 'u1', 'i1', 'active', 0, 0],
      [2, 'u2', 'i1', 'active', 1, 0],
      [3, 'u1', 'i1', 'removed', 2, 1],
      [4, 'u3', 'i1', 'active', 1, 0],
      [5, 'u1', 'i2', 'active', 0, 0],
      [6_000, 'u2', 'i2', 'active', 1, 1],
    ]);
    // Looking ahead would have shown the first example i1's final count (2), not 0.
    expect(report.finalActiveEdges).toBe(4);
    expect(rows.map((r) => r.day)).toEqual(['2026-11-20', '2026-11-20', '2026-11-20', '2026-11-20', '2026-11-20', '2026-11-21']);
    expect(rows[0]!.eventTimeMs).toBe(c1.at);
    expect(report.fold.inconsistencies).toBe(0);
    const written = JSON.parse(await readFile(path.join(out, '_export.json'), 'utf8')) as { rows: { train: number } };
    expect(written.rows.train).toBe(6);
  });

  it('a change added later in time alters the examples after it and none before it', async () => {
    const wh = await craftedWarehouse();
    const before = await readDataset((await runExport(options(wh, path.join(await tempDir('out'), 'ds')), silent)).out);
    // u4 likes i2 between c5 and c6, in a file whose name sorts first.
    const late: CraftedChange = { at: B + 4500, seq: 8, source: 'u4', target: 'i2', before: null, after: true };
    await writeChangeLogFile(wh, 'shop.likes', H1, 'part-0.parquet', [late]);
    const after = await readDataset((await runExport(options(wh, path.join(await tempDir('out'), 'ds')), silent)).out);

    const earlier = (rows: typeof before) => brief(rows.filter((r) => r.eventTimeMs < late.at));
    expect(earlier(after)).toEqual(earlier(before));
    expect(after.find((r) => r.seq === 8)).toMatchObject({ user: 'u4', item: 'i2', label: 'active', itemIn: 1, userOut: 0 });
    // c6 comes after the new change: its item count sees it (1 -> 2).
    expect(before.find((r) => r.seq === 6_000)!.itemIn).toBe(1);
    expect(after.find((r) => r.seq === 6_000)!.itemIn).toBe(2);
  });

  it('splits by time: examples at or after --split-at go to split=validation', async () => {
    const wh = await craftedWarehouse();
    const out = path.join(await tempDir('out'), 'ds');
    const report = await runExport(options(wh, out, { SPLIT_AT: c4.at }), silent);
    const rows = await readDataset(out);
    expect(rows.filter((r) => r.split === 'train').map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows.filter((r) => r.split === 'validation').map((r) => r.seq)).toEqual([4, 5, 6_000]);
    expect(report.rows).toEqual({ train: 3, validation: 3 });
    // Validation features still fold the whole past, training period included.
    expect(rows.find((r) => r.seq === 4)!.itemIn).toBe(1);
  });

  it('counts a CDC record published twice (same seq) once', async () => {
    const wh = await craftedWarehouse();
    await writeChangeLogFile(wh, 'shop.likes', H1, 'part-c.parquet', [{ ...c2, partition: 1, offset: 99 }]);
    const out = path.join(await tempDir('out'), 'ds');
    const report = await runExport(options(wh, out), silent);
    expect(report.duplicates).toBe(1);
    expect((await readDataset(out)).filter((r) => r.seq === 2)).toHaveLength(1);
    expect(report.finalActiveEdges).toBe(4);
  });

  it('refuses an existing output directory and leaves it as it was', async () => {
    const wh = await craftedWarehouse();
    const out = await tempDir('out');
    await expect(runExport(options(wh, out), silent)).rejects.toThrow(/exists: choose another --out, or pass --overwrite true/);
    await expect(runExport(options(wh, out), silent)).rejects.toMatchObject({ name: 'ExportError', code: 'EXPORT_REFUSED', retryable: false });
    expect(existsSync(path.join(out, 'split=train'))).toBe(false);
  });

  it('names the folder it looked in when the table has no change log', async () => {
    const wh = await craftedWarehouse();
    const out = path.join(await tempDir('out'), 'ds');
    await expect(runExport(options(wh, out, { TABLE: 'shop.follows' }), silent)).rejects.toThrow(/no change log for shop.follows under .*_changelog.*CHANGELOG_ENABLED/);
    expect(existsSync(out)).toBe(false);
  });

  it('with a snapshot cut, names the missing table and writes nothing', async () => {
    const wh = await craftedWarehouse();
    const out = path.join(await tempDir('out'), 'ds');
    await expect(runExport(options(wh, out, { CUT: 'snapshot' }), silent)).rejects.toThrow(/no Iceberg table shop.likes .*--cut none/);
    expect(existsSync(out)).toBe(false);
  });
});
