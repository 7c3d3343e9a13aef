/**
 * abuse-detector on the real Kafka, the real Elasticsearch and the real core (a child process): a synthetic
 * workload mixing bots into human traffic goes through the core; the detector, as its own process, reads the
 * core's CDC and must find the bots (precision and recall reported, bounded below by what the workload makes
 * certain), and must give the same alerts after a kill -9 in the middle of its windows as a run never stopped.
 */
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@elastic/elasticsearch';
import type { AlertRecord } from '@pipeline/events';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { ensureElasticsearch, ensureKafka } from '@pipeline/stack';
import { createLikes, kcatRead, startCoreOnFreshTopics, tempDir, uniqueName, waitFor, type CoreProcess, type KcatRecord } from '@pipeline/testing';
import { chromium } from 'playwright-core';
import { StateStore } from '../src/state-store';
import { comparable, DetectorProcess, LOOKUP_TOKEN, readAlerts, startLookup, waitCaughtUp } from './detector-process';
import { rulesFile, runWorkload, SPIKE_TARGET, TEST_RULES, type Truth } from './workload';

let bootstrap: string;
let esUrl: string;
let es: Client;
let admin: Admin;
let producer: Producer;
let core: CoreProcess | undefined;
let cdc: string;
let truth: Truth;
let cdcRecords: KcatRecord[];
let rulesPath: string;
const topics: string[] = [];
const indices: string[] = [];
const processes: DetectorProcess[] = [];
/** The alerts of the run never stopped, for the kill -9 test to compare with. */
let uninterrupted: Map<string, AlertRecord> | undefined;
const t0 = Date.now();
const phases: string[] = [];
const phase = (what: string) => phases.push(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  ({ url: esUrl } = await ensureElasticsearch());
  es = new Client({ node: esUrl });
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'abuse-detector-int-test' });
  admin = await kafka.admin();
  producer = await kafka.producer();
  const started = await startCoreOnFreshTopics(bootstrap, 'abuse');
  core = started.core;
  cdc = started.cdc;
  topics.push(started.wal, started.cdc);
  await createLikes(core.url, 'likes');
  phase('core started');
  truth = await runWorkload({ coreUrl: core.url, table: 'likes', rules: TEST_RULES, durationMs: 10_000 });
  await core.stop();
  phase('workload sent');
  cdcRecords = await kcatRead(bootstrap, cdc);
  rulesPath = join(tempDir('abuse-rules'), 'rules.json');
  writeFileSync(rulesPath, JSON.stringify(rulesFile(TEST_RULES)));
}, 180_000);

afterAll(async () => {
  console.log(`phases: ${phases.join(', ')}`);
  for (const p of processes) await p.stop('SIGKILL');
  await core?.stop('SIGKILL');
  await admin?.deleteTopics(topics).catch(() => undefined);
  if (indices.length > 0) await es?.indices.delete({ index: indices, ignore_unavailable: true }).catch(() => undefined);
  await producer?.close();
  await admin?.close();
  await es?.close();
});

