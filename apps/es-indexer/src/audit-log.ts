/**
 * The audit trail of the support lookup: who looked up what, when, one JSON line per accepted request, appended
 * to a file (append-only: opened with O_APPEND, never rewritten). Appends are serialised so lines never interleave,
 * and a lookup is answered only after its line is written.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface AuditEntry {
  at: string;
  user: string;
  action: string;
  params: Record<string, unknown>;
  ip: string;
  status: number;
  results?: number;
}

export class AuditLog {
  private handle: Promise<FileHandle>;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly file: string) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.handle = open(file, 'a', 0o600);
    this.handle.catch(() => undefined);
  }

  append(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    const next = this.chain.then(async () => {
      const h = await this.handle;
      await h.appendFile(line);
      await h.datasync();
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    await (await this.handle).close();
  }
}
