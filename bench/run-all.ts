/**
 * Runs the benchmarks one after the other (they load the machine; never two at once) and writes one table of
 * their results, markdown and JSON, to bench/results/<UTC date and time>.md / .json.
 *
 *   npx nx run bench:all            or   npx tsx bench/run-all.ts [--only a,b] [--skip c] [--list]
 *
 * Each benchmark is a child process with BENCH_JSON=<file> in its environment (the same as its `--json <file>`
 * option); it writes its result there (bench/lib/report.ts, emitResult) and prints it as its last
 * `BENCH_RESULT {...}` line as well, which is read when the file is missing. A benchmark that has no such result
 * yet still runs: the table records its exit status, duration and the tail of its output. Its full output
 * goes to bench/results/<date>/<name>.log.
 *
 * Adding a benchmark is one line in BENCHES.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fmtSpread, machineLoad, RESULT_PREFIX, type BenchResult } from './lib/report';

interface Bench {
  name: string;
  /** The script under bench/ and its arguments. */
  args: string[];
  /** What it needs running (tools/stack services), for the table. */
  needs: string;
}

const BENCHES: Bench[] = [
  { name: 'stream-runtime', args: ['stream-runtime.ts'], needs: 'Kafka' },
  { name: 'parquet-writers', args: ['parquet-writers.ts'], needs: 'pyiceberg venv' },
  { name: 'es-indexer', args: ['es-indexer.ts', '--rate', '500', '--seconds', '10'], needs: 'Kafka, Elasticsearch' },
  { name: 'wal-replay', args: ['wal-replay.ts', '--mutations', '20000'], needs: 'Kafka' },
  { name: 'async-processor', args: ['async-processor.ts'], needs: 'Kafka' },
  { name: 'snapshotter-commit', args: ['snapshotter-commit.ts'], needs: 'PostgreSQL (concurrent committers)' },
  { name: 'druid-ingest', args: ['druid-ingest.ts'], needs: 'Kafka, Druid' },
  { name: 'kafka-clients', args: ['kafka-clients.ts'], needs: 'Kafka' },
  { name: 'sqlite-drivers', args: ['sqlite-drivers.ts'], needs: 'nothing' },
  { name: 'core-pg-scaling', args: ['core-pg-scaling.ts'], needs: 'Kafka, PostgreSQL' },
];

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    skip: { type: 'string' },
    list: { type: 'boolean', default: false },
    'timeout-min': { type: 'string', default: '30' },
  },
});
if (values.list) {
  for (const b of BENCHES) console.log(`${b.name}\t${b.args.join(' ')}\t(needs ${b.needs})`);
  process.exit(0);
}
const only = values.only?.split(',');
const skip = new Set(values.skip?.split(',') ?? []);
const unknown = [...(only ?? []), ...skip].filter((n) => !BENCHES.some((b) => b.name === n));
if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}: see --list`);
const selected = BENCHES.filter((b) => (!only || only.includes(b.name)) && !skip.has(b.name));
const timeoutMs = Number(values['timeout-min']) * 60_000;

const here = import.meta.dirname;
const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, '-');
const resultsDir = path.join(here, 'results');
const logDir = path.join(resultsDir, stamp);
mkdirSync(logDir, { recursive: true });

interface Outcome {
  name: string;
  needs: string;
  command: string;
  exitCode: number | null;
  seconds: number;
  result?: BenchResult;
  tail?: string;
}

function run(b: Bench): Promise<Outcome> {
  const jsonFile = path.join(logDir, `${b.name}.json`);
  const log = createWriteStream(path.join(logDir, `${b.name}.log`));
  const args = ['--import', 'tsx', path.join(here, b.args[0]!), ...b.args.slice(1)];
  const command = `npx tsx bench/${b.args.join(' ')}`;
  console.log(`\n=== ${b.name}: ${command} (needs ${b.needs})`);
  const t0 = performance.now();
  let lastLines: string[] = [];
  let resultLine: string | undefined;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: path.join(here, '..'), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BENCH_JSON: jsonFile } });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    const onData = (d: Buffer) => {
      log.write(d);
      process.stdout.write(d);
      for (const line of d.toString().split('\n')) {
        if (line.startsWith(RESULT_PREFIX)) resultLine = line.slice(RESULT_PREFIX.length);
        else if (line.trim()) lastLines = [...lastLines.slice(-9), line];
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      clearTimeout(timer);
      log.end();
      let result: BenchResult | undefined;
      try {
        result = JSON.parse(existsSync(jsonFile) ? readFileSync(jsonFile, 'utf8') : (resultLine ?? '')) as BenchResult;
      } catch {
        result = undefined;
      }
      resolve({ name: b.name, needs: b.needs, command, exitCode: code, seconds: (performance.now() - t0) / 1000, ...(result ? { result } : { tail: lastLines.join('\n') }) });
    });
  });
}

const loadBefore = machineLoad();
const outcomes: Outcome[] = [];
for (const b of selected) outcomes.push(await run(b));
const loadAfter = machineLoad();

const md: string[] = [
  `# Benchmarks, ${stamp.replace('T', ' ')} UTC`,
  '',
  `Node ${process.version}; machine load ${loadBefore.load1} at the start, ${loadAfter.load1} at the end, on ${loadAfter.cores} cores. ` +
    'Values are median (min–max) over the rounds of each benchmark; ratios are taken per round against the baseline of the same round.',
  '',
  '| benchmark | row | value | ratio to baseline | target | load (start → end) |',
  '|---|---|---:|---:|---:|---|',
];
for (const o of outcomes) {
  if (!o.result) {
    md.push(`| ${o.name} | ${o.exitCode === 0 ? 'no JSON result (see its log)' : `failed (exit ${o.exitCode})`} | ${o.seconds.toFixed(0)} s | | | |`);
    continue;
  }
  const r = o.result;
  // A result in another shape than bench/lib/report.ts's is kept whole in the JSON and only named here.
  if (!Array.isArray(r.rows) || !r.rows.every((row) => row?.value && typeof row.value.median === 'number')) {
    md.push(`| ${o.name} | result not in bench/lib/report.ts's shape: see the JSON | ${o.seconds.toFixed(0)} s | | | |`);
    continue;
  }
  const load = r.load ? `${r.load.before?.load1} → ${r.load.after?.load1}` : '';
  for (const row of r.rows) {
    const met = row.target !== undefined && row.ratio ? (row.ratio.median >= row.target ? ' ✓' : ' ✗') : '';
    md.push(
      `| ${o.name} | ${row.name} | ${fmtSpread(row.value, row.value.median < 100 ? 2 : 0)} ${row.unit} | ${row.ratio ? `${fmtSpread(row.ratio, 2)}` : ''} | ${row.target !== undefined ? `≥ ${row.target}${met}` : ''} | ${load} |`,
    );
  }
}
md.push('', '## Runs', '', '| benchmark | command | needs | exit | seconds | rounds |', '|---|---|---|---:|---:|---:|');
for (const o of outcomes) md.push(`| ${o.name} | \`${o.command}\` | ${o.needs} | ${o.exitCode} | ${o.seconds.toFixed(0)} | ${o.result?.rounds ?? ''} |`);
for (const o of outcomes.filter((x) => !x.result && x.tail)) md.push('', `### ${o.name}: last lines`, '', '```', o.tail!, '```');
for (const o of outcomes) for (const n of o.result?.notes ?? []) md.push('', `- ${o.name}: ${n}`);

writeFileSync(path.join(resultsDir, `${stamp}.md`), md.join('\n') + '\n');
writeFileSync(path.join(resultsDir, `${stamp}.json`), JSON.stringify({ stamp, node: process.version, load: { before: loadBefore, after: loadAfter }, benches: outcomes }, null, 2) + '\n');
console.log(`\n${md.join('\n')}\n\nwritten: bench/results/${stamp}.md, bench/results/${stamp}.json (logs in bench/results/${stamp}/)`);
process.exit(outcomes.every((o) => o.exitCode === 0) ? 0 : 1);
