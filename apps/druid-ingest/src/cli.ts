/**
 * The operator's CLI (configuration from the same environment variables as the service):
 *
 *   npx tsx apps/druid-ingest/src/cli.ts <command> [options]
 *
 *   spec                         print the supervisor spec generated from the configuration
 *   validate <file.json>         validate a supervisor (kafka) or batch (index_parallel) spec file
 *   diff                         show what `apply` would change, submit nothing
 *   apply                        create, or update only when changed (prints the difference)
 *   status                       the supervisor's health
 *   suspend | resume | reset     supervisor lifecycle (reset: forget stored offsets)
 *   backfill --from <ISO> --to <ISO> [--datasource <name>] [--replace]
 *                                load CDC records of [from, to) with a native batch task
 *   backfill --from-snapshot <warehouse>/<db>/<table> [--snapshot-id <id>] [--datasource <name>] [--replace]
 *                                load the active edges of a snapshotter Iceberg snapshot as facts
 *   query likes-per-minute|top-targets|net-change [--table <t>] [--since-minutes <n>] [--limit <n>]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createKafka } from '@pipeline/kafka';
import { runBackfill, runSnapshotBackfill } from './backfill';
import { loadConfig, supervisorOptions } from './config';
import { likesPerTargetPerMinute, netChangePerTable, runQuery, topTargetsLastHour } from './dashboard.queries';
import { DruidClient } from '@pipeline/druid';
import { formatChanges } from './spec.diff';
import { InvalidSpecError, validateBatchSpec, validateSupervisorSpec } from './spec.validation';
import { applySupervisor, changesAgainstServed, supervisorHealth } from './supervisor.apply';
import { buildSupervisorSpec } from './supervisor.spec-builder';

const USAGE = 'usage: cli.ts spec | validate <file> | diff | apply | status | suspend | resume | reset | backfill --from <ISO> --to <ISO> [--datasource n] [--replace] | backfill --from-snapshot <warehouse>/<db>/<table> [--snapshot-id id] [--datasource n] [--replace] | query <likes-per-minute|top-targets|net-change> [--table t]';

export async function main(argv: string[], out: (s: string) => void = console.log): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      'from-snapshot': { type: 'string' },
      'snapshot-id': { type: 'string' },
      to: { type: 'string' },
      datasource: { type: 'string' },
      replace: { type: 'boolean', default: false },
      table: { type: 'string' },
      'since-minutes': { type: 'string' },
      limit: { type: 'string' },
    },
  });
  const [command, arg] = positionals;
  const config = loadConfig();
  const druid = new DruidClient({ overlordUrl: config.DRUID_URL, brokerUrl: config.DRUID_BROKER_URL });
  const spec = buildSupervisorSpec(supervisorOptions(config));
  const id = config.DATASOURCE;
  const json = (v: unknown) => out(JSON.stringify(v, null, 2));
  switch (command) {
    case 'spec':
      json(validateSupervisorSpec(spec));
      return 0;
    case 'validate': {
      if (!arg) throw new Error('validate needs a file');
      const raw = JSON.parse(await readFile(arg, 'utf8')) as { type?: string };
      if (raw.type === 'index_parallel') validateBatchSpec(raw);
      else validateSupervisorSpec(raw);
      out(`${arg}: valid ${raw.type} spec`);
      return 0;
    }
    case 'diff': {
      validateSupervisorSpec(spec);
      const served = await druid.getSupervisor(id);
      if (!served) out(`${id}: no supervisor; apply would create it`);
      else {
        const changes = changesAgainstServed(served, spec);
        out(changes.length ? formatChanges(changes) : `${id}: unchanged`);
      }
      return 0;
    }
    case 'apply': {
      const r = await applySupervisor(druid, spec);
      out(`${r.id}: ${r.outcome}`);
      if (r.changes.length) out(formatChanges(r.changes));
      return 0;
    }
    case 'status': {
      const h = await supervisorHealth(druid, id);
      out(h.summary);
      return h.healthy ? 0 : 3;
    }
    case 'suspend':
    case 'resume':
    case 'reset':
      await druid.supervisorAction(id, command);
      out(`${id}: ${command} requested`);
      return 0;
    case 'backfill': {
      if (values['from-snapshot'] !== undefined) {
        const rawId = values['snapshot-id'];
        if (rawId !== undefined && !/^\d+$/.test(rawId)) throw new Error(`--snapshot-id must be a snapshot id (digits), got ${rawId}`);
        const r = await runSnapshotBackfill(druid, {
          ...supervisorOptions(config),
          dataSource: values.datasource ?? `${id}_snapshot`,
          table: values['from-snapshot'],
          ...(rawId !== undefined ? { snapshotId: Number(rawId) } : {}),
          dir: config.BACKFILL_DIR,
          replace: values.replace ?? false,
        });
        out(`task ${r.taskId}: ${r.state}; ${r.export.written} edges of snapshot ${r.export.snapshotId} (${new Date(r.export.snapshotTimestampMs).toISOString()}) loaded from ${r.export.file}`);
        return 0;
      }
      const fromMs = Date.parse(values.from ?? '');
      const toMs = Date.parse(values.to ?? '');
      if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new Error('backfill needs --from and --to as ISO-8601 times');
      const kafka = createKafka({ brokers: config.KAFKA_BROKERS.split(','), clientId: 'druid-ingest-backfill' });
      const r = await runBackfill(kafka, druid, {
        ...supervisorOptions(config),
        dataSource: values.datasource ?? `${id}_backfill`,
        fromMs,
        toMs,
        dir: config.BACKFILL_DIR,
        replace: values.replace ?? false,
      });
      out(`task ${r.taskId}: ${r.state}; ${r.export.written} CDC records loaded from ${r.export.file}`);
      return 0;
    }
    case 'query': {
      const table = values.table ?? 'likes';
      const q =
        arg === 'likes-per-minute'
          ? likesPerTargetPerMinute(id, table, Date.now() - Number(values['since-minutes'] ?? 60) * 60_000)
          : arg === 'top-targets'
            ? topTargetsLastHour(id, table, Number(values.limit ?? 10), Date.now())
            : arg === 'net-change'
              ? netChangePerTable(id)
              : undefined;
      if (!q) throw new Error(`unknown query ${arg ?? '(none)'}; one of likes-per-minute, top-targets, net-change`);
      json(await runQuery(druid, q));
      return 0;
    }
    default:
      out(USAGE);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      console.error(err instanceof InvalidSpecError ? err.message : `error: ${err.message}`);
      process.exit(1);
    },
  );
}
