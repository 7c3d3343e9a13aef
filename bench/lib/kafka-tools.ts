/**
 * Kafka's own Java perf tools (org.apache.kafka:kafka-tools) as anchors on the same broker and topic. The jar
 * is not part of the broker's distribution that tools/stack installs; where to find it, in order:
 *   KAFKA_TOOLS_CLASSPATH   a full Java classpath (kafka-tools jar plus kafka-clients and their dependencies)
 *   KAFKA_TOOLS_JAR         the kafka-tools jar; the broker's own lib/ ($STACK_DIR/kafka/lib) supplies the rest
 *   $STACK_DIR/kafka/lib or $STACK_DIR/kafka-tools/   a kafka-tools-*.jar placed there
 * Without it the anchor rows are left out and the benchmark says how to get the jar.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { stackDir } from '@pipeline/stack';

function findJar(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  const jar = readdirSync(dir).find((f) => /^kafka-tools-\d.*\.jar$/.test(f));
  return jar && path.join(dir, jar);
}

/** The classpath for the tools, or undefined with the reason in `why`. */
export function kafkaToolsClasspath(): { classpath?: string; why?: string } {
  const explicit = process.env['KAFKA_TOOLS_CLASSPATH'];
  if (explicit) return { classpath: explicit };
  const lib = path.join(stackDir(), 'kafka', 'lib');
  const jar = process.env['KAFKA_TOOLS_JAR'] ?? findJar(lib) ?? findJar(path.join(stackDir(), 'kafka-tools'));
  if (!jar) {
    return {
      why:
        `no kafka-tools jar (looked in ${lib} and ${path.join(stackDir(), 'kafka-tools')}): set KAFKA_TOOLS_JAR, e.g. after ` +
        '`mvn dependency:copy -Dartifact=org.apache.kafka:kafka-tools:<broker version> -DoutputDirectory=<dir>`',
    };
  }
  return { classpath: `${jar}${path.delimiter}${path.join(lib, '*')}` };
}

function java(classpath: string, main: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('java', ['-Xmx512m', '-cp', classpath, main, ...args], { timeout: timeoutMs, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${main} failed: ${err.message}\n${stderr.slice(-2000)}`));
      else resolve(stdout);
    });
  });
}

export interface ConsumerPerfResult {
  /** Messages/s while fetching, group join excluded (ConsumerPerformance's fetch.nMsg.sec). */
  fetchRate: number;
  /** Messages/s including the group join (nMsg.sec). */
  totalRate: number;
  messages: number;
  rebalanceMs: number;
}

/**
 * ConsumerPerformance reading `messages` records of `topic` from the beginning in a fresh group. Its own clock
 * (fetch.nMsg.sec) starts after the group join, as the JS readers' clocks do; JVM start-up is outside it.
 */
export async function consumerPerformance(classpath: string, bootstrap: string, topic: string, messages: number): Promise<ConsumerPerfResult> {
  const group = `bench-java-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const out = await java(
    classpath,
    'org.apache.kafka.tools.ConsumerPerformance',
    ['--bootstrap-server', bootstrap, '--topic', topic, '--messages', String(messages), '--group', group, '--timeout', '60000'],
    300_000,
  );
  const lines = out.trim().split('\n').filter((l) => l.includes(','));
  const header = lines.find((l) => l.includes('nMsg.sec'));
  const data = lines[lines.length - 1];
  if (!header || !data || data === header) throw new Error(`ConsumerPerformance printed no result:\n${out.slice(-2000)}`);
  const keys = header.split(',').map((s) => s.trim());
  const vals = data.split(',').map((s) => s.trim());
  const get = (k: string) => Number(vals[keys.indexOf(k)]);
  return { fetchRate: get('fetch.nMsg.sec'), totalRate: get('nMsg.sec'), messages: get('data.consumed.in.nMsg'), rebalanceMs: get('rebalance.time.ms') };
}
