import { describe, it, expect } from '@jest/globals';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '@pipeline/testing';
import { Detector } from './detector';
import { parseRules } from './rules';
import { cdc, seededRandom } from './spec-helpers';
import { StateStore } from './state-store';

const T = 1_764_115_200_000;
const rules = parseRules({
  tables: {
    '*': {
      burst: [{ name: 'b', by: 'actor', limit: 50, windowMs: 1000 }],
      fanOut: [{ name: 'o', targets: 20, windowMs: 2000 }],
      targetSpike: [{ name: 's', bucketMs: 1000, minGrowth: 50 }],
    },
  },
});

describe('StateStore', () => {
  it('gives back the detector state, in eviction order, across appended batches and compactions', () => {
    const path = join(tempDir('store'), 'state.db');
    const store = new StateStore(path, 7);
    const d = new Detector(rules, { maxKeys: 300, graceMs: 0 });
    const rnd = seededRandom(5);
    for (let batch = 0; batch < 40; batch++) {
      for (let i = 0; i < 50; i++) d.observe(cdc({ at: T + batch * 100 + i, actor: `u${Math.floor(rnd() * 80)}`, target: Math.floor(rnd() * 200) }), 'cdc:0');
      d.advance();
      store.save(d.takeChanges(), new Map([['cdc:0', { nextOffset: BigInt((batch + 1) * 50), maxTime: T + batch * 100 + 49 }]]), () => d.all());
    }
    store.close();
    const reopened = new StateStore(path, 7);
    expect([...reopened.entries()]).toEqual([...d.all()]);
    expect(reopened.progress()).toEqual(new Map([['cdc:0', { nextOffset: 2000n, maxTime: T + 3949 }]]));
    reopened.close();
    // Compacted: the log holds about one state's worth of rows, not one per batch.
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM changes').get() as { n: number }).n).toBeLessThanOrEqual(8);
    db.close();
  });
});
