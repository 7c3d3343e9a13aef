// Helpers of the static checks of docker/ (compose.spec.ts): read the compose file as Compose does
// (YAML merge keys resolved), list the apps, run the external validators.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// `yaml` is in node_modules through Nx's dependencies (not a declared dependency of the workspace);
// its default export works with both the v1 (CommonJS) and v2 packages.
import YAML from 'yaml';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const dockerDir = join(repoRoot, 'docker');

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string; args?: Record<string, string> | string[] };
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  command?: string | string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(file = join(dockerDir, 'compose.yaml')): ComposeFile {
  const doc = YAML.parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeFile;
  if (!doc || typeof doc.services !== 'object') throw new Error(`${file}: no services`);
  return doc;
}

/** A `KEY: value` map or a `KEY=value` list (both allowed by Compose) as a map. */
export function asMap(v: Record<string, unknown> | string[] | undefined): Record<string, string> {
  if (v === undefined) return {};
  if (Array.isArray(v)) {
    return Object.fromEntries(
      v.map((item) => {
        const i = item.indexOf('=');
        return i < 0 ? [item, ''] : [item.slice(0, i), item.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, val == null ? '' : String(val)]));
}

/** Service name → APP build argument, for the services built from a Dockerfile with APP set. */
export function appServices(compose: ComposeFile): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, svc] of Object.entries(compose.services)) {
    const app = asMap(svc.build?.args)['APP'];
    if (app) out.set(name, app);
  }
  return out;
}

/** The apps that no service builds (by its APP build argument). */
export function missingAppServices(compose: ComposeFile, apps: string[]): string[] {
  const built = new Set(appServices(compose).values());
  return apps.filter((a) => !built.has(a));
}

/** The directories of apps/ (each one an app the Dockerfile can build). */
export function appDirs(root = repoRoot): string[] {
  const apps = join(root, 'apps');
  if (!existsSync(apps)) return [];
  return readdirSync(apps)
    .filter((n) => !n.startsWith('.') && statSync(join(apps, n)).isDirectory())
    .sort();
}

export interface ToolRun {
  status: number;
  output: string;
}

/**
 * Runs an external checker. A missing tool is an error naming what to install, never a silent pass.
 */
export function runTool(cmd: string, args: string[], installHint: string, env: NodeJS.ProcessEnv = process.env): ToolRun {
  const r = spawnSync(cmd, args, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${cmd} is not installed (needed by the docker/ checks): ${installHint}`);
    }
    throw r.error;
  }
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Source files of an app (not its tests), to check that a declared health path is served. An app on
 * the consumer runtime serves the runtime's probes, so libs/stream's sources count for it.
 */
export function appSources(app: string, root = repoRoot): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|mjs)$/.test(e.name) && !/\.spec\.ts$/.test(e.name)) out.push(p);
    }
  };
  const src = join(root, 'apps', app, 'src');
  if (existsSync(src)) walk(src);
  const usesRuntime = out.some((f) => readFileSync(f, 'utf8').includes("from '@pipeline/stream'"));
  const runtime = join(root, 'libs', 'stream', 'src');
  if (usesRuntime && existsSync(runtime)) walk(runtime);
  return out;
}
