/**
 * Temporary folders that a test run does not leave behind. `tempDir('relay-spec')` makes a fresh folder under the
 * OS temp dir (`relay-spec-XXXXXX`), anywhere in a test file, even inside a test; the repository's jest
 * environment (jest-environment.cjs, set in jest.preset.cjs) removes every folder a test file made after that
 * file, once its afterAll hooks have stopped whatever wrote there. Outside jest (benchmarks) nothing records them:
 * those folders are the caller's to remove.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = (globalThis as { __pipelineTempDirs?: Set<string> }).__pipelineTempDirs;

/** A fresh folder `<tmpdir>/<prefix>-XXXXXX`, removed after the test file (see above). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made?.add(dir);
  return dir;
}
