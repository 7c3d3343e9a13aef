/**
 * ml-export: wires only: config, logger, the export, the exit code. Progress goes to stderr as pino JSON; the
 * report goes to stdout as one JSON line. Exit codes: 0 written, 1 refused or failed (nothing written), 2 usage.
 */
import pino from 'pino';
import { loadConfig, USAGE, type Config } from './config';
import { runExport } from './export';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  let cfg: Config;
  try {
    cfg = loadConfig(argv, process.env);
  } catch (err) {
    process.stderr.write(`ml-export: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const logger = pino({ level: cfg.LOG_LEVEL, base: { app: 'ml-export' }, redact: ['CATALOG_URL', '*.CATALOG_URL'] }, pino.destination(2));
  try {
    const r = await runExport(cfg, logger);
    const { files, ...summary } = r;
    logger.info({ ...summary, files: files.length }, 'dataset written');
    process.stdout.write(`${JSON.stringify({ ...summary, files: files.length })}\n`);
    return 0;
  } catch (err) {
    logger.error({ err }, 'export failed');
    process.stderr.write(`ml-export: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ml-export: ${String(err)}\n`);
    process.exit(1);
  },
);
