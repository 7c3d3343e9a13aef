import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLikesTable, startTestCore, type TestCore } from '../testing/test-core';
import { requestKind } from './request-metrics';

const base = '/graph/v3/databases/shop/tables/likes';
const like = (source: string, target: number, version: number) => ({ type: 'INSERT', edge: { version, source, target, properties: { created_at: version } } });

const sample = (text: string, name: string, labels: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('request metrics on /metrics', () => {
  let core: TestCore;
  beforeEach(async () => {
    core = await startTestCore();
    await createLikesTable(core);
  });
  afterEach(async () => core.close());

  it('counts mutations by outcome and times requests by kind', async () => {
    expect((await core.call('POST', `${base}/edges`, { mutations: [like('u1', 1, 10), like('u1', 2, 10), like('u2', 1, 10)] })).status).toBe(200);
    expect((await core.call('POST', `${base}/edges/sync`, { mutations: [like('u3', 1, 10)] })).status).toBe(200);
    expect((await core.call('POST', `${base}/edges`, { mutations: [{ type: 'INSERT', edge: { version: 'x', source: 'u1', target: 1 } }] })).status).toBe(400);
    expect((await core.call('GET', `${base}/edges/count?start=u1&direction=OUT`)).status).toBe(200);
    await core.call('GET', '/graph/health');
    const text = (await core.call('GET', '/metrics')).body as string;
    expect(sample(text, 'actionbase_mutations_total', 'outcome="ok"')).toBe(4);
    expect(sample(text, 'actionbase_mutations_total', 'outcome="rejected"')).toBe(1);
    expect(sample(text, 'actionbase_request_duration_seconds_count', 'kind="mutation",outcome="ok"')).toBe(2);
    expect(sample(text, 'actionbase_request_duration_seconds_count', 'kind="query",outcome="ok"')).toBe(1);
    expect(text).not.toMatch(/kind="(other)"/);
  });

  it('classifies routes', () => {
    expect(requestKind('/graph/v3/databases/:db/tables/:table/multi-edges/sync', 'POST')).toBe('mutation');
    expect(requestKind('/graph/v3/databases/:db/tables/:table/edges/get', 'POST')).toBe('query');
    expect(requestKind('/graph/v3/databases/:db/tables', 'GET')).toBe('metadata');
    expect(requestKind('/graph/health/readiness', 'GET')).toBeUndefined();
    expect(requestKind(undefined, 'GET')).toBeUndefined();
  });
});
