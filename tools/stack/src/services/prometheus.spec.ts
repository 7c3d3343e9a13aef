import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../paths';
import { NPM_START_TARGETS, rewriteScrapeConfig } from './prometheus';

const shipped = readFileSync(path.join(repoRoot(), 'docker', 'prometheus', 'prometheus.yml'), 'utf8');
const targetsOf = (yamlText: string) =>
  (parse(yamlText) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] }).scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((s) => s.targets)]);

describe('the scrape configuration rewritten for this machine', () => {
  it('maps every compose target of docker/prometheus/prometheus.yml to the port npm start uses', () => {
    const local = targetsOf(rewriteScrapeConfig(shipped, NPM_START_TARGETS));
    expect(local).toEqual([
      ['actionbase', ['127.0.0.1:8080']],
      ['async-processor', ['127.0.0.1:8090']],
      ['es-indexer', ['127.0.0.1:8096']],
      ['snapshotter', ['127.0.0.1:8094']],
      ['console', ['127.0.0.1:8097']],
    ]);
  });

  it('leaves out a target it has no mapping for (an app not running here) and a job left empty, and sets the scrape interval when asked', () => {
    const out = parse(rewriteScrapeConfig(shipped, { 'console:8080': '127.0.0.1:1' }, '1s')) as { global: Record<string, string> };
    expect(out.global).toMatchObject({ scrape_interval: '1s', evaluation_interval: '1s' });
    expect(targetsOf(stringify(out))).toEqual([['console', ['127.0.0.1:1']]]);
    expect(targetsOf(rewriteScrapeConfig(shipped, {}))).toEqual([]);
    const mixed = 'scrape_configs:\n  - job_name: pair\n    static_configs:\n      - targets: ["a:1", "b:2"]\n';
    expect(targetsOf(rewriteScrapeConfig(mixed, { 'b:2': '127.0.0.1:2' }))).toEqual([['pair', ['127.0.0.1:2']]]);
    expect(() => rewriteScrapeConfig('global: {}\n', {})).toThrow(/no scrape_configs/);
  });
});
