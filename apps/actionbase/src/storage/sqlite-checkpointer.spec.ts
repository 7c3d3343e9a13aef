import { describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@pipeline/testing';
import { SqliteCheckpointer } from './sqlite-checkpointer';

describe('the WAL checkpointer', () => {
  it('copies committed pages into the database file from its own thread, while the writer never checkpoints', async () => {
    const path = join(tempDir('ckpt'), 'x.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0'); // the writer's own checkpoints off: only the worker's can grow the file
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run(i, 'v'.repeat(500));
    })();
    const before = statSync(path).size;
    const errors: string[] = [];
    const checkpointer = new SqliteCheckpointer(path, (m) => errors.push(m), { intervalMs: 20, minFrames: 1 });
    try {
      const deadline = Date.now() + 30_000;
      while (statSync(path).size <= before + 500_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).size).toBeGreaterThan(before + 500_000);
      expect(errors).toEqual([]);
      expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2_000);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });

  it('leaves a WAL of few frames alone until it holds minFrames, then checkpoints it', async () => {
    const path = join(tempDir('ckpt'), 'x.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const write = (from: number, n: number) =>
      db.transaction(() => {
        for (let i = from; i < from + n; i++) insert.run(i, 'v'.repeat(500));
      })();
    write(0, 20); // a few pages
    const before = statSync(path).size;
    const errors: string[] = [];
    const checkpointer = new SqliteCheckpointer(path, (m) => errors.push(m), { intervalMs: 20, minFrames: 200, maxIntervalMs: 60_000 });
    try {
      // Twenty looks of the running worker: a WAL under minFrames stays where it is. (A span is the only way to
      // show nothing happens; it starts once the worker has its connection, so a slow start cannot pass for it.)
      await checkpointer.started;
      await new Promise((r) => setTimeout(r, 400));
      expect(statSync(path).size).toBe(before);
      write(20, 2_000); // hundreds of pages
      const deadline = Date.now() + 30_000;
      while (statSync(path).size <= before + 500_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).size).toBeGreaterThan(before + 500_000);
      expect(errors).toEqual([]);
    } finally {
      await checkpointer.close();
      db.close();
    }
  });
});
