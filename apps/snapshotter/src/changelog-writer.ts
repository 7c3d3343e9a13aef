/**
 * The change log: every CDC record as a row of Parquet files, Hive-style partitioned by table and hour:
 *   <warehouse>/_changelog/table=<database.table>/hour=<yyyy-mm-dd-HH>/part-<uuid>.parquet
 * Each flush writes one file per (table, hour) with what was staged, exactly once: an intent row names the file
 * before it is written (to a dot-prefixed temp name, then renamed), and on restart an intent whose file exists
 * is completed, one whose file is missing is retried. Readers skip dot-files.
 */
import { randomUUID } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CHANGELOG_COLUMNS } from './cdc-row';
import { writeParquet } from './parquet-file';
import type { StagingStore } from './staging-store';

export class ChangeLogWriter {
  constructor(
    private readonly dir: string,
    private readonly store: StagingStore,
    private readonly onWritten?: (file: string) => void | Promise<void>,
  ) {}

  /** Completes or drops the intents of a crashed flush and removes its temp files. */
  async recover(): Promise<void> {
    for (const file of this.store.intents()) {
      if (existsSync(file)) this.store.completeIntent(file);
      else this.store.dropIntent(file);
    }
    await this.removeTemps(this.dir);
  }

  private async removeTemps(dir: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await this.removeTemps(p);
      else if (e.name.startsWith('.') && e.name.endsWith('.tmp')) await rm(p, { force: true });
    }
  }

  /** Writes everything staged up to `gen`; returns the files written. */
  async flush(gen: number): Promise<{ file: string; rows: number }[]> {
    const out: { file: string; rows: number }[] = [];
    for (const { table, hour } of this.store.changelogGroups(gen)) {
      const rows = this.store.changelogRows(table, hour, gen);
      if (rows.length === 0) continue;
      const folder = path.join(this.dir, `table=${encodeURIComponent(table)}`, `hour=${hour}`);
      await mkdir(folder, { recursive: true });
      const name = `part-${Date.now()}-${randomUUID()}.parquet`;
      const file = path.join(folder, name);
      const tmp = path.join(folder, `.${name}.tmp`);
      this.store.addIntent(file, table, hour, gen);
      const { bytes } = writeParquet(CHANGELOG_COLUMNS, rows);
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, file);
      await this.onWritten?.(file);
      this.store.completeIntent(file);
      out.push({ file, rows: rows.length });
    }
    return out;
  }
}
