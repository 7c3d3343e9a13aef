import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, expect } from '@jest/globals';
import { withLock } from './lock';
import { classpathPom, coordinates, mavenFailureSummary } from './maven';
import { isAlive } from './process';
import { kafkaArtifacts, log4j2Properties, serverProperties } from './services/kafka';

describe('kafka configuration', () => {
  const props = serverProperties({ port: 19092, controllerPort: 19093, dataDir: '/tmp/data' });
  const map = new Map(
    props
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  it('is one KRaft broker+controller on 127.0.0.1 with the given ports', () => {
    expect(map.get('process.roles')).toBe('broker,controller');
    expect(map.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(map.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(map.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(map.get('log.dirs')).toBe('/tmp/data');
  });

  it('has single-node replication factors, no auto-created topics and no initial rebalance delay', () => {
    for (const k of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr', 'share.coordinator.state.topic.replication.factor']) {
      expect(map.get(k)).toBe('1');
    }
    expect(map.get('auto.create.topics.enable')).toBe('false');
    expect(map.get('group.initial.rebalance.delay.ms')).toBe('0');
  });

  it('logs to logs/server.log and brings an slf4j binding', () => {
    expect(log4j2Properties('/x/logs')).toContain('appender.file.fileName = /x/logs/server.log');
    expect(kafkaArtifacts('4.1.1').map(coordinates)).toContain('org.apache.logging.log4j:log4j-slf4j-impl:2.24.3');
  });
});

describe('maven helpers', () => {
  it('writes a pom of packaging pom listing the artifacts', () => {
    const pom = classpathPom('kafka', [{ groupId: 'g', artifactId: 'a<b', version: '1', classifier: 'zip' }]);
    expect(pom).toContain('<packaging>pom</packaging>');
    expect(pom).toContain('<artifactId>a&lt;b</artifactId>');
    expect(pom).toContain('<classifier>zip</classifier>');
  });

  it('summarises the [ERROR] lines of a failed run', () => {
    const out = '[INFO] x\n[ERROR] Failed to execute goal: Could not find artifact g:a:jar:9\n[ERROR] \n[ERROR] To see the full stack trace\n';
    expect(mavenFailureSummary(out)).toBe('[ERROR] Failed to execute goal: Could not find artifact g:a:jar:9');
  });
});

describe('withLock', () => {
  it('runs callers one at a time', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stack-lock-'));
    try {
      let inside = 0;
      let max = 0;
      await Promise.all(
        [1, 2, 3].map(() =>
          withLock(path.join(dir, '.lock'), async () => {
            inside++;
            max = Math.max(max, inside);
            await new Promise((r) => setTimeout(r, 30));
            inside--;
          }),
        ),
      );
      expect(max).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('knows a live pid from a dead one', () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(2 ** 22 + 12345)).toBe(false);
  });
});
