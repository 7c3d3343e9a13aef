/**
 * A throwaway copy of the workspace for running the real generator, so that the apps/ and docker/ files of
 * the shared working tree are never touched (others run the docker checks and their own apps meanwhile).
 * Only what an app builds on is copied: the root configuration, libs/, tools/ and docker/; node_modules is a
 * symlink to the real one.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

const ROOT_FILES = ['.gitignore', 'nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', 'jest.preset.cjs', 'eslint.config.mjs'];
const SKIP = new Set(['node_modules', 'dist', '.nx', '.stack', '.data', 'tmp', 'coverage']);

export function copyWorkspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-app-gen-'));
  try {
    for (const f of ROOT_FILES) cpSync(join(REPO_ROOT, f), join(dir, f));
    for (const d of ['libs', 'tools', 'docker']) {
      cpSync(join(REPO_ROOT, d), join(dir, d), { recursive: true, filter: (src) => !SKIP.has(basename(src)) });
    }
    mkdirSync(join(dir, 'apps'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    return dir;
  } catch (err) {
    removeWorkspace(dir);
    throw err;
  }
}

export function removeWorkspace(dir: string): void {
  if (!dir.startsWith(tmpdir())) throw new Error(`refusing to remove ${dir}: not a temporary copy`);
  rmSync(dir, { recursive: true, force: true });
}

export const listApps = (root: string): string[] => readdirSync(join(root, 'apps')).sort();
