/**
 * Samples the whole pipeline every SAMPLE_INTERVAL_MS and keeps the last hour in memory: the core (health
 * details, /metrics), each consumer app (readiness, /metrics), Kafka (end offsets of the WAL and CDC topics, the
 * groups' committed offsets, the dead-letter topics) and each sink (Elasticsearch, the Iceberg tables, Druid's
 * supervisor). Each component gets a status and, when it is not OK, the reasons, which the page shows as they are.
 *
 * Lag comes from Kafka, not from the consumers: a stopped consumer reports nothing, and its lag growing is exactly
 * what must show.
 */
import type { Client as EsClient } from '@elastic/elasticsearch';
import { createEsClient, esConnectionFromEnv, explainEsError } from '@pipeline/elasticsearch';
import { currentSnapshot, FolderCatalog, JdbcCatalog, type Catalog } from '@pipeline/iceberg';
import { createKafka, type Admin } from '@pipeline/kafka';
import type { Logger } from 'pino';
import type { Config } from './config';
import { History, lagGrowing, type SeriesInfo } from './history';
import { probe } from './probe';
import { reconcileStatus } from './reconcile-status';
import { bucketsOf, parsePrometheusText, quantileBetween, sumOf, type Sample } from './prom-text';

export type Status = 'ok' | 'warn' | 'down';
export type Kind = 'core' | 'topic' | 'consumer' | 'sink';

export interface Figure {
  label: string;
  value: string;
  /** The series behind it, charted on the page. */
  series?: string;
}

export interface Component {
  id: string;
  label: string;
  kind: Kind;
  status: Status;
  reasons: string[];
  figures: Figure[];
  /** The app process this component runs in (consumer groups). */
  app?: string;
}

export interface PipelineState {
  at: number;
  intervalMs: number;
  components: Component[];
  links: { from: string; to: string }[];
  series: ReturnType<History['toJSON']>;
}

interface GroupInfo {
  app: string;
  group: string;
  topic: string;
  sink: string;
}

/** Where each known app writes, and its groups when it has not reported them yet (the apps' defaults). */
const SINK_OF: Record<string, { id: string; label: string }> = {
  'es-indexer': { id: 'sink:elasticsearch', label: 'Elasticsearch' },
  snapshotter: { id: 'sink:iceberg', label: 'Iceberg tables' },
  'async-processor': { id: 'core', label: 'core' },
};
const DEFAULT_GROUPS: Record<string, { group: string; topic: 'wal' | 'cdc' }[]> = {
  'es-indexer': [
    { group: 'es-indexer.wal', topic: 'wal' },
    { group: 'es-indexer.cdc', topic: 'cdc' },
  ],
  snapshotter: [{ group: 'snapshotter', topic: 'cdc' }],
  'async-processor': [{ group: 'async-processor', topic: 'wal' }],
};

const fmt = (n: number | undefined | null, digits = 0) =>
  n === undefined || n === null || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const fmtAge = (s: number | undefined) => (s === undefined ? '–' : s < 120 ? `${fmt(s, 1)} s` : s < 7200 ? `${fmt(s / 60, 1)} min` : `${fmt(s / 3600, 1)} h`);
const sumMap = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n);

export interface SamplerDeps {
  /** Injected in tests; by default a Kafka admin client on KAFKA_BROKERS. */
  admin?: () => Promise<Admin>;
}

