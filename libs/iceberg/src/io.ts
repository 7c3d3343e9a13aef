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

/**
 * The local path of a location as Iceberg writers record it: a bare absolute path (ours), `file:/p` (Iceberg
 * Java's Hadoop file IO), `file:///p` or `local:///p` (Trino). Object stores are not read here.
 */
export function localPath(location: string): string {
  const m = /^(file|local):(\/\/)?(\/.*)$/.exec(location);
  if (m) return decodeURI(m[3]!);
  if (location.startsWith('/')) return location;
  throw new Error(`cannot read ${location}: only local files (a path, file:/ or local:/ URIs) are supported; mount the warehouse and use a local path`);
}
