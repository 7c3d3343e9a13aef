/**
 * wal-replay: rebuild | migrate | check | reconcile | dlq (see README.md). Wires only: config, logger, Kafka client, the
 * command, the exit code. Progress goes to stderr as pino JSON; the result goes to stdout as one JSON line.
 * SIGINT/SIGTERM stop the command between batches: the checkpoint holds the last applied batch.
 */
import pino from 'pino';
import { createKafka } from '@pipeline/kafka';
import { loadConfig, USAGE } from './config';
import { check, migrate, rebuild, type Deps } from './commands';
import { dlqList, dlqRedrive, dlqShow } from './dlq-commands';
import { exitCodeOf, printReport, ReconcileMetrics, runReconcile, runScheduled, writeMetricsFile } from './reconcile-command';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  let cfg;
  try {
    cfg = loadConfig(argv, process.env);
  } catch (err) {
    // A usage or configuration error: nothing was read or written.
    process.stderr.write(`wal-replay: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const logger = pino({ level: cfg.LOG_LEVEL, base: { app: 'wal-replay', command: cfg.command }, redact: ['API_TOKEN', '*.API_TOKEN', '*.ES_API_KEY', '*.ES_PASSWORD'] }, pino.destination(2));
  const kafka = createKafka({ brokers: cfg.KAFKA_BROKERS, clientId: cfg.KAFKA_CLIENT_ID });
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    logger.warn({ signal: sig }, signals > 1 ? 'second signal: exiting now' : 'stopping; run the same command again to resume from the checkpoint');
    process.exit(signals > 1 ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const deps: Deps = { cfg, kafka, logger };
  switch (cfg.command) {
    case 'rebuild': {
      const r = await rebuild(deps);
      process.stdout.write(`${JSON.stringify({ command: 'rebuild', ...r })}\n`);
      return 0;
    }
    case 'migrate': {
      const r = await migrate(deps);
      process.stdout.write(`${JSON.stringify({ command: 'migrate', ...r, approximated: r.approximated.length, approximatedKeys: r.approximated.slice(0, 100) })}\n`);
      return 0;
    }
    case 'check': {
      const r = await check(deps);
      for (const m of r.mismatches) process.stdout.write(`MISMATCH ${m.kind} ${m.table} ${m.key}: ${m.detail}\n`);
      process.stdout.write(`${JSON.stringify({ command: 'check', tables: r.tables, edges: r.edges, starts: r.starts, scans: r.scans, mismatches: r.mismatches.length })}\n`);
      return r.mismatches.length ? 1 : 0;
    }
    case 'reconcile': {
      if (cfg.EVERY_MS !== undefined) return runScheduled(deps);
      const r = await runReconcile(deps);
      printReport(r, cfg.MAX_REPORTED, (line) => process.stdout.write(`${line}\n`));
      if (cfg.METRICS_FILE) {
        const metrics = new ReconcileMetrics();
        metrics.update(r);
        writeMetricsFile(cfg.METRICS_FILE, await metrics.registry.metrics());
      }
      return exitCodeOf(r);
    }
    case 'dlq': {
      const action = cfg.args[0];
      if (action === 'list') {
        const r = await dlqList(deps);
        for (const l of r.lines) process.stdout.write(`${JSON.stringify(l)}\n`);
        process.stdout.write(`${JSON.stringify({ command: 'dlq list', total: r.total, shown: r.lines.length, byCode: r.byCode, notDeadLetters: r.foreign })}\n`);
      } else if (action === 'show') {
        process.stdout.write(`${JSON.stringify(await dlqShow(deps), null, 2)}\n`);
      } else {
        process.stdout.write(`${JSON.stringify({ command: 'dlq redrive', ...(await dlqRedrive(deps)) })}\n`);
      }
      return 0;
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`wal-replay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(3);
  },
);
