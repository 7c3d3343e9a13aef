import path from 'node:path';
import { StackError } from './errors';
import { withLock } from './lock';
import { resolveClasspath, type MavenArtifact } from './maven';
import { stackDir } from './paths';
import { run } from './process';
import { DEFAULT_KAFKA_VERSION } from './services/kafka';

/**
 * Kafka's own Java tools (`org.apache.kafka:kafka-tools`: ProducerPerformance, ConsumerPerformance...),
 * fetched from Maven into `${STACK_DIR}/kafka-tools-<version>/lib`. Benchmarks run them as anchors on
 * the same broker as the code they measure: a ratio against what Kafka's reference client does on this
 * machine, at this load, says more than an absolute figure.
 */
const NAME = 'kafka-tools';

export function kafkaToolsArtifacts(version: string): MavenArtifact[] {
  return [
    { groupId: 'org.apache.kafka', artifactId: 'kafka-tools', version },
    // The tools log through slf4j and bring no binding; without one slf4j prints a warning on every run.
    { groupId: 'org.slf4j', artifactId: 'slf4j-nop', version: '1.7.36' },
  ];
}

/** The classpath folder of the tools (resolved once, then cached; safe from several processes). */
export async function kafkaToolsClasspath(opts: { version?: string; onProgress?: (msg: string) => void } = {}): Promise<string> {
  const version = opts.version ?? process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION;
  const dir = path.join(stackDir(), `${NAME}-${version}`);
  return withLock(`${dir}.lock`, () =>
    resolveClasspath({
      name: NAME,
      dir,
      artifacts: kafkaToolsArtifacts(version),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      versionHint: `set KAFKA_VERSION; ${DEFAULT_KAFKA_VERSION} is the broker version of this stack`,
    }),
  );
}

function javaBin(): string {
  const home = process.env['JAVA_HOME'];
  return home ? path.join(home, 'bin', 'java') : 'java';
}

/** Runs one tool's main class on the tools' classpath; throws with its output when it fails. */
export async function runKafkaTool(mainClass: string, args: string[], opts: { timeoutMs?: number; heap?: string } = {}): Promise<string> {
  const lib = await kafkaToolsClasspath();
  const res = await run(javaBin(), [`-Xmx${opts.heap ?? '512m'}`, '-cp', `${lib}/*`, mainClass, ...args], { timeoutMs: opts.timeoutMs ?? 10 * 60_000 });
  if (res.error || res.code !== 0) {
    throw new StackError(NAME, `${mainClass} failed (${res.error?.message ?? `exit ${res.code}`}):\n${res.output.trim().split('\n').slice(-10).join('\n')}`, {
      hint: 'check that the broker answers (npx tsx tools/stack/src/cli.ts status kafka) and that java runs (java -version, 17+)',
    });
  }
  return res.output;
}

export interface ProducerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** Parses ProducerPerformance's summary line ("N records sent, X records/sec (Y MB/sec), ..."). */
export function parseProducerPerf(output: string): ProducerPerfResult {
  const line = output
    .split('\n')
    .reverse()
    .find((l) => /records sent,.*records\/sec.*50th/.test(l));
  if (!line) throw new StackError(NAME, `no summary line in ProducerPerformance's output:\n${output.slice(-2000)}`, { hint: 'run the tool by hand to see what it prints' });
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  return {
    records: num(/^(\d+) records sent/),
    recordsPerSec: num(/([\d.]+) records\/sec/),
    mbPerSec: num(/\(([\d.]+) MB\/sec\)/),
    avgLatencyMs: num(/([\d.]+) ms avg latency/),
    p50Ms: num(/(\d+) ms 50th/),
    p99Ms: num(/(\d+) ms 99th/),
  };
}

/**
 * Kafka's ProducerPerformance: `records` records of `recordSize` bytes to `topic` as fast as it can
 * (throughput -1), with the given producer properties (e.g. acks=all).
 */
export async function producerPerformance(opts: {
  bootstrap: string;
  topic: string;
  records: number;
  recordSize: number;
  props?: Record<string, string>;
}): Promise<ProducerPerfResult> {
  const props = { 'bootstrap.servers': opts.bootstrap, acks: 'all', ...opts.props };
  const out = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    opts.topic,
    '--num-records',
    String(opts.records),
    '--record-size',
    String(opts.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ]);
  return parseProducerPerf(out);
}

export interface ConsumerPerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  /** Records per second of fetching alone (rebalance time left out). */
  fetchRecordsPerSec: number;
}

/**
 * Parses ConsumerPerformance's result: a header line of column names, then one line of values
 * (`start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...`).
 */
export function parseConsumerPerf(output: string): ConsumerPerfResult {
  const lines = output.split('\n').map((l) => l.trim());
  const h = lines.findIndex((l) => l.startsWith('start.time,'));
  const values = h >= 0 ? lines[h + 1] : undefined;
  if (h < 0 || !values) throw new StackError(NAME, `no result in ConsumerPerformance's output:\n${output.slice(-2000)}`, { hint: 'run the tool by hand to see what it prints' });
  const names = lines[h]!.split(',').map((s) => s.trim());
  const cols = values.split(',').map((s) => s.trim());
  const col = (name: string) => Number(cols[names.indexOf(name)] ?? NaN);
  return {
    records: col('data.consumed.in.nMsg'),
    recordsPerSec: col('nMsg.sec'),
    mbPerSec: col('MB.sec'),
    fetchRecordsPerSec: col('fetch.nMsg.sec'),
  };
}

/** Kafka's ConsumerPerformance: reads `records` records of `topic` from the beginning in a fresh group. */
export async function consumerPerformance(opts: { bootstrap: string; topic: string; records: number; timeoutMs?: number }): Promise<ConsumerPerfResult> {
  const out = await runKafkaTool('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server',
    opts.bootstrap,
    '--topic',
    opts.topic,
    '--messages',
    String(opts.records),
    '--group',
    `perf-anchor-${Date.now().toString(36)}`,
    '--timeout',
    String(opts.timeoutMs ?? 60_000),
  ]);
  return parseConsumerPerf(out);
}
