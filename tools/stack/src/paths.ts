import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file that holds nx.json (else the cwd). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'nx.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

/**
 * Where the stack keeps classpaths, data, logs and pid files: `<repo>/.stack` (git-ignored),
 * or `$STACK_DIR` when set.
 */
export function stackDir(): string {
  const fromEnv = process.env['STACK_DIR'];
  return fromEnv ? path.resolve(fromEnv) : path.join(repoRoot(), '.stack');
}
