/**
 * Actionbase's Mutation API reference (website/src/content/docs/api-references/mutation.mdx), one test
 * per documented example, plus the server's behaviour: results one per key, ordered by the text of
 * `source:target` (EdgeMutationResponse) or of the id (MultiEdgeMutationResponse), case-sensitive
 * event types, Actionbase's error body.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { api, type CoreProcess } from '@pipeline/testing';
import { EDGES, MULTI, path, startConformanceCore } from './query.tables';

describe('Actionbase mutation API reference', () => {
  let core: CoreProcess;
  beforeAll(async () => {
    core = await startConformanceCore();
  });
  afterAll(async () => core?.stop('SIGKILL'));

  it('1. POST edges?lock=true: INSERT answers CREATED', async () => {
    const r = await api(core.url, 'POST', `${path(EDGES)}/edges?lock=true`, {
      mutations: [{ type: 'INSERT', edge: { version: 1, source: 'source1', target: 'target1', properties: { weight: 0.8, type: 'FOLLOWS' } } }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ source: 'source1', target: 'target1', status: 'CREATED', count: 1 }] });
  });

  it('2. POST edges/sync?lock=true: UPDATE answers UPDATED', async () => {
    const r = await api(core.url, 'POST', `${path(EDGES)}/edges/sync?lock=true`, {
      mutations: [{ type: 'UPDATE', edge: { version: 2, source: 'source1', target: 'target1', properties: { weight: 0.9, type: 'FOLLOWS' } } }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ source: 'source1', target: 'target1', status: 'UPDATED', count: 1 }] });
    const got = await api(core.url, 'GET', `${path(EDGES)}/edges/get?source=source1&target=target1`);
    expect(got.body.edges[0]).toMatchObject({ version: 2, properties: { weight: 0.9, type: 'FOLLOWS' } });
  });

  it('3. POST multi-edges?lock=true: INSERT answers CREATED by id', async () => {
    const r = await api(core.url, 'POST', `${path(MULTI)}/multi-edges?lock=true`, {
      mutations: [{ type: 'INSERT', edge: { version: 1, id: 'edge1', source: 'source1', target: 'target1', properties: { weight: 0.8, type: 'FOLLOWS' } } }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ id: 'edge1', status: 'CREATED', count: 1 }] });
  });

  it('4. POST multi-edges/sync?lock=true: DELETE answers DELETED', async () => {
    const r = await api(core.url, 'POST', `${path(MULTI)}/multi-edges/sync?lock=true`, {
      mutations: [{ type: 'DELETE', edge: { version: 3, id: 'edge1', source: 'source1', target: 'target1', properties: {} } }],
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ results: [{ id: 'edge1', status: 'DELETED', count: 1 }] });
  });

  it('results: one per key, counting the items merged into it, ordered by the text source:target', async () => {
    const item = (source: string, target: string, version: number) => ({ type: 'INSERT', edge: { version, source, target, properties: { weight: 1 } } });
    const r = await api(core.url, 'POST', `${path(EDGES)}/edges`, {
      mutations: [item('b', 'x', 1), item('a', 'y', 1), item('b', 'x', 2), item('a', 'x', 1), item('a10', 'x', 1), item('a2', 'x', 1)],
    });
    expect(r.body.results.map((x: any) => [`${x.source}:${x.target}`, x.count])).toEqual([
      ['a10:x', 1],
      ['a2:x', 1],
      ['a:x', 1],
      ['a:y', 1],
      ['b:x', 2],
    ]);
    const m = await api(core.url, 'POST', `${path(MULTI)}/multi-edges`, {
      mutations: ['m2', 'm10', 'm1'].map((id) => ({ type: 'INSERT', edge: { version: 1, id, source: 's', target: 't', properties: {} } })),
    });
    expect(m.body.results.map((x: any) => x.id)).toEqual(['m1', 'm10', 'm2']);
  });

  it('event types are case-sensitive; a bad item answers 400 with an Actionbase error body and applies nothing', async () => {
    const r = await api(core.url, 'POST', `${path(EDGES)}/edges`, {
      mutations: [
        { type: 'INSERT', edge: { version: 1, source: 'c', target: 'd', properties: {} } },
        { type: 'insert', edge: { version: 1, source: 'c', target: 'e', properties: {} } },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, error: 'Bad Request', code: 'INVALID_REQUEST', field: 'mutations[1].type' });
    expect(typeof r.body.timestamp).toBe('number');
    expect(r.body.message).toMatch(/INSERT, UPDATE or DELETE/);
    const count = await api(core.url, 'GET', `${path(EDGES)}/edges/count?start=c&direction=OUT`);
    expect(count.body.count).toBe(0);
  });

  it('mutations is required', async () => {
    const r = await api(core.url, 'POST', `${path(EDGES)}/edges`, {});
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ status: 400, field: 'mutations' });
  });
});
