/**
 * Retention of the alerts index on the real Elasticsearch: alerts whose window ended before ALERT_RETENTION_DAYS go,
 * younger ones stay, whatever their emittedAt. The ages are set in the seeded documents instead of waited for. The
 * last test runs main.ts as a process and expects the old alerts gone at start, before any record is read, and an
 * old alert written later gone at a later check.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@elastic/elasticsearch';
import { AlertRecordSchema, type AlertRecord } from '@pipeline/events';
import { createKafka, type Admin } from '@pipeline/kafka';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { uniqueName, waitFor } from '@pipeline/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALERTS_MAPPING } from '../src/alert-publisher';
import { DAY_MS, expireAlerts } from '../src/alert-retention';
import { DetectorProcess } from './detector-process';

let es: Client;
let admin: Admin;
let bootstrap: string;
let esUrl: string;
const indices: string[] = [];
const topics: string[] = [];
const processes: DetectorProcess[] = [];

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  ({ url: esUrl } = await ensureElasticsearch());
  es = new Client({ node: esUrl });
  admin = await createKafka({ brokers: [bootstrap], clientId: 'abuse-retention-int-test' }).admin();
}, 120_000);

afterAll(async () => {
  for (const p of processes) await p.stop('SIGKILL');
  await admin?.deleteTopics(topics).catch(() => undefined);
  if (indices.length > 0) await es?.indices.delete({ index: indices, ignore_unavailable: true }).catch(() => undefined);
  await admin?.close();
  await es?.close();
});

/** An alert of `actor` whose window ended `ageDays` before `now`, emitted just now (as a reprocessing would). */
const alert = (actor: string, ageDays: number, now: number): AlertRecord => {
  const windowEnd = Math.round(now - ageDays * DAY_MS);
  return AlertRecordSchema.parse({
    version: '1',
    alertId: `b:shop.likes:actor:${actor}:${windowEnd - 60_000}`,
    rule: 'burst',
    ruleName: 'b',
    database: 'shop',
    table: 'likes',
    subject: { kind: 'actor', id: actor },
    users: [actor],
    windowStart: windowEnd - 60_000,
    windowEnd,
    observed: 300,
    threshold: 300,
    emittedAt: now,
  });
};

/** A fresh alerts index with the detector's mapping, holding one alert per age (days); returns the index and the ids by age. */
async function seeded(ages: number[], now = Date.now()): Promise<{ index: string; ids: Map<number, string> }> {
  const index = `abuse-ret-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-alerts`;
  indices.push(index);
  await es.indices.create({ index, mappings: ALERTS_MAPPING as never });
  const alerts = ages.map((age, i) => [age, alert(`user-${i}`, age, now)] as const);
  await es.bulk({ refresh: true, operations: alerts.flatMap(([, a]) => [{ index: { _index: index, _id: a.alertId } }, a]) });
  return { index, ids: new Map(alerts.map(([age, a]) => [age, a.alertId])) };
}

const idsIn = async (index: string) => {
  await es.indices.refresh({ index });
  const res = await es.search({ index, size: 100, query: { match_all: {} }, _source: false });
  return res.hits.hits.map((h) => h._id!).sort();
};

describe('alert retention (real Elasticsearch)', () => {
  it('deletes the alerts whose window ended before the retention and keeps the younger ones', async () => {
    const now = Date.now();
    const { index, ids } = await seeded([400, 120, 90.01, 89.9, 30, 0], now);
    expect(await expireAlerts(es, index, 90, now)).toBe(3);
    expect(await idsIn(index)).toEqual([ids.get(89.9)!, ids.get(30)!, ids.get(0)!].sort());
    // Nothing more is old enough; a shorter retention takes the next ones.
    expect(await expireAlerts(es, index, 90, now)).toBe(0);
    expect(await expireAlerts(es, index, 7, now)).toBe(2);
    expect(await idsIn(index)).toEqual([ids.get(0)!]);
  });

  it('a missing index (nothing written yet) is nothing to expire', async () => {
    expect(await expireAlerts(es, `abuse-ret-missing-${Date.now().toString(36)}-alerts`, 90)).toBe(0);
  });

  it('the detector process expires old alerts at start and then every ALERT_RETENTION_CHECK_MS', async () => {
    const { index, ids } = await seeded([45, 31, 29, 1]);
    const cdc = uniqueName('abuse-ret.cdc');
    const group = uniqueName('abuse-ret');
    const alerts = uniqueName('abuse-ret.alerts');
    topics.push(cdc, alerts, `${group}.dlq`);
    await admin.ensureTopics([{ name: cdc, partitions: 1 }]);
    const p = new DetectorProcess({
      KAFKA_BROKERS: bootstrap,
      CONSUMER_GROUP: group,
      CDC_TOPIC: cdc,
      ALERTS_TOPIC: alerts,
      ES_URL: esUrl,
      ES_ALERTS_INDEX: index,
      STATE_PATH: join(mkdtempSync(join(tmpdir(), 'abuse-ret-state-')), 'state.db'),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      ALERT_RETENTION_DAYS: '30',
      ALERT_RETENTION_CHECK_MS: '1000',
    });
    processes.push(p);
    await p.start();
    await waitFor('the alerts older than 30 days deleted', async () => (await idsIn(index)).length === 2, 60_000);
    expect(await idsIn(index)).toEqual([ids.get(29)!, ids.get(1)!].sort());
    expect(p.output).toContain('deleted expired alerts');
    // An old alert arriving while it runs (a reprocessed backlog) goes at a later check.
    const late = alert('user-late', 40, Date.now());
    await es.index({ index, id: late.alertId, document: late, refresh: true });
    expect(await idsIn(index)).toContain(late.alertId);
    await waitFor('the late old alert deleted by a periodic check', async () => !(await idsIn(index)).includes(late.alertId), 30_000);
    expect(await idsIn(index)).toEqual([ids.get(29)!, ids.get(1)!].sort());
    expect(await p.stop()).toBe(0);
  }, 180_000);
});
