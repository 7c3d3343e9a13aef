/**
 * The audit trail of the support lookup: who looked up what, when, and what came of it, one JSON line per request
 * (refusals included), appended to a file opened with O_APPEND, fsynced, serialised so lines never interleave; a
 * lookup is answered only after its line is on disk.
 *
 * Tamper evidence: every line carries `prev` (the hash of the line before) and ends with `hash`, the SHA-256 (or
 * HMAC-SHA-256 with AUDIT_CHAIN_KEY) of the line's text up to that field. Editing, inserting or removing a line
 * breaks the chain at that point, which `verifyAuditFile` (the `verify-audit` command) reports. Without a key,
 * someone able to rewrite the whole file can recompute every hash; with a key kept away from the file they cannot.
 *
 * Rotation: before each append the path is stat()ed; when it no longer names the open file (renamed, deleted,
 * replaced), the file is opened again. The new file's first `prev` is the last hash of the old one, so rotated
 * files verify as one chain.
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface AuditEntry {
  at: string;
  /** The authenticated person; null when the request was refused before anyone was known. */
  user: string | null;
  action: string;
  /** The route pattern the request matched (null: none). */
  route?: string | null;
  method?: string;
  /** The request path and query as received (credentials-like query values redacted). */
  url?: string;
  params?: Record<string, unknown>;
  ip: string;
  status: number;
  results?: number;
  /** Why a request was refused or failed (e.g. `unknown-token`, `bad-cursor`). */
  outcome?: string;
  /** The reason the person gave, for a reveal or an erasure. */
  reason?: string;
}

export const GENESIS = '0'.repeat(64);
const LINE = /^(\{.*),"hash":"([0-9a-f]{64})"\}$/;

export function lineHash(body: string, key?: string): string {
  return (key !== undefined ? createHmac('sha256', key) : createHash('sha256')).update(body, 'utf8').digest('hex');
}

/** The last hash of a file's chain, or GENESIS for an empty or missing file. */
async function lastHash(file: string): Promise<string> {
  let h: FileHandle;
  try {
    h = await open(file, 'r');
  } catch {
    return GENESIS;
  }
  try {
    const { size } = await h.stat();
    const len = Math.min(size, 1 << 20);
    const buf = Buffer.alloc(len);
    await h.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n').filter(Boolean);
    const m = LINE.exec(lines.at(-1) ?? '');
    return m ? m[2]! : GENESIS;
  } finally {
    await h.close();
  }
}

export class AuditLog {
  private handle: Promise<{ fh: FileHandle; ino: number; dev: number }> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private prev: Promise<string>;
  /** The file's size after this process's last append (-1: nothing written yet). */
  private size = -1;

  constructor(
    readonly file: string,
    private readonly key?: string,
  ) {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.prev = this.reread();
  }

  /** The chain's last hash as the file says; a read failure fails the next append (and is retried after it). */
  private reread(): Promise<string> {
    const p = lastHash(this.file);
    p.catch(() => undefined);
    return p;
  }

  private async openFile() {
    const fh = await open(this.file, 'a', 0o600);
    const s = await fh.stat();
    return { fh, ino: s.ino, dev: s.dev };
  }

  /**
   * The open handle, reopened when the path now names another file or none (rotation, deletion). When the file
   * holds lines this process did not write (another writer, e.g. the erase command), the chain continues from
   * the file's last line rather than from this process's memory.
   */
  private async current() {
    const now = await stat(this.file).catch(() => undefined);
    if (this.handle) {
      const h = await this.handle;
      if (now && now.ino === h.ino && now.dev === h.dev) {
        if (now.size !== this.size) this.prev = this.reread();
        return h;
      }
      this.handle = undefined;
      await h.fh.close().catch(() => undefined);
    }
    if (now && now.size > 0) this.prev = this.reread();
    this.handle = this.openFile();
    this.handle.catch(() => (this.handle = undefined));
    return this.handle;
  }

  append(entry: AuditEntry): Promise<void> {
    const next = this.chain.then(async () => {
      const h = await this.current();
      const prev = await this.prev;
      const body = JSON.stringify({ prev, ...entry });
      const hash = lineHash(body, this.key);
      await h.fh.appendFile(`${body.slice(0, -1)},"hash":"${hash}"}\n`);
      await h.fh.datasync();
      this.size = (await h.fh.stat()).size;
      this.prev = Promise.resolve(hash);
    });
    this.chain = next.catch(() => {
      // Whatever failed (open, read, write, sync), the next append starts from what the file really holds.
      this.size = -1;
      this.prev = this.reread();
    });
    return next;
  }

  async close(): Promise<void> {
    await this.chain;
    const h = await this.handle?.catch(() => undefined);
    this.handle = undefined;
    await h?.fh.close();
  }
}

export interface VerifyResult {
  ok: boolean;
  lines: number;
  /** The `prev` of the first line: GENESIS, or the last hash of a rotated predecessor. */
  startsAfter: string;
  lastHash: string;
  /** The first broken line (1-based, across the files in order) and what is wrong with it. */
  error?: { file: string; line: number; problem: string };
}

/**
 * Checks the chain of one or more audit files given in order (rotated files oldest first). An edited line fails its
 * own hash; a removed or inserted line fails the next line's `prev`. Removing lines at the very end leaves a valid
 * shorter chain: compare `lastHash` with a copy kept elsewhere to catch that.
 */
export async function verifyAuditFiles(files: string[], key?: string): Promise<VerifyResult> {
  let prev: string | undefined;
  let startsAfter = GENESIS;
  let n = 0;
  for (const file of files) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    if (lines.at(-1) === '') lines.pop();
    for (const [i, text] of lines.entries()) {
      n++;
      const fail = (problem: string): VerifyResult => ({ ok: false, lines: n - 1, startsAfter, lastHash: prev ?? GENESIS, error: { file, line: i + 1, problem } });
      const m = LINE.exec(text);
      if (!m) return fail('not an audit line (no trailing hash)');
      const body = `${m[1]}}`;
      if (lineHash(body, key) !== m[2]) return fail('its content does not match its hash (edited)');
      let linePrev: unknown;
      try {
        linePrev = (JSON.parse(body) as { prev?: unknown }).prev;
      } catch {
        return fail('not valid JSON');
      }
      if (prev === undefined) {
        if (typeof linePrev !== 'string') return fail('no prev hash');
        startsAfter = linePrev;
      } else if (linePrev !== prev) return fail('its prev hash is not the hash of the line before (a line was removed or inserted)');
      prev = m[2]!;
    }
  }
  return { ok: true, lines: n, startsAfter, lastHash: prev ?? GENESIS };
}
