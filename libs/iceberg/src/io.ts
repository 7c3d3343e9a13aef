import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Creates `file` (never overwrites one) with the bytes and fsyncs it: complete before anything names it. */
export async function writeDurable(file: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a folder, so the names created in it survive a power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
