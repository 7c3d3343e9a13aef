/**
 * `reconcile` as a command (one run, exit 0/1) and as a scheduled mode (EVERY_MS: a run every EVERY_MS,
 * gauges served on METRICS_HOST:METRICS_PORT /metrics, readiness once a run finished).
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { Gauge, Registry } from 'prom-client';
import { esConnectionFromEnv } from '@pipeline/elasticsearch';
import { startHealthServer } from '@pipeline/stream';
import type { Deps } from './commands';
import { CoreClient } from '@pipeline/core-api';
import { reconcile, type ReconcileReport } from './reconcile';
import { DruidSide } from './reconcile-druid';
import { CoreSide, ElasticsearchSide, IcebergSide, type SinkSide, type TableRef } from './reconcile-sinks';

export class ReconcileMetrics {
  readonly registry = new Registry();
  private readonly labels = ['sink', 'table'] as const;
  readonly divergent = new Gauge({ name: 'reconcile_divergent_keys', help: 'Keys whose state in the sink differs from the CDC state at its committed point (sampled tables: in the sample)', labelNames: this.labels, registers: [this.registry] });
  readonly compared = new Gauge({ name: 'reconcile_compared_keys', help: 'Keys compared in the last run', labelNames: this.labels, registers: [this.registry] });
  readonly lagging = new Gauge({ name: 'reconcile_lagging_keys', help: 'Keys holding a state newer than the committed point (written, not committed yet)', labelNames: this.labels, registers: [this.registry] });
  readonly behind = new Gauge({ name: 'reconcile_behind_keys', help: 'Keys whose newest CDC state is past the committed point of the sink', labelNames: this.labels, registers: [this.registry] });
  readonly lag = new Gauge({ name: 'reconcile_sink_lag_records', help: 'CDC records past the offsets committed into the sink', labelNames: this.labels, registers: [this.registry] });
  readonly estimate = new Gauge({ name: 'reconcile_estimated_divergent_keys', help: 'Sampled tables: estimated divergent keys in the whole table', labelNames: this.labels, registers: [this.registry] });
  readonly stdError = new Gauge({ name: 'reconcile_estimate_std_error_keys', help: 'Sampled tables: standard error of the estimate', labelNames: this.labels, registers: [this.registry] });
  readonly upper = new Gauge({ name: 'reconcile_estimate_upper95_keys', help: 'Sampled tables: 95% upper bound of divergent keys', labelNames: this.labels, registers: [this.registry] });
  readonly lastRun = new Gauge({ name: 'reconcile_last_run_timestamp_seconds', help: 'End of the last finished run', registers: [this.registry] });
  readonly lastDuration = new Gauge({ name: 'reconcile_last_run_duration_seconds', help: 'Duration of the last finished run', registers: [this.registry] });
  readonly lastOk = new Gauge({ name: 'reconcile_last_run_success', help: '1 when the last run finished (whatever it found), 0 when it failed', registers: [this.registry] });
  readonly caughtUp = new Gauge({ name: 'reconcile_sink_caught_up', help: 'Sinks waited on before comparing (Druid): 1 when they reached the CDC read within the bound', labelNames: this.labels, registers: [this.registry] });
  readonly total = new Gauge({ name: 'reconcile_divergent_keys_total', help: 'Divergent keys over every sink and table in the last run', registers: [this.registry] });

  update(r: ReconcileReport): void {
    for (const g of [this.divergent, this.compared, this.lagging, this.behind, this.lag, this.estimate, this.stdError, this.upper, this.caughtUp]) g.reset();
    for (const x of r.results) {
      const l = { sink: x.sink, table: x.table };
      this.divergent.set(l, x.divergent);
      this.compared.set(l, x.compared);
      this.lagging.set(l, x.lagging);
      this.behind.set(l, x.behind);
      this.lag.set(l, x.lagRecords);
      if (x.caughtUp !== undefined) this.caughtUp.set(l, x.caughtUp ? 1 : 0);
      if (x.sample) {
        this.estimate.set(l, x.sample.estimate);
        this.stdError.set(l, x.sample.stdError);
        this.upper.set(l, x.sample.upper95);
      }
    }
    this.total.set(r.divergences.length);
    this.lastRun.set(Date.now() / 1000);
    this.lastDuration.set(r.seconds);
    this.lastOk.set(1);
  }
}

/** The es-indexer's current-state index, reached with the same ES_* variables as the es-indexer. */
export function elasticsearchSide(cfg: Deps['cfg'], kafka: Deps['kafka']): ElasticsearchSide {
  if (!cfg.ES_URL) throw new Error('RECONCILE_SINKS names elasticsearch: set ES_URL (--es-url)');
  return new ElasticsearchSide(esConnectionFromEnv({ ...cfg, ES_URL: cfg.ES_URL }), `${cfg.ES_INDEX_PREFIX}-edges`, cfg.ES_CDC_GROUP, cfg.CDC_TOPIC, kafka);
}

