import { describe, it, expect } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@pipeline/testing';
import { loadRulesFile, parseRules, rulesFor, RulesError } from './rules';

describe('rules file', () => {
  it('parses the shipped rules file', () => {
    const rules = loadRulesFile(join(import.meta.dirname, '../rules.json'));
    expect(rulesFor(rules, 'any', 'table')!.burst.map((r) => r.by)).toEqual(['actor', 'source']);
  });

  it('fills defaults and finds a table before the * entry', () => {
    const rules = parseRules({
      tables: {
        'shop.likes': { targetSpike: [{ name: 'spike', bucketMs: 60_000, minGrowth: 10 }] },
        '*': { fanOut: [{ name: 'fan', targets: 20, windowMs: 1000 }] },
      },
    });
    expect(rulesFor(rules, 'shop', 'likes')).toEqual({
      burst: [],
      flapping: [],
      fanOut: [],
      targetSpike: [{ name: 'spike', bucketMs: 60_000, minGrowth: 10, alpha: 0.3, zScore: 4, minStddev: 1 }],
    });
    expect(rulesFor(rules, 'shop', 'views')!.fanOut).toHaveLength(1);
  });

  it('names every bad field by its path', () => {
    const err = (() => {
      try {
        parseRules({ tables: { 'shop.likes': { burst: [{ name: 'b', by: 'ip', limit: 1, windowMs: 10 }], flap: [] }, nodot: {} } });
      } catch (e) {
        return e as RulesError;
      }
    })();
    expect(err).toBeInstanceOf(RulesError);
    // A PipelineError with a stable code that no retry fixes: the process stops at start (exit 1) until the file is fixed.
    expect(err).toMatchObject({ name: 'RulesError', code: 'INVALID_RULES', retryable: false });
    for (const path of ['tables.shop.likes.burst.0.by', 'tables.shop.likes.burst.0.limit', 'tables.shop.likes.burst.0.windowMs', 'tables.shop.likes', 'tables.nodot']) {
      expect(err!.message).toContain(`${path}:`);
    }
  });

  it('refuses a rule name used twice in one table, and says which file is wrong', () => {
    const dir = tempDir('rules');
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ tables: { '*': { burst: [{ name: 'x', by: 'actor', limit: 5, windowMs: 1000 }], fanOut: [{ name: 'x', targets: 5, windowMs: 1000 }] } } }));
    expect(() => loadRulesFile(join(dir, 'r.json'))).toThrow(/r\.json.*\n.*rule name "x" is used twice/);
    expect(() => loadRulesFile(join(dir, 'missing.json'))).toThrow(/cannot read the rules file .*missing\.json \(RULES_FILE\)/);
  });
});