/** A detector process on its own group, alerts topic, index and state file. */
function detector(topic: string, extra: Record<string, string> = {}) {
  const group = uniqueName('abuse-detector-it');
  const alerts = uniqueName('abuse.alerts');
  const prefix = `abuse-it-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const index = `${prefix}-alerts`;
  topics.push(alerts, `${group}.dlq`);
  indices.push(index);
  const env = {
    KAFKA_BROKERS: bootstrap,
    CONSUMER_GROUP: group,
    CDC_TOPIC: topic,
    ALERTS_TOPIC: alerts,
    ES_URL: esUrl,
    ES_ALERTS_INDEX: index,
    RULES_FILE: rulesPath,
    STATE_PATH: join(tempDir('abuse-state'), 'state.db'),
    WINDOW_GRACE_MS: '1000',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    BATCH_MAX_WAIT_MS: '50',
    ...extra,
  };
  const p = new DetectorProcess(env);
  processes.push(p);
  return { p, group, alerts, index, prefix, env };
}

/** Records the detector dropped because the watermark had closed their window (none, when it reads what the core wrote). */
const lateRecords = (metrics: string) => Number(/^abuse_detector_late_records_total (\d+)$/m.exec(metrics)?.[1] ?? NaN);

function groupBy<T, K>(xs: Iterable<T>, key: (x: T) => K): Map<K, T[]> {
  const m = new Map<K, T[]>();
  for (const x of xs) m.set(key(x), [...(m.get(key(x)) ?? []), x]);
  return m;
}

interface Event {
  actor: string;
  source: string;
  target: string;
  status: string;
  accumulator: number;
  at: number;
}
const events = (): Event[] =>
  cdcRecords
    .map((r) => JSON.parse(r.payload ?? 'null'))
    .filter((v) => v?.context?.database === 'shop')
    .map((v) => ({
      actor: v.context.request.actor,
      source: String((v.after ?? v.before).source),
      target: String((v.after ?? v.before).target),
      status: v.status,
      accumulator: v.accumulator,
      at: v.processedAt,
    }));

/**
 * Lower bounds that follow from the workload as the core recorded it (not from the detector):
 * - a bot whose records all fall within half a window reaches its limit inside one tumbling window however the
 *   windows align (its activity is twice the limit), so it must be found: recall >= certain / bots;
 * - a user or item whose whole activity over the run stays under a limit can never trip it, so false positives
 *   can only come from the few that do not: precision >= certain / (certain + could-trip).
 */
function bounds(): { recall: number; precision: number; certain: number; couldTrip: string[] } {
  const ev = events();
  const r = TEST_RULES;
  const span = (xs: Event[]) => (xs.length === 0 ? Infinity : Math.max(...xs.map((e) => e.at)) - Math.min(...xs.map((e) => e.at)));
  let certain = 0;
  for (const [id, rule] of truth.bots) {
    const mine =
      rule === 'burst'
        ? ev.filter((e) => e.actor === id)
        : rule === 'flapping'
          ? ev.filter((e) => e.source === id && (e.status === 'CREATED' || e.status === 'DELETED'))
          : rule === 'fan-out'
            ? ev.filter((e) => e.source === id)
            : ev.filter((e) => e.target === id && e.actor.startsWith('farm-'));
    const window = rule === 'burst' ? r.burstWindowMs : rule === 'flapping' ? r.flapWindowMs : rule === 'fan-out' ? r.fanOutWindowMs : r.spikeBucketMs;
    const humansOnSpike = ev.filter((e) => e.target === String(SPIKE_TARGET) && !e.actor.startsWith('farm-')).length;
    if (span(mine) <= window / 2 && (rule !== 'target-spike' || humansOnSpike <= 2)) certain++;
  }
  const couldTrip: string[] = [];
  const humans = ev.filter((e) => !truth.bots.has(e.actor) && !truth.bots.has(e.source));
  const by = <K extends keyof Event>(k: K) => groupBy(humans, (e) => e[k]);
  for (const [actor, xs] of by('actor')) if (xs.length >= r.burstLimit) couldTrip.push(`actor ${actor}`);
  for (const [source, xs] of by('source')) {
    if (new Set(xs.map((e) => e.target)).size >= r.fanOutTargets) couldTrip.push(`source ${source}`);
    const toggles = groupBy(xs.filter((e) => e.status === 'CREATED' || e.status === 'DELETED'), (e) => e.target);
    if ([...toggles.values()].some((t) => t.length >= r.flapToggles)) couldTrip.push(`edge of ${source}`);
  }
  for (const [target, xs] of groupBy(ev.filter((e) => !truth.bots.has(e.target)), (e) => e.target)) {
    if (xs.reduce((s, e) => s + Math.max(0, e.accumulator), 0) >= r.spikeMinGrowth) couldTrip.push(`target ${target}`);
  }
  const bots = truth.bots.size;
  return { recall: certain / bots, precision: certain / (certain + couldTrip.length), certain, couldTrip };
}

describe('abuse-detector on the real core, Kafka and Elasticsearch', () => {
  it('finds the bots mixed into human traffic: precision and recall, alerts on the topic, in Elasticsearch and in /metrics', async () => {
    const d = detector(cdc);
    await d.p.start();
    phase('detector ready');
    await waitCaughtUp(admin, d.group, cdc);
    phase('detector caught up');
    const { alerts } = await readAlerts(bootstrap, d.alerts);
    uninterrupted = alerts;

    const flagged = new Set([...alerts.values()].flatMap((a) => a.users));
    const found = [...truth.bots].filter(([id, rule]) => [...alerts.values()].some((a) => a.rule === rule && a.users.includes(id)));
    const tp = [...flagged].filter((u) => truth.bots.has(u)).length;
    const precision = flagged.size === 0 ? 0 : tp / flagged.size;
    const recall = found.length / truth.bots.size;
    const perRule = Object.fromEntries(
      ['burst', 'flapping', 'fan-out', 'target-spike'].map((rule) => {
        const bots = [...truth.bots].filter(([, r]) => r === rule);
        return [rule, `${bots.filter(([id]) => found.some(([f]) => f === id)).length}/${bots.length}`];
      }),
    );
    const b = bounds();
    const falsePositives = [...flagged].filter((u) => !truth.bots.has(u));
    console.log(
      `abuse-detector on ${truth.mutations} mutations (${truth.requests} requests, ${truth.normalUsers.length} humans, ${truth.bots.size} bots): ` +
        `precision ${precision.toFixed(3)} (lower bound ${b.precision.toFixed(3)}), recall ${recall.toFixed(3)} (lower bound ${b.recall.toFixed(3)}); ` +
        `found per rule ${JSON.stringify(perRule)}; ${alerts.size} alerts; false positives ${JSON.stringify(falsePositives)}; could trip ${JSON.stringify(b.couldTrip)}`,
    );
    expect(b.certain).toBeGreaterThan(0);
    expect(recall).toBeGreaterThanOrEqual(b.recall);
    expect(precision).toBeGreaterThanOrEqual(b.precision);

    // The support lookup's source: every alert in the index, by its id, searchable by user.
    await es.indices.refresh({ index: d.index });
    const hits = await es.search<AlertRecord>({ index: d.index, size: 1000, query: { match_all: {} } });
    expect(new Set(hits.hits.hits.map((h) => h._id))).toEqual(new Set(alerts.keys()));
    const burstBot = await es.search<AlertRecord>({ index: d.index, query: { term: { users: 'bot-burst-0' } } });
    expect(burstBot.hits.hits.map((h) => h._source!.rule)).toContain('burst');

    // The support page (apps/es-indexer's lookup, its own process) shows a bot's alerts, in a real browser.
    const lookup = await startLookup({ bootstrap, esUrl, prefix: d.prefix, auditFile: join(tempDir('abuse-audit'), 'audit.jsonl') });
    try {
      const api = await fetch(`${lookup.url}/api/users/bot-flap-1/alerts`, { headers: { authorization: `Bearer ${LOOKUP_TOKEN.split(':')[1]}` } });
      expect(api.status).toBe(200);
      expect(((await api.json()) as { items: AlertRecord[] }).items.map((a) => a.rule)).toContain('flapping');
      const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
      try {
        const page = await browser.newPage();
        await page.goto(`${lookup.url}/`);
        await page.fill('#token', LOOKUP_TOKEN.split(':')[1]!);
        await page.fill('#alerts-of-user input[name=user]', 'bot-burst-2');
        await page.click('#alerts-of-user button');
        await page.locator('#alerts tbody tr').first().waitFor();
        const rules = await page.$$eval('#alerts tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
        expect(rules).toContain('burst (actor-burst)');
        await page.fill('#alerts-of-user input[name=user]', 'user-0');
        await page.click('#alerts-of-user button');
        await waitFor('no alerts for a human', async () => (await page.textContent('#alerts-status')) === 'No alerts.');
      } finally {
        await browser.close();
      }
    } finally {
      lookup.stop();
    }

    const metrics = await d.p.metrics();
    expect(lateRecords(metrics)).toBe(0);
    const counted = [...metrics.matchAll(/^abuse_detector_alerts_total\{[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(counted).toBe(alerts.size);
    expect(metrics).toMatch(/^abuse_detector_state_keys \d+$/m);
    expect(await d.p.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('kill -9 in the middle of its windows, then a restart: the same alerts as the run never stopped', async () => {
    expect(uninterrupted).toBeDefined();
    // The core's CDC records, copied partition by partition (same keys, same order) in two halves, so the kill
    // falls while the first half's windows are open and the second half is being read. The halves are cut at the
    // median event time, as the core would have produced them up to that moment: a cut by count would end one
    // partition's half seconds after another's, and the first half read to its end would rightly close the windows
    // that the second half's records of the other partitions fall in (records that late are dropped).
    const copy = uniqueName('abuse.cdc-copy');
    topics.push(copy);
    await admin.ensureTopics([{ name: copy, partitions: 3 }]);
    const timeOf = (r: KcatRecord) => (JSON.parse(r.payload ?? 'null') as { processedAt?: number } | null)?.processedAt ?? 0;
    const times = cdcRecords.map(timeOf).sort((a, b) => a - b);
    const cutAt = times[Math.floor(times.length / 2)]!;
    const byPartition = groupBy(cdcRecords, (r) => r.partition);
    const half = (first: boolean) =>
      [...byPartition].flatMap(([partition, rs]) => {
        const sorted = rs.sort((a, b) => a.offset - b.offset);
        const cut = sorted.findIndex((r) => timeOf(r) >= cutAt);
        const at = cut < 0 ? sorted.length : cut;
        return (first ? sorted.slice(0, at) : sorted.slice(at)).map((r) => ({ key: r.key, value: r.payload ?? '', partition }));
      });

    const d = detector(copy, { BATCH_MAX_RECORDS: '20' });
    await producer.send(copy, half(true));
    await d.p.start();
    await waitCaughtUp(admin, d.group, copy);
    phase('first half read');
    const store = new StateStore(d.env.STATE_PATH);
    const open = [...store.entries()].length;
    store.close();
    expect(open).toBeGreaterThan(0); // windows held in the store at the kill

    const halfway = await admin.committedOffsets(d.group, copy);
    await producer.send(copy, half(false));
    const ends = await admin.endOffsets(copy);
    // Kill as soon as the second half is being committed, i.e. in the middle of reading it.
    const killedAt = await waitFor(
      'the second half being read',
      async () => {
        const c = await admin.committedOffsets(d.group, copy);
        const moved = [...c].some(([p, o]) => o > (halfway.get(p) ?? 0n));
        return moved ? c : undefined;
      },
      60_000,
    ).catch(() => undefined);
    const lateBeforeKill = lateRecords(await d.p.metrics());
    await d.p.stop('SIGKILL');
    const committedAtKill = killedAt ? [...killedAt.values()].reduce((s, o) => s + o, 0n) : undefined;
    const total = [...ends.values()].reduce((s, o) => s + o, 0n);

    phase('killed');
    await d.p.start();
    await waitCaughtUp(admin, d.group, copy);
    phase('restarted and caught up');
    const { alerts, copies } = await readAlerts(bootstrap, d.alerts);
    const late = lateBeforeKill + lateRecords(await d.p.metrics());
    console.log(
      `kill -9 with ${committedAtKill ?? '?'} of ${total} records committed (${open} windows in the store at the half); ` +
        `after the restart ${alerts.size} distinct alerts in ${copies} messages, ${late} records dropped as late, the uninterrupted run had ${uninterrupted!.size}`,
    );
    expect(late).toBe(0);
    expect([...alerts.keys()].sort()).toEqual([...uninterrupted!.keys()].sort());
    for (const [id, a] of alerts) expect(comparable(a)).toEqual(comparable(uninterrupted!.get(id)!));
    await es.indices.refresh({ index: d.index });
    expect((await es.count({ index: d.index })).count).toBe(alerts.size);
    expect(await d.p.stop('SIGTERM')).toBe(0);
  }, 120_000);

  it('a second replica in the group: both say so, are not ready, and the one left is ready again once the other stopped', async () => {
    const first = detector(cdc, { GROUP_CHECK_MS: '300' });
    await first.p.start();
    const second = new DetectorProcess({ ...first.env, STATE_PATH: join(tempDir('abuse-state'), 'state.db') });
    processes.push(second);
    await second.start('live');
    const shared = /"msg":"the consumer group has 2 members[^"]*Run one replica of abuse-detector per group/;
    for (const p of [first.p, second]) {
      await waitFor('an error naming the second member, and not ready', async () => shared.test(p.output) && (await p.probe('readiness')) === 503, 30_000);
    }
    expect(await first.p.metrics()).toMatch(/^abuse_detector_group_members 2$/m);
    const readiness = (await (await fetch(`http://127.0.0.1:${first.p.port}/health/readiness`)).json()) as { reasons: string[] };
    expect(readiness.reasons).toEqual([expect.stringMatching(/^sink not ready: each reads part of the partitions.*Run one replica.*\(members: .+, .+\)$/)]);
    // Its signal handlers are installed once it joined (before, a signal ends it at once, with nothing written).
    await waitFor('the second replica consuming', async () => /"msg":"consuming"/.test(second.output), 60_000);
    expect(await second.stop('SIGTERM')).toBe(0);
    await waitFor('the one left ready again', async () => (await first.p.probe('readiness')) === 200, 30_000);
    expect(first.p.output).toContain('the consumer group has one member again');
    expect(await first.p.stop('SIGTERM')).toBe(0);
  }, 120_000);
});