export class Sampler {
  readonly history: History;
  private state: PipelineState;
  private readonly counters = new Map<string, { t: number; v: number }>();
  private coreBuckets: Map<number, number> | undefined;
  private readonly groups = new Map<string, GroupInfo>();
  private admin: Admin | undefined;
  private catalog: Catalog | undefined;
  private es: EsClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly cfg: Config,
    private readonly logger: Logger,
    private readonly deps: SamplerDeps = {},
  ) {
    this.history = new History(cfg.HISTORY_MS);
    this.state = { at: 0, intervalMs: cfg.SAMPLE_INTERVAL_MS, components: [], links: [], series: {} };
    for (const c of cfg.CONSUMERS) {
      for (const g of DEFAULT_GROUPS[c.name] ?? []) {
        this.groups.set(g.group, { app: c.name, group: g.group, topic: g.topic === 'wal' ? cfg.WAL_TOPIC : cfg.CDC_TOPIC, sink: SINK_OF[c.name]?.id ?? `sink:${c.name}` });
      }
    }
  }

  current(): PipelineState {
    return { ...this.state, series: this.history.toJSON() };
  }

  start(): void {
    const tick = () => {
      this.running = this.sample().catch((err: unknown) => this.logger.error({ err }, 'sampling failed; trying again at the next tick'));
    };
    tick();
    this.timer = setInterval(() => {
      // A slow source must not pile up samples: skip a tick while the previous one runs.
      if (this.running === undefined) tick();
    }, this.cfg.SAMPLE_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.admin?.close().catch(() => undefined);
    await this.catalog?.close().catch(() => undefined);
    await this.es?.close().catch(() => undefined);
  }

  /** Rate per second of a counter since the previous sample; undefined on the first sample or after a reset. */
  private rate(key: string, now: number, value: number | undefined): number | undefined {
    if (value === undefined) {
      this.counters.delete(key);
      return undefined;
    }
    const prev = this.counters.get(key);
    this.counters.set(key, { t: now, v: value });
    if (!prev || now <= prev.t || value < prev.v) return undefined;
    return ((value - prev.v) * 1000) / (now - prev.t);
  }

  private push(id: string, info: SeriesInfo, now: number, v: number | undefined | null): string {
    this.history.push(id, info, now, v);
    return id;
  }

  private async kafkaAdmin(): Promise<Admin> {
    this.admin ??= await (this.deps.admin?.() ?? createKafka({ brokers: this.cfg.KAFKA_BROKERS.split(','), clientId: 'console', requestTimeoutMs: this.cfg.REQUEST_TIMEOUT_MS, retries: 0 }).admin());
    return this.admin;
  }

  async sample(now = Date.now()): Promise<void> {
    try {
      const c = this.cfg;
      const t = c.REQUEST_TIMEOUT_MS;
      const [coreHealth, coreMetrics, apps] = await Promise.all([
        probe<Record<string, unknown>>(`${c.CORE_URL}/graph/health/details`, t, 'json'),
        probe<string>(`${c.CORE_URL}/metrics`, t, 'text'),
        Promise.all(
          c.CONSUMERS.map(async (app) => {
            const [ready, metrics] = await Promise.all([
              probe<{ status?: string; state?: string; reasons?: string[] }>(`${app.url}/health/readiness`, t, 'json'),
              probe<string>(`${app.url}/metrics`, t, 'text'),
            ]);
            return { app, ready, samples: metrics.ok ? parsePrometheusText(metrics.value) : undefined, metricsReason: metrics.ok ? undefined : metrics.reason };
          }),
        ),
      ]);
      // Groups as the apps report them (their metrics carry group and topic), replacing the defaults of that app.
      for (const a of apps) {
        const seen = new Map<string, string>();
        for (const s of a.samples ?? []) if (s.name === 'stream_records_in_total' && s.labels['group'] && s.labels['topic']) seen.set(s.labels['group'], s.labels['topic']);
        if (seen.size === 0) continue;
        for (const [g, info] of this.groups) if (info.app === a.app.name && !seen.has(g)) this.groups.delete(g);
        for (const [group, topic] of seen) this.groups.set(group, { app: a.app.name, group, topic, sink: SINK_OF[a.app.name]?.id ?? `sink:${a.app.name}` });
      }

      const components: Component[] = [];
      const links: PipelineState['links'] = [];

      // ---- core
      const core: Component = { id: 'core', label: 'core (actionbase)', kind: 'core', status: 'ok', reasons: [], figures: [] };
      const coreSamples: Sample[] | undefined = coreMetrics.ok ? parsePrometheusText(coreMetrics.value) : undefined;
      if (!coreHealth.ok) {
        core.status = 'down';
        core.reasons.push(coreHealth.status === 503 ? 'not ready (DOWN)' : coreHealth.reason);
      }
      const mutations = coreSamples ? sumOf(coreSamples, 'actionbase_mutations_total', { outcome: 'ok' }) : undefined;
      const mps = this.rate('core.mutations', now, mutations);
      let p99: number | undefined;
      if (coreSamples) {
        const buckets = bucketsOf(coreSamples, 'actionbase_request_duration_seconds', { kind: 'mutation' });
        const q = quantileBetween(0.99, this.coreBuckets, buckets);
        p99 = q === undefined ? undefined : q * 1000;
        this.coreBuckets = buckets;
      } else this.coreBuckets = undefined;
      const backlog = (coreHealth.value as { cdcBacklog?: number } | undefined)?.cdcBacklog;
      core.figures.push(
        { label: 'mutations/s', value: fmt(mps, 1), series: this.push('core.mutations', { label: 'core mutations/s', unit: '/s' }, now, mps ?? (coreSamples ? null : undefined)) },
        { label: 'p99 mutation latency', value: p99 === undefined ? '–' : `${fmt(p99, 1)} ms`, series: this.push('core.p99', { label: 'core p99 mutation latency', unit: 'ms' }, now, p99) },
        { label: 'CDC backlog', value: fmt(backlog) },
      );
      if (coreHealth.ok && !coreMetrics.ok) core.reasons.push(`metrics: ${coreMetrics.reason}`);
      components.push(core);

      // ---- Kafka: topics, groups' committed offsets, dead-letter topics
      let admin: Admin | undefined;
      let kafkaReason: string | undefined;
      const ends = new Map<string, Map<number, bigint>>();
      let topicNames: string[] = [];
      try {
        admin = await this.kafkaAdmin();
        topicNames = await admin.listTopics();
        for (const topic of new Set([c.WAL_TOPIC, c.CDC_TOPIC, ...[...this.groups.values()].map((g) => g.topic)])) {
          if (topicNames.includes(topic)) ends.set(topic, await admin.endOffsets(topic));
        }
      } catch (err) {
        kafkaReason = `Kafka at ${c.KAFKA_BROKERS}: ${(err as Error).message}`.slice(0, 200);
        await this.admin?.close().catch(() => undefined);
        this.admin = undefined;
        admin = undefined;
      }
      for (const [which, topic] of [['wal', c.WAL_TOPIC], ['cdc', c.CDC_TOPIC]] as const) {
        const comp: Component = { id: `topic:${which}`, label: `${which.toUpperCase()} topic ${topic}`, kind: 'topic', status: 'ok', reasons: [], figures: [] };
        const end = ends.get(topic);
        const total = end ? Number(sumMap(end)) : undefined;
        const r = this.rate(`topic.${which}`, now, total);
        comp.figures.push(
          { label: 'records/s', value: fmt(r, 1), series: this.push(`topic.${which}.rate`, { label: `${which.toUpperCase()} records/s`, unit: '/s' }, now, r) },
          { label: 'records', value: fmt(total) },
        );
        if (kafkaReason) {
          comp.status = 'down';
          comp.reasons.push(kafkaReason);
        } else if (!end) {
          comp.status = 'warn';
          comp.reasons.push(`topic ${topic} does not exist yet (the core creates it at start)`);
        }
        components.push(comp);
        links.push({ from: 'core', to: comp.id });
      }

      const sinks = new Map<string, Component>();
      for (const info of [...this.groups.values()].sort((a, b) => a.group.localeCompare(b.group))) {
        const app = apps.find((a) => a.app.name === info.app)!;
        const comp: Component = { id: `group:${info.group}`, label: info.group === info.app ? info.app : `${info.app} · ${info.group}`, kind: 'consumer', status: 'ok', reasons: [], figures: [], app: info.app };
        if (!app.ready.ok) {
          comp.status = 'down';
          const why = app.ready.value?.reasons?.length ? app.ready.value.reasons.join('; ') : app.ready.reason;
          comp.reasons.push(app.ready.status === 503 ? `${info.app} not ready: ${why}` : `${info.app}: ${why}`);
        }
        let lag: number | undefined;
        if (admin && ends.has(info.topic)) {
          try {
            const committed = await admin.committedOffsets(info.group, info.topic);
            let l = 0n;
            // The end offsets were read first: a commit since then may pass them, which is no lag at all.
            for (const [p, end] of ends.get(info.topic)!) {
              const d = end - (committed.get(p) ?? 0n);
              if (d > 0n) l += d;
            }
            lag = Number(l);
          } catch (err) {
            comp.reasons.push(`committed offsets of ${info.group}: ${(err as Error).message}`.slice(0, 200));
          }
        }
        const lagId = this.push(`group.${info.group}.lag`, { label: `${info.group} lag`, unit: 'records' }, now, lag);
        const growing = lagGrowing(this.history.recent(lagId, c.LAG_GROWING_MS, now), c.LAG_GROWING_MS, c.LAG_ALERT_RECORDS);
        if (growing) {
          comp.status = 'down';
          comp.reasons.push(growing);
        }
        const s = app.samples;
        const read = s ? sumOf(s, 'stream_records_in_total', { group: info.group }) : undefined;
        const rps = this.rate(`group.${info.group}.in`, now, read);
        const dead = s ? (sumOf(s, 'stream_records_dlq_total', { group: info.group }) ?? 0) : undefined;
        const deadId = this.push(`group.${info.group}.dlq`, { label: `${info.group} dead letters (since its start)`, unit: 'records' }, now, dead);
        const dlqTopic = [`${info.group}.dlq`, `${info.group.replace(/\.(wal|cdc)$/, '')}.dlq`].find((n) => topicNames.includes(n));
        let dlqHeld: number | undefined;
        if (admin && dlqTopic) dlqHeld = await admin.endOffsets(dlqTopic).then((m) => Number(sumMap(m)), () => undefined);
        comp.figures.push(
          { label: 'lag', value: lag === undefined ? '–' : `${fmt(lag)} records`, series: lagId },
          { label: 'records/s', value: fmt(rps, 1), series: this.push(`group.${info.group}.rate`, { label: `${info.group} records/s`, unit: '/s' }, now, rps ?? (s ? null : undefined)) },
          { label: 'dead letters', value: `${fmt(dead)}${dlqTopic ? ` (${fmt(dlqHeld)} in ${dlqTopic})` : ''}`, series: deadId },
        );
        const deadBefore = this.history.recent(deadId, 300_000, now).find(([, v]) => v !== null)?.[1];
        if (dead !== undefined && deadBefore !== undefined && deadBefore !== null && dead > deadBefore && comp.status === 'ok') {
          comp.status = 'warn';
          comp.reasons.push(`${dead - deadBefore} dead letters in the last 5 min`);
        }
        if (app.ready.ok && app.metricsReason) comp.reasons.push(`metrics: ${app.metricsReason}`);
        components.push(comp);
        links.push({ from: info.topic === c.WAL_TOPIC ? 'topic:wal' : info.topic === c.CDC_TOPIC ? 'topic:cdc' : `topic:${info.topic}`, to: comp.id });
        links.push({ from: comp.id, to: info.sink });
        if (info.sink !== 'core' && !sinks.has(info.sink)) {
          sinks.set(info.sink, { id: info.sink, label: SINK_OF[info.app]?.label ?? info.app, kind: 'sink', status: 'ok', reasons: [], figures: [] });
        }
      }

      // ---- sinks
      const snapshotterLag = [...this.groups.values()].filter((g) => g.app === 'snapshotter').reduce((a, g) => a + (this.history.points(`group.${g.group}.lag`).at(-1)?.[1] ?? 0), 0);
      const es = sinks.get('sink:elasticsearch');
      if (es) await this.sampleElasticsearch(es, now);
      const ice = sinks.get('sink:iceberg');
      if (ice) await this.sampleIceberg(ice, now, snapshotterLag);
      if (c.DRUID_INGEST_URL) {
        const druid: Component = { id: 'sink:druid', label: 'Druid (Kafka supervisor)', kind: 'sink', status: 'ok', reasons: [], figures: [] };
        await this.sampleDruid(druid, now);
        links.push({ from: 'topic:cdc', to: druid.id });
        sinks.set(druid.id, druid);
      }
      if (c.RECONCILE_URL) {
        const rec: Component = { id: 'check:reconcile', label: 'reconcile (wal-replay)', kind: 'sink', status: 'ok', reasons: [], figures: [] };
        await this.sampleReconcile(rec, sinks, now);
        links.push({ from: 'core', to: rec.id });
        sinks.set(rec.id, rec);
      }
      components.push(...sinks.values());
      this.state = { at: now, intervalMs: c.SAMPLE_INTERVAL_MS, components, links, series: {} };
    } finally {
      this.running = undefined;
    }
  }

  private async sampleElasticsearch(comp: Component, now: number): Promise<void> {
    const c = this.cfg;
    const conn = esConnectionFromEnv(c);
    // One attempt per sample, bounded like every other read: the next sample is the retry.
    this.es ??= createEsClient(conn, { requestTimeout: c.REQUEST_TIMEOUT_MS, maxRetries: 0 });
    let age: number | undefined;
    let answered = false;
    try {
      const health = await this.es.cluster.health();
      answered = true;
      if (health.status === 'red') {
        comp.status = 'down';
        comp.reasons.push('cluster status red');
      }
    } catch (err) {
      comp.status = 'down';
      comp.reasons.push(explainEsError(err, conn));
    }
    if (answered) {
      try {
        // The newest record indexed, by the time the core processed it: how far the mutation log is behind.
        const r = await this.es.search({
          index: `${c.ES_INDEX_PREFIX}-*`,
          ignore_unavailable: true,
          allow_no_indices: true,
          size: 0,
          aggs: { newest: { max: { field: '@timestamp' } } },
        });
        const newest = (r.aggregations?.['newest'] as { value?: number | null } | undefined)?.value;
        if (typeof newest === 'number') age = Math.max(0, (now - newest) / 1000);
      } catch (err) {
        comp.reasons.push(`newest document: ${explainEsError(err, conn)}`);
      }
    }
    comp.figures.push({ label: 'newest record indexed', value: age === undefined ? '–' : `${fmtAge(age)} ago`, series: this.push('sink.elasticsearch.age', { label: 'Elasticsearch: age of the newest record', unit: 's' }, now, age) });
  }

  private async sampleIceberg(comp: Component, now: number, snapshotterLag: number): Promise<void> {
    const c = this.cfg;
    let age: number | undefined;
    try {
      this.catalog ??= c.CATALOG === 'jdbc' ? new JdbcCatalog({ url: c.CATALOG_URL!, catalogName: c.CATALOG_NAME, warehouse: c.WAREHOUSE_DIR, poolSize: 1 }) : new FolderCatalog(c.WAREHOUSE_DIR);
      const tables = await this.catalog.listTables();
      let newest: number | undefined;
      for (const ident of tables) {
        const t = await this.catalog.loadTable(ident);
        const snap = t ? currentSnapshot(t.metadata) : undefined;
        if (snap && (newest === undefined || snap['timestamp-ms'] > newest)) newest = snap['timestamp-ms'];
      }
      comp.figures.push({ label: 'tables', value: fmt(tables.length) });
      if (newest !== undefined) age = Math.max(0, (now - newest) / 1000);
      else {
        comp.status = 'warn';
        comp.reasons.push(`no snapshot yet in ${c.CATALOG === 'jdbc' ? `catalog ${c.CATALOG_NAME}` : c.WAREHOUSE_DIR}`);
      }
      if (age !== undefined && age * 1000 > c.ICEBERG_STALE_MS && snapshotterLag > 0) {
        comp.status = 'down';
        comp.reasons.push(`newest snapshot ${fmtAge(age)} old while ${fmt(snapshotterLag)} CDC records wait`);
      }
    } catch (err) {
      comp.status = 'down';
      comp.reasons.push(`catalog (${c.CATALOG}): ${(err as Error).message}`.slice(0, 200));
    }
    comp.figures.push({ label: 'newest snapshot', value: age === undefined ? '–' : `${fmtAge(age)} old`, series: this.push('sink.iceberg.age', { label: 'Iceberg: age of the newest snapshot', unit: 's' }, now, age) });
  }

  /** The last run of a scheduled reconcile; each sink it found divergent turns red too, with the count. */
  private async sampleReconcile(comp: Component, sinks: Map<string, Component>, now: number): Promise<void> {
    const c = this.cfg;
    const r = await probe<string>(`${c.RECONCILE_URL}/metrics`, c.REQUEST_TIMEOUT_MS, 'text');
    let divergent: number | undefined;
    let age: number | undefined;
    if (!r.ok) {
      comp.status = 'down';
      comp.reasons.push(`reconcile: ${r.reason}`);
    } else {
      const s = reconcileStatus(parsePrometheusText(r.value), now, c.RECONCILE_STALE_MS);
      comp.status = s.status;
      comp.reasons.push(...s.reasons);
      divergent = s.divergent;
      age = s.ageS;
      for (const [sink, n] of s.bySink) {
        const target = sinks.get(`sink:${sink}`);
        if (!target) continue;
        target.status = 'down';
        target.reasons.push(`reconcile: ${fmt(n)} divergent keys`);
      }
    }
    comp.figures.push(
      { label: 'divergent keys', value: fmt(divergent), series: this.push('reconcile.divergent', { label: 'reconcile: divergent keys', unit: 'keys' }, now, divergent) },
      { label: 'last run', value: age === undefined ? '–' : `${fmtAge(age)} ago` },
    );
  }

  private async sampleDruid(comp: Component, now: number): Promise<void> {
    const c = this.cfg;
    const r = await probe<{ healthy?: boolean; aggregateLag?: number | null; summary?: string; state?: string; message?: string }>(`${c.DRUID_INGEST_URL}/supervisor`, c.REQUEST_TIMEOUT_MS, 'json');
    const lag = r.value?.aggregateLag ?? undefined;
    if (!r.ok) {
      comp.status = 'down';
      comp.reasons.push(r.value?.message ? `druid-ingest: ${r.value.message}`.slice(0, 200) : `druid-ingest: ${r.reason}`);
    } else if (r.value.healthy === false) {
      comp.status = 'down';
      comp.reasons.push(r.value.summary ?? 'supervisor unhealthy');
    }
    const lagId = this.push('sink.druid.lag', { label: 'Druid supervisor lag', unit: 'records' }, now, lag);
    const growing = lagGrowing(this.history.recent(lagId, c.LAG_GROWING_MS, now), c.LAG_GROWING_MS, c.LAG_ALERT_RECORDS);
    if (growing) {
      comp.status = 'down';
      comp.reasons.push(growing);
    }
    comp.figures.push({ label: 'lag', value: lag === undefined ? '–' : `${fmt(lag)} records`, series: lagId }, { label: 'state', value: r.value?.state ?? '–' });
  }
}
