import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { tempDir } from '@pipeline/testing';
import { AuditLog, GENESIS, verifyAuditFiles } from './audit-log';

const entry = (n: number) => ({ at: new Date(0).toISOString(), user: `u${n}`, action: 'test', ip: '127.0.0.1', status: 200, results: n });

describe('audit log (files on disk)', () => {
  it('chains lines, survives rename and deletion, and verify finds edits and removals', async () => {
    const dir = tempDir('audit-spec');
    const file = join(dir, 'audit.jsonl');
    const log = new AuditLog(file, 'k'.repeat(32));
    for (const n of [1, 2, 3]) await log.append(entry(n));
    renameSync(file, `${file}.1`);
    await log.append(entry(4));
    const second = readFileSync(file, 'utf8');
    rmSync(file);
    await log.append(entry(5));
    await log.close();
    writeFileSync(`${file}.2`, second);

    const ok = await verifyAuditFiles([`${file}.1`, `${file}.2`, file], 'k'.repeat(32));
    expect(ok).toMatchObject({ ok: true, lines: 5, startsAfter: GENESIS });
    // Without the key every hash is wrong.
    expect((await verifyAuditFiles([`${file}.1`])).ok).toBe(false);

    const lines = readFileSync(`${file}.1`, 'utf8').split('\n').filter(Boolean);
    writeFileSync(join(dir, 'edited'), [lines[0], lines[1]!.replace('"u2"', '"u9"'), lines[2]].join('\n'));
    expect((await verifyAuditFiles([join(dir, 'edited')], 'k'.repeat(32))).error).toMatchObject({ line: 2, problem: expect.stringContaining('edited') });
    writeFileSync(join(dir, 'removed'), [lines[0], lines[2]].join('\n'));
    expect((await verifyAuditFiles([join(dir, 'removed')], 'k'.repeat(32))).error).toMatchObject({ line: 2, problem: expect.stringContaining('removed') });
    // A gap between rotated files is a removal too.
    expect((await verifyAuditFiles([`${file}.1`, file], 'k'.repeat(32))).error).toMatchObject({ file, line: 1 });
    rmSync(dir, { recursive: true });
  });

  it('continues the chain after lines another writer appended', async () => {
    const dir = tempDir('audit-spec');
    const file = join(dir, 'audit.jsonl');
    const a = new AuditLog(file);
    await a.append(entry(1));
    const b = new AuditLog(file);
    await b.append(entry(2));
    await b.close();
    await a.append(entry(3));
    await a.close();
    expect(await verifyAuditFiles([file])).toMatchObject({ ok: true, lines: 3 });
    rmSync(dir, { recursive: true });
  });
});
