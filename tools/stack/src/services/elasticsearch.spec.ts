import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StackError } from '../errors';
import { elasticsearchStatus, elasticsearchYml, startElasticsearch } from './elasticsearch';

describe('elasticsearch.yml of the stack node', () => {
  it('is one single node on 127.0.0.1 without security or disk watermarks, and no setting of an absent module', () => {
    const yml = elasticsearchYml({ port: 9201, transportPort: 9301, dataDir: '/d', logsDir: '/l' });
    for (const line of [
      'discovery.type: single-node',
      'network.host: 127.0.0.1',
      'http.port: 9201',
      'transport.port: 9301',
      'path.data: /d',
      'xpack.security.enabled: false',
      'cluster.routing.allocation.disk.threshold_enabled: false',
    ]) {
      expect(yml).toContain(line);
    }
    // The integ-test distribution has no ILM, ML or monitoring modules: their settings would stop the node.
    expect(yml).not.toMatch(/xpack\.(ml|ilm|monitoring|watcher)/);
  });
});

describe('elasticsearch.yml of a private secured node', () => {
  const base = { port: 9201, transportPort: 9301, dataDir: '/d', logsDir: '/l' };

  it('turns security and API keys on, with HTTPS from the instance certificates when tls is asked', () => {
    const yml = elasticsearchYml({ ...base, security: { tls: true } });
    for (const line of [
      'xpack.security.enabled: true',
      'xpack.security.authc.api_key.enabled: true',
      'xpack.security.http.ssl.enabled: true',
      'xpack.security.http.ssl.key: certs/http/http.key',
      'xpack.security.http.ssl.certificate: certs/http/http.crt',
      'xpack.security.http.ssl.certificate_authorities: [certs/ca/ca.crt]',
    ]) {
      expect(yml).toContain(line);
    }
    expect(yml).not.toContain('xpack.security.enabled: false');
  });

  it('serves plain HTTP with authentication when tls is not asked', () => {
    const yml = elasticsearchYml({ ...base, security: { tls: false } });
    expect(yml).toContain('xpack.security.enabled: true');
    expect(yml).toContain('xpack.security.http.ssl.enabled: false');
    expect(yml).not.toContain('certs/');
  });
});

describe('security of the stack node', () => {
  it("is refused for the stack's own folder, so the shared node is never reconfigured", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-es-'));
    const before = process.env['STACK_DIR'];
    process.env['STACK_DIR'] = dir;
    try {
      await expect(startElasticsearch({ port: 1, security: { password: 'long-enough' } })).rejects.toThrow("security is only for a private node, not the stack's");
      await expect(elasticsearchStatus({ dir: join(dir, 'elasticsearch'), security: { password: 'long-enough' } })).rejects.toThrow(StackError);
    } finally {
      if (before === undefined) delete process.env['STACK_DIR'];
      else process.env['STACK_DIR'] = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a password Elasticsearch would refuse, before anything starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stack-es-'));
    try {
      await expect(startElasticsearch({ dir, port: 1, security: { password: 'short' } })).rejects.toThrow('6 or more characters');
      expect(existsSync(join(dir, 'config'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
