import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from './process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs fn while holding a lock folder (mkdir is atomic), so several processes (e.g. parallel jest
 * globalSetups) that ensure the same service do not start it twice. A lock whose owner died is taken over.
 */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const owner = path.join(lockDir, 'owner');
  await mkdir(path.dirname(lockDir), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(owner, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await isStale(lockDir, owner)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for the lock ${lockDir}; remove it if no stack command runs`);
      }
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function isStale(lockDir: string, owner: string): Promise<boolean> {
  try {
    const pid = Number((await readFile(owner, 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && !isAlive(pid);
  } catch {
    // The owner file is written right after mkdir; a lock without one for long is left over.
    try {
      return Date.now() - (await stat(lockDir)).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
}
