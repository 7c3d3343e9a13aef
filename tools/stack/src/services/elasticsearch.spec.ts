import { describe, expect, it } from '@jest/globals';
import { elasticsearchYml } from './elasticsearch';

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
