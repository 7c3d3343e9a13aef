/**
 * `npx tsx tools/chaos/src/cli.ts [--rounds 3] [--clients 4] [--load-ms 20000] [--down-ms 3000]
 *  [--kill-elasticsearch] [--work-dir .stack/chaos] [--settle-timeout-ms 300000]
 *  [--druid-url http://127.0.0.1:8081 [--druid-broker-url http://127.0.0.1:8082] | --private-druid]`
 * Prints progress as JSON lines on stderr and the report as one JSON line on stdout; exit 0 when nothing was
 * lost or divergent and check found nothing, 1 otherwise.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '@pipeline/stack';
import { runChaos } from './chaos';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    clients: { type: 'string', default: '4' },
    'load-ms': { type: 'string', default: '20000' },
    'down-ms': { type: 'string', default: '3000' },
    'kill-elasticsearch': { type: 'boolean', default: false },
    'work-dir': { type: 'string' },
    'settle-timeout-ms': { type: 'string', default: '300000' },
    keep: { type: 'boolean', default: false },
    'druid-url': { type: 'string' },
    'druid-broker-url': { type: 'string' },
    'private-druid': { type: 'boolean', default: false },
  },
});
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`chaos: --${name} must be a whole number, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
};
if (values['druid-url'] && values['private-druid']) {
  process.stderr.write('chaos: --druid-url (an existing Druid, never killed) and --private-druid (started and killed by the drill) exclude each other\n');
  process.exit(2);
}
const workDir = values['work-dir'] ?? join(repoRoot(), '.stack', `chaos-${process.pid}`);
const report = await runChaos({
  workDir,
  rounds: num('rounds', values.rounds),
  clients: num('clients', values.clients),
  loadBetweenKillsMs: num('load-ms', values['load-ms']),
  downMs: num('down-ms', values['down-ms']),
  killElasticsearch: values['kill-elasticsearch'] ?? false,
  settleTimeoutMs: num('settle-timeout-ms', values['settle-timeout-ms']),
  ...(values['druid-url'] ? { druid: { overlordUrl: values['druid-url'], brokerUrl: values['druid-broker-url'] ?? values['druid-url'] } } : {}),
  privateDruid: values['private-druid'] ?? false,
  log: (msg, data) => process.stderr.write(`${JSON.stringify({ at: new Date().toISOString(), msg, ...data })}\n`),
});
if (!values.keep) rmSync(workDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(report.lost === 0 && report.divergent === 0 && report.checkMismatches === 0 ? 0 : 1);