function sidesOf(deps: Deps): { sides: SinkSide[]; iceberg?: IcebergSide; core: CoreClient } {
  const { cfg } = deps;
  if (!cfg.TARGET_URL) throw new Error('TARGET_URL (--target-url) is required: the core reconcile compares against');
  const core = new CoreClient({ baseUrl: cfg.TARGET_URL, actor: cfg.ACTOR, token: cfg.API_TOKEN });
  const wanted = cfg.RECONCILE_SINKS ?? [
    'core',
    ...(cfg.ES_URL ? ['elasticsearch' as const] : []),
    ...(existsSync(cfg.ICEBERG_WAREHOUSE) ? ['iceberg' as const] : []),
    ...(cfg.DRUID_URL ? ['druid' as const] : []),
  ];
  const sides: SinkSide[] = [];
  let iceberg: IcebergSide | undefined;
  for (const w of wanted) {
    if (w === 'core') sides.push(new CoreSide(core));
    if (w === 'elasticsearch') {
      sides.push(elasticsearchSide(cfg, deps.kafka));
    }
    if (w === 'iceberg') sides.push((iceberg = new IcebergSide(cfg.ICEBERG_WAREHOUSE, cfg.CDC_TOPIC)));
    if (w === 'druid') {
      if (!cfg.DRUID_URL) throw new Error('RECONCILE_SINKS names druid: set DRUID_URL (--druid-url), and DRUID_BROKER_URL when the broker is elsewhere');
      sides.push(
        new DruidSide({
          overlordUrl: cfg.DRUID_URL,
          brokerUrl: cfg.DRUID_BROKER_URL ?? cfg.DRUID_URL,
          dataSource: cfg.DRUID_DATASOURCE,
          cdcTopic: cfg.CDC_TOPIC,
          catchUpMs: cfg.DRUID_CATCHUP_MS,
          logger: deps.logger,
        }),
      );
    }
  }
  return { sides, ...(iceberg ? { iceberg } : {}), core };
}

export async function runReconcile(deps: Deps): Promise<ReconcileReport> {
  const { cfg, logger } = deps;
  const { sides, iceberg, core } = sidesOf(deps);
  try {
    const schema = await core.schema();
    const tables: TableRef[] = schema.tables.map((t) => ({ database: t.database!, table: t.table, multi: t.type === 'MULTI_EDGE', fields: t.schema.properties.map((p) => p.name) }));
    iceberg?.refresh();
    return await reconcile({
      kafka: deps.kafka,
      cdcTopic: cfg.CDC_TOPIC,
      sides,
      tables,
      sampleThreshold: cfg.SAMPLE_THRESHOLD,
      sampleSize: cfg.SAMPLE_SIZE,
      settleRounds: cfg.SETTLE_ROUNDS,
      settleMs: cfg.SETTLE_MS,
      logger,
      ...(iceberg ? { beforeRound: () => iceberg.refresh() } : {}),
    });
  } finally {
    for (const s of sides) await s.close?.();
  }
}

/** Sinks that did not reach the CDC read within their bound (compared at their own point). */
export const notCaughtUp = (r: ReconcileReport): string[] => [...new Set(r.results.filter((x) => x.caughtUp === false).map((x) => x.sink))];

/** 0: every sink agrees; 1: a divergent key, or a sink that did not catch up. */
export const exitCodeOf = (r: ReconcileReport): 0 | 1 => (r.divergences.length || notCaughtUp(r).length ? 1 : 0);

/** One line per divergent key (at most MAX_REPORTED), then the summary as one JSON line. */
export function printReport(r: ReconcileReport, maxReported: number, write: (line: string) => void): void {
  for (const d of r.divergences.slice(0, maxReported)) {
    write(`DIVERGENT ${d.sink} ${d.table} ${d.key} ${d.kind}: sink ${d.got ?? 'absent'}; CDC at its point ${d.expected ?? 'absent'}`);
  }
  if (r.divergences.length > maxReported) write(`... and ${r.divergences.length - maxReported} more divergent keys`);
  for (const sink of notCaughtUp(r)) {
    const skipped = r.results.find((x) => x.sink === sink && x.skipped)?.skipped;
    write(`NOT CAUGHT UP ${sink}: did not ingest the CDC read within its bound; ${skipped ? `not compared: ${skipped}` : 'compared at its own offsets'}`);
  }
  write(JSON.stringify({ command: 'reconcile', seconds: r.seconds, cdcRecords: r.cdcRecords, tables: r.tables, divergent: r.divergences.length, notCaughtUp: notCaughtUp(r), results: r.results }));
}

export function writeMetricsFile(path: string, text: string): void {
  // Atomic, for a textfile collector reading it at any moment.
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Scheduled mode: runs forever (until a signal), a failed run is logged and counted, never the end. */
export async function runScheduled(deps: Deps): Promise<never> {
  const { cfg, logger } = deps;
  const metrics = new ReconcileMetrics();
  let finished = false;
  let lastError: string | undefined;
  await startHealthServer({
    port: cfg.METRICS_PORT,
    host: cfg.METRICS_HOST,
    registry: metrics.registry,
    health: () => ({ live: true, ready: finished, reasons: finished ? [] : [lastError ? `last run failed: ${lastError}` : 'first run not finished'], state: finished ? 'running' : 'starting' }),
    logger,
  });
  for (;;) {
    try {
      const r = await runReconcile(deps);
      metrics.update(r);
      printReport(r, cfg.MAX_REPORTED, (l) => process.stdout.write(`${l}\n`));
      finished = true;
      lastError = undefined;
    } catch (err) {
      metrics.lastOk.set(0);
      lastError = err instanceof Error ? err.message : String(err);
      logger.error({ err }, 'reconcile run failed; next run as scheduled');
    }
    if (cfg.METRICS_FILE) writeMetricsFile(cfg.METRICS_FILE, await metrics.registry.metrics());
    await new Promise((r) => setTimeout(r, cfg.EVERY_MS));
  }
}
