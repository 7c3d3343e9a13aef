/**
 * A new workspace package must be in package-lock.json, or `npm ci` (docker/Dockerfile, CI) refuses the whole
 * install ("Missing: @pipeline/<name>@0.1.0 from lock file"). These are the two entries `npm install` writes
 * for a workspace, in its format (2-space JSON, `packages` keys sorted with localeCompare 'en'), so the
 * generator needs no network and no install run.
 */
export function addWorkspaceToLock(text: string, dir: string, packageName: string, version: string): string {
  const lock = JSON.parse(text) as { packages?: Record<string, unknown> };
  if (!lock.packages) return text; // lockfile v1: leave it to npm
  const link = `node_modules/${packageName}`;
  if (lock.packages[dir] || lock.packages[link]) return text;
  const packages: Record<string, unknown> = { ...lock.packages, [dir]: { name: packageName, version }, [link]: { resolved: dir, link: true } };
  lock.packages = Object.fromEntries(
    Object.keys(packages)
      .sort((a, b) => a.localeCompare(b, 'en'))
      .map((k) => [k, packages[k]]),
  );
  return `${JSON.stringify(lock, null, 2)}\n`;
}
