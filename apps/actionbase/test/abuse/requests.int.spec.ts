/**
 * Requests an attacker would send, replayed against the real core on the real Kafka: each is refused
 * with a 400 naming the field or the limit, and leaves the state and the WAL/CDC topics as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureKafka } from '@pipeline/stack';
import { api, startCoreOnFreshTopics, type CoreProcess } from '@pipeline/testing';
import { base, createTable, expectRefusedAndUnchanged, insert, raw, SENTINEL, snapshot, TABLE, type Snapshot, type Topics } from './harness';

describe('abuse: requests that must be refused and change nothing', () => {
  let core: CoreProcess;
  let t: Topics;
  let before: Snapshot;

  beforeAll(async () => {
    const bootstrap = (await ensureKafka()).bootstrap;
    const started = await startCoreOnFreshTopics(bootstrap, 'abuse', {});
    core = started.core;
    t = { bootstrap, wal: started.wal, cdc: started.cdc };
    await createTable(core.url, TABLE);
    await createTable(core.url, SENTINEL);
    const r = await api(core.url, 'POST', `${base()}/edges`, {
      mutations: [insert('a', 'b', 10, { n: 1, note: 'first' }), insert('a', 'c', 11, { n: 2 }), insert('x', 'b', 12, { n: 3 })],
    });
    expect(r.status).toBe(200);
    before = await snapshot(core, t);
  });
  afterAll(async () => core?.stop('SIGKILL'));

  it('get with a huge source × target cross product answers 400 naming the limit at once; repeated keys count once', async () => {
    const many = Array.from({ length: 41 }, (_, i) => `k${i}`).join(',');
    const huge = await raw(core.url, 'GET', `${base()}/edges/get?source=${many}&target=${many}`);
    expect(huge.status).toBe(400);
    expect(huge.body.message).toMatch(/41 distinct sources × 41 distinct targets = 1681 edges; at most 1000 per request/);
    // 3000 copies of one key are one key: one edge, not 9 million copies of it
    const same = Array.from({ length: 3000 }, () => 'a').join(',');
    const dup = await raw(core.url, 'GET', `${base()}/edges/get?source=${same}&target=b,b,b`);
    expect(dup.status).toBe(200);
    expect(dup.body.edges).toHaveLength(1);
    expect(dup.body.edges[0]).toMatchObject({ source: 'a', target: 'b' });
    // counts and scan limits are bounded too
    const starts = Array.from({ length: 1001 }, (_, i) => `s${i}`).join(',');
    const counts = await raw(core.url, 'GET', `${base()}/edges/counts?start=${starts}&direction=OUT`);
    expect(counts.status).toBe(400);
    expect(counts.body.message).toMatch(/at most 1000/);
    const scan = await raw(core.url, 'GET', `${base()}/edges/scan/by_n?start=a&direction=OUT&limit=100000`);
    expect(scan.status).toBe(400);
    expect(scan.body.field).toBe('limit');
  });

  it('properties nested thousands deep: 400 before the WAL, nothing written', async () => {
    for (const depth of [100, 4_100, 50_000]) {
      const doc = '['.repeat(depth) + ']'.repeat(depth);
      const body = `{"mutations":[{"type":"INSERT","edge":{"version":20,"source":"a","target":"deep","properties":{"doc":${doc}}}}]}`;
      const r = await raw(core.url, 'POST', `${base()}/edges`, body);
      await expectRefusedAndUnchanged(core, t, before, r, 400, /nested deeper than 64 levels/);
    }
  });

  it('a property whose CDC record would exceed the CDC topic limit: 400 before the WAL, nothing written', async () => {
    // 600 KB: its WAL record fits the 1 MiB topic limit, its CDC record (event and state after) does not
    const r = await raw(core.url, 'POST', `${base()}/edges`, JSON.stringify({ mutations: [insert('a', 'big', 30, { note: 'x'.repeat(600_000) })] }));
    await expectRefusedAndUnchanged(core, t, before, r, 400, /CDC record .* would be \d+ bytes, over the \d+ bytes the CDC topic takes/);
    expect(r.body.field).toBe('mutations[0].edge.properties');
    // larger than the WAL topic takes: refused as well, naming the WAL limit
    const w = await raw(core.url, 'POST', `${base()}/edges`, JSON.stringify({ mutations: [insert('a', 'big', 30, { note: 'x'.repeat(1_100_000) })] }));
    await expectRefusedAndUnchanged(core, t, before, w, 400, /WAL record would be \d+ bytes/);
  });

  it('lenient numbers are refused as versions and LONG values', async () => {
    for (const bad of ['0x10', '0b11', '1e3', ' 7 ', '7 ', '', '1.5', 'Infinity']) {
      const v = await raw(core.url, 'POST', `${base()}/edges`, JSON.stringify({ mutations: [insert('a', 'num', bad as never, { n: 1 })] }));
      await expectRefusedAndUnchanged(core, t, before, v, 400);
      expect(v.body.field).toBe('mutations[0].edge.version');
      const n = await raw(core.url, 'POST', `${base()}/edges`, JSON.stringify({ mutations: [insert('a', 'num', 40, { n: bad })] }));
      await expectRefusedAndUnchanged(core, t, before, n, 400);
      expect(n.body.field).toBe('mutations[0].edge.properties.n');
    }
  });

  it('an integer beyond the signed 64-bit range is no LONG: 400 before the WAL, never wrapped or rounded', async () => {
    for (const [text, field, why] of [
      ['{"mutations":[{"type":"INSERT","edge":{"version":70,"source":"a","target":"long","properties":{"n":9223372036854775808}}}]}', 'mutations[0].edge.properties.n', /expected LONG, got integer 9223372036854775808/],
      ['{"mutations":[{"type":"INSERT","edge":{"version":-9223372036854775809,"source":"a","target":"long","properties":{"n":1}}}]}', 'mutations[0].edge.version', /expected an integer version, got integer -9223372036854775809/],
    ] as const) {
      const r = await raw(core.url, 'POST', `${base()}/edges`, text);
      await expectRefusedAndUnchanged(core, t, before, r, 400, why);
      expect(r.body.field).toBe(field);
    }
  });

  it('keys that could be written but never read are refused; odd but readable keys round-trip', async () => {
    const bad: [string, RegExp][] = [
      [' a', /whitespace/],
      ['a ', /whitespace/],
      ['a,b', /comma/],
      ['\ud800', /lone UTF-16 surrogate/],
      ['x\udc00y', /lone UTF-16 surrogate/],
      ['', /empty/],
      ['k'.repeat(4097), /at most 4096 bytes/],
    ];
    for (const [key, why] of bad) {
      for (const end of ['source', 'target'] as const) {
        const item = end === 'source' ? insert(key, 'b', 50, { n: 5 }) : insert('a', key, 50, { n: 5 });
        const r = await raw(core.url, 'POST', `${base()}/edges`, JSON.stringify({ mutations: [item] }));
        await expectRefusedAndUnchanged(core, t, before, r, 400, why);
        expect(r.body.field).toBe(`mutations[0].edge.${end}`);
      }
    }
    // what the rule lets through can be read back
    const odd = ['in side', 'ü🙂', 'semi;colon', 'k'.repeat(4096)];
    const w = await api(core.url, 'POST', `${base()}/edges`, { mutations: odd.map((k, i) => insert(k, 'odd', 60 + i, { n: 9 })) });
    expect(w.status).toBe(200);
    for (const k of odd) {
      const g = await raw(core.url, 'GET', `${base()}/edges/get?source=${encodeURIComponent(k)}&target=odd`);
      expect(g.status).toBe(200);
      expect(g.body.edges.map((e: any) => e.source)).toEqual([k]);
    }
    // clean up so the snapshot of the other cases holds
    const d = await api(core.url, 'POST', `${base()}/edges`, { mutations: odd.map((k, i) => ({ type: 'DELETE', edge: { version: 100 + i, source: k, target: 'odd' } })) });
    expect(d.status).toBe(200);
    before = await snapshot(core, t);
  });
});
