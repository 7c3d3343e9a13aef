import { describe, it, expect, beforeEach } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { parse } from 'yaml';
import { consumerAppGenerator, FIRST_PORT, nextFreePort } from './generator';

const repoFile = (p: string) => readFileSync(fileURLToPath(new URL(`../../../../../${p}`, import.meta.url)), 'utf8');
/** The repository's real compose file and health paths, as the generator meets them. */
const COMPOSE = repoFile('docker/compose.yaml');
const SECURE = repoFile('docker/compose.secure.yaml');
const PROMETHEUS = repoFile('docker/prometheus/prometheus.yml');
const HEALTH = repoFile('docker/health-paths.json');
const LOCK = repoFile('package-lock.json');

let tree: Tree;
beforeEach(() => {
  tree = createTreeWithEmptyWorkspace();
  tree.write('docker/compose.yaml', COMPOSE);
  tree.write('docker/compose.secure.yaml', SECURE);
  tree.write('docker/prometheus/prometheus.yml', PROMETHEUS);
  tree.write('docker/health-paths.json', HEALTH);
  tree.write('package-lock.json', LOCK);
});

const read = (p: string) => tree.read(p, 'utf-8') ?? '';

describe('consumer-app generator', () => {
  it('writes a whole consumer app under apps/<name>', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', topic: 'cdc', port: 9600 });
    const files = tree.listChanges().map((c) => c.path).filter((p) => p.startsWith('apps/')).sort();
    expect(files).toEqual(
      [
        'README.md',
        'jest.config.cjs',
        'jest.integration.cjs',
        'package.json',
        'project.json',
        'src/config.spec.ts',
        'src/config.ts',
        'src/main.ts',
        'src/search-feeder.sink.spec.ts',
        'src/search-feeder.sink.ts',
        'src/spec-helpers.ts',
        'test/search-feeder.int.spec.ts',
        'tsconfig.json',
      ].map((f) => `apps/search-feeder/${f}`),
    );
    expect(files.join('\n')).not.toMatch(/__|tmpl/);
  });

  it('gives the project the repository shape: tags, serve/build/test/test-integration/typecheck/lint, esbuild into dist/apps/<name>', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', port: 9600 });
    const project = JSON.parse(read('apps/search-feeder/project.json'));
    expect(project.name).toBe('search-feeder');
    expect(project.tags).toEqual(['type:app', 'scope:search-feeder']);
    expect(Object.keys(project.targets).sort()).toEqual(['build', 'lint', 'serve', 'test', 'test-integration', 'typecheck']);
    expect(project.targets.serve).toMatchObject({
      continuous: true,
      options: { command: 'tsx apps/search-feeder/src/main.ts', env: { KAFKA_BROKERS: '127.0.0.1:9092', HTTP_PORT: '9600' } },
    });
    expect(project.targets.build).toMatchObject({
      executor: '@nx/esbuild:esbuild',
      options: { main: 'apps/search-feeder/src/main.ts', outputPath: 'dist/apps/search-feeder', generatePackageJson: true, skipTypeCheck: true },
    });
    expect(JSON.parse(read('apps/search-feeder/package.json'))).toEqual({ name: '@pipeline/search-feeder', version: '0.1.0', private: true, type: 'module' });
    expect(JSON.parse(read('apps/search-feeder/tsconfig.json'))).toEqual({ extends: '../../tsconfig.base.json', include: ['src/**/*.ts', 'test/**/*.ts'] });
    expect(read('apps/search-feeder/jest.integration.cjs')).toContain('{ integration: true }');
  });

  it('wires main.ts only: config, pino, runConsumer with the sink, signal handlers; process.env only in config.ts', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', topic: 'cdc', port: 9600 });
    const main = read('apps/search-feeder/src/main.ts');
    expect(main).toContain("import pino from 'pino';");
    expect(main).toMatch(/runConsumer\(\{[\s\S]*kind: 'cdc',[\s\S]*sink: new SearchFeederSink\(/);
    expect(main).toContain('installSignalHandlers(consumer, { logger });');
    expect(main).not.toContain('process.env');
    const config = read('apps/search-feeder/src/config.ts');
    expect(config).toContain('StreamEnvSchema.extend({');
    expect(config).toContain('parseConfig(ConfigSchema, env)');
    expect(config).toContain("CDC_TOPIC: z.string().min(1).default(TOPICS.cdc.defaultName)");
    expect(config).toContain('HTTP_PORT: port(9600)');
    expect(read('apps/search-feeder/src/search-feeder.sink.ts')).toMatch(/STARTING POINT[\s\S]*export class SearchFeederSink implements Sink<CdcRecord>/);
  });

  it('--topic wal makes a WAL consumer', async () => {
    await consumerAppGenerator(tree, { name: 'wal-audit', topic: 'wal', port: 9601 });
    expect(read('apps/wal-audit/src/main.ts')).toMatch(/topic: config\.WAL_TOPIC,\s+kind: 'wal'/);
    expect(read('apps/wal-audit/src/config.ts')).toContain('WAL_TOPIC: z.string().min(1).default(TOPICS.wal.defaultName)');
    expect(read('apps/wal-audit/src/wal-audit.sink.ts')).toContain('implements Sink<WalRecord>');
    expect(read('apps/wal-audit/src/spec-helpers.ts')).toContain('encodeWal(');
    expect(read('apps/wal-audit/test/wal-audit.int.spec.ts')).toContain("kind: 'wal'");
  });

  it('appends the compose service, merging the x-app anchors, and leaves the rest of the file byte for byte', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', topic: 'cdc', port: 9600 });
    const text = read('docker/compose.yaml');
    // Only the block was added, right after the last service (before `volumes:`).
    const at = COMPOSE.indexOf('\nvolumes:');
    expect(text.slice(0, at)).toBe(COMPOSE.slice(0, at));
    expect(text.slice(text.indexOf('\nvolumes:'))).toBe(COMPOSE.slice(at));
    const block = text.slice(at, text.indexOf('\nvolumes:'));
    expect(block).toContain('  search-feeder:\n    <<: *app\n    build:\n      <<: *app-build\n      args: { APP: search-feeder }\n    environment:\n      <<: *app-env\n');
    expect(block).toMatch(/^\s*# Consumes the CDC .*see apps\/search-feeder\./m);

    const compose = parse(text, { merge: true });
    const svc = compose.services['search-feeder'];
    expect(svc.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile', args: { APP: 'search-feeder' } });
    expect(svc.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(svc.environment).toMatchObject({ KAFKA_BROKERS: 'kafka:9092', CONSUMER_GROUP: 'search-feeder', CDC_TOPIC: 'actionbase.cdc', HTTP_PORT: '8080' });
    expect(svc.profiles).toBeUndefined();
  });

  it('gives the app its own Kafka principal in compose.secure.yaml: SCRAM user, ACLs for its topic, groups and DLQ, the override', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', topic: 'wal', port: 9600 });
    const text = read('docker/compose.secure.yaml');
    // Lines are only added (and the SCRAM list's last line continued): every other line of the original is
    // still there, in the same order.
    const added = text.split('\n');
    let i = 0;
    for (const line of SECURE.replace(/"; do$/m, '" \\').split('\n')) {
      while (i < added.length && added[i] !== line) i++;
      expect({ line, found: i < added.length }).toEqual({ line, found: true });
      i++;
    }
    expect(text.split('\n').length - SECURE.split('\n').length).toBe(15);

    const secure = parse(text, { merge: true });
    const format = secure.services['kafka-format'];
    expect(format.command[0]).toMatch(/for u in [^;]*\s+search-feeder:"\$\$SEARCH_FEEDER_PW"; do\n/);
    expect(format.environment.SEARCH_FEEDER_PW).toBe('${KAFKA_SEARCH_FEEDER_PASSWORD:?set KAFKA_SEARCH_FEEDER_PASSWORD}');
    const acls = secure.services['kafka-acls'].command[0] as string;
    expect(acls.trimEnd().split('\n').slice(-3)).toEqual([
      'acl search-feeder --operation Read --operation Describe --topic actionbase.wal',
      'acl search-feeder --operation Read --operation Describe --group search-feeder --resource-pattern-type prefixed',
      'acl search-feeder --operation Create --operation Write --operation Describe --topic search-feeder.dlq',
    ]);
    expect(secure.services['search-feeder']).toEqual({
      depends_on: { 'kafka-acls': { condition: 'service_completed_successfully' } },
      environment: {
        KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', // merged from &sasl
        KAFKA_SASL_USERNAME: 'search-feeder',
        KAFKA_SASL_PASSWORD: '${KAFKA_SEARCH_FEEDER_PASSWORD:?set KAFKA_SEARCH_FEEDER_PASSWORD}',
      },
    });
    expect(text).toContain('    environment:\n      <<: *sasl\n      KAFKA_SASL_USERNAME: search-feeder\n');
  });

  it('appends a Prometheus job scraping the app on its probe port, the rest of the file byte for byte', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', port: 9600 });
    const text = read('docker/prometheus/prometheus.yml');
    expect(text.startsWith(PROMETHEUS.trimEnd())).toBe(true);
    expect(text.slice(PROMETHEUS.trimEnd().length)).toMatch(/^\n {2}# search-feeder .*\n {2}- job_name: search-feeder\n {4}static_configs:\n {6}- targets: \["search-feeder:8080"\]\n$/);
    const jobs = parse(text).scrape_configs as { job_name: string; static_configs: { targets: string[] }[] }[];
    expect(jobs.at(-1)).toEqual({ job_name: 'search-feeder', static_configs: [{ targets: ['search-feeder:8080'] }] });
    expect(jobs.length).toBe((parse(PROMETHEUS).scrape_configs as unknown[]).length + 1);
  });

  it('adds the readiness path to docker/health-paths.json, other entries untouched', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', port: 9600 });
    expect(JSON.parse(read('docker/health-paths.json'))).toEqual({ ...JSON.parse(HEALTH), 'search-feeder': '/health/readiness' });
    // docker/src/compose.spec.ts checks that the app's sources serve the path it declares.
    expect(read('apps/search-feeder/src/main.ts')).toContain("'/health/readiness'");
  });

  it('adds the app to package-lock.json as npm does for a workspace (npm ci refuses a workspace missing from it)', async () => {
    await consumerAppGenerator(tree, { name: 'search-feeder', port: 9600 });
    const text = read('package-lock.json');
    const before = JSON.parse(LOCK).packages as Record<string, unknown>;
    const after = JSON.parse(text).packages as Record<string, unknown>;
    expect(after['apps/search-feeder']).toEqual({ name: '@pipeline/search-feeder', version: '0.1.0' });
    expect(after['node_modules/@pipeline/search-feeder']).toEqual({ resolved: 'apps/search-feeder', link: true });
    expect(Object.keys(after).filter((k) => !(k in before)).sort()).toEqual(['apps/search-feeder', 'node_modules/@pipeline/search-feeder']);
    expect(Object.keys(after)).toEqual([...Object.keys(after)].sort((a, b) => a.localeCompare(b, 'en')));
    // npm's own format: re-serializing changes nothing, and only the added lines differ from the original.
    expect(`${JSON.stringify(JSON.parse(text), null, 2)}\n`).toBe(text);
    const removed = LOCK.split('\n').filter((l, i, all) => all.indexOf(l) === i && !text.includes(l));
    expect(removed).toEqual([]);
  });

  it('picks the first port from 9470 that no app serves on when --port is not given', async () => {
    tree.write('apps/other/project.json', JSON.stringify({ targets: { serve: { options: { env: { HTTP_PORT: String(FIRST_PORT) } } } } }));
    expect(nextFreePort(tree)).toBe(FIRST_PORT + 1);
    await consumerAppGenerator(tree, { name: 'search-feeder' });
    expect(JSON.parse(read('apps/search-feeder/project.json')).targets.serve.options.env.HTTP_PORT).toBe(String(FIRST_PORT + 1));
    expect(nextFreePort(tree)).toBe(FIRST_PORT + 2);
  });

  it('refuses a bad name, an existing app, a taken compose service and a bad topic, before writing anything', async () => {
    await expect(consumerAppGenerator(tree, { name: 'Search_Feeder' })).rejects.toThrow('not a valid app name');
    tree.write('apps/taken/README.md', 'x');
    await expect(consumerAppGenerator(tree, { name: 'taken' })).rejects.toThrow('apps/taken already exists');
    await expect(consumerAppGenerator(tree, { name: 'kafka' })).rejects.toThrow('already has a service "kafka"');
    await expect(consumerAppGenerator(tree, { name: 'x', topic: 'both' as never })).rejects.toThrow('--topic must be wal or cdc');
    expect(tree.listChanges().filter((c) => c.path.startsWith('apps/') && !c.path.startsWith('apps/taken'))).toEqual([]);
  });
});
