import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { StackError } from '../errors';
import { findJava } from '../java';
import { cleanService, serviceStatus, startService, stopService, type ServiceSpec } from '../lifecycle';
import { resolveClasspath, type MavenArtifact } from '../maven';
import { envPort, run } from '../process';
import { stackDir } from '../paths';
import { serviceEntry } from './entry';

const SERVICE = 'kafka';
/** The Kafka the stack runs unless KAFKA_VERSION says otherwise (see tools/stack/README.md). */
export const DEFAULT_KAFKA_VERSION = '4.1.1';
/** log4j 2 version that kafka_2.13 4.1.x brings; the slf4j 1.7 binding must match it. */
const LOG4J_VERSION = '2.24.3';

export interface KafkaOptions {
  /** Folder for lib/, config/, data/, logs/ and the pid file. Default `<stackDir>/kafka`. */
  dir?: string;
  /** PLAINTEXT listener port on 127.0.0.1. Default $KAFKA_PORT or 9092. */
  port?: number;
  /** CONTROLLER listener port on 127.0.0.1. Default $KAFKA_CONTROLLER_PORT or 9093. */
  controllerPort?: number;
  /** Kafka version from Maven. Default $KAFKA_VERSION or DEFAULT_KAFKA_VERSION. */
  version?: string;
  /**
   * How long to wait for the broker to answer a metadata request. Default 300 s: a broker that holds thousands of
   * partitions (a developer's long-lived stack) takes minutes to load them on a busy machine, and one killed for
   * being slow starts over from the beginning. A broker that exits is noticed at once, whatever this says.
   */
  readyTimeoutMs?: number;
  /** How long `stop` waits after SIGTERM before SIGKILL. Default 30 s. */
  stopTimeoutMs?: number;
  /** Progress messages (the CLI prints them). Default: none. */
  onProgress?: (msg: string) => void;
  /**
   * Opt-in, for a private broker only (own `dir` and ports; the stack's shared broker stays PLAINTEXT): the client
   * listener speaks SASL/SCRAM, the StandardAuthorizer refuses whatever no ACL allows, and `admin` is the super
   * user the broker itself and the test's set-up authenticate as. The SCRAM users are written when the storage
   * is formatted, so give them before the first start of the folder.
   */
  sasl?: KafkaSaslMode;
}

export interface KafkaSaslMode {
  /** The super user (also the broker's own inter-broker identity). */
  admin: { username: string; password: string };
  /** Other SCRAM-SHA-512 and SCRAM-SHA-256 users: name -> password. */
  users: Record<string, string>;
}

export interface KafkaStatus {
  running: boolean;
  bootstrap: string;
  /** Pid of the broker this stack started; absent when none runs (or another process serves the port). */
  pid?: number;
  /** True when a Kafka answers on the port but it is not the one of this stack folder. */
  foreign?: boolean;
}

interface Resolved {
  dir: string;
  port: number;
  controllerPort: number;
  version: string;
  bootstrap: string;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  progress: (msg: string) => void;
  pidFile: string;
  sasl?: KafkaSaslMode;
}

function resolve(opts: KafkaOptions = {}): Resolved {
  const dir = path.resolve(opts.dir ?? path.join(stackDir(), 'kafka'));
  const port = opts.port ?? envPort(SERVICE, 'KAFKA_PORT', 9092);
  const controllerPort = opts.controllerPort ?? envPort(SERVICE, 'KAFKA_CONTROLLER_PORT', 9093);
  return {
    dir,
    port,
    controllerPort,
    version: opts.version ?? process.env['KAFKA_VERSION'] ?? DEFAULT_KAFKA_VERSION,
    bootstrap: `127.0.0.1:${port}`,
    readyTimeoutMs: opts.readyTimeoutMs ?? 300_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 30_000,
    progress: opts.onProgress ?? (() => undefined),
    pidFile: path.join(dir, 'kafka.pid'),
    ...(opts.sasl ? { sasl: opts.sasl } : {}),
  };
}

export function kafkaArtifacts(version: string): MavenArtifact[] {
  return [
    { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version },
    // Kafka logs through slf4j 1.7 and ships log4j-core but no binding: without one the broker is silent.
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: LOG4J_VERSION },
    { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: LOG4J_VERSION },
  ];
}

/** The SASL/SCRAM + ACL settings of the opt-in secured mode (client listener SASL_PLAINTEXT on 127.0.0.1). */
function saslProperties(port: number, sasl: KafkaSaslMode): Record<string, string> {
  const quote = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${quote(sasl.admin.username)}" password="${quote(sasl.admin.password)}";`;
  return {
    listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512,SCRAM-SHA-256',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    // Every enabled mechanism needs a login module on the listener; the credentials are the broker's own (inter-broker).
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': jaas,
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': jaas,
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    // The controller listener is PLAINTEXT on loopback: the broker reaches its own controller there as ANONYMOUS.
    'super.users': `User:${sasl.admin.username};User:ANONYMOUS`,
  };
}

/** `--add-scram` arguments of StorageTool format: every user under both SCRAM mechanisms. */
export function scramFormatArgs(sasl: KafkaSaslMode): string[] {
  const users = { [sasl.admin.username]: sasl.admin.password, ...sasl.users };
  return Object.entries(users).flatMap(([name, password]) =>
    ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((m) => ['--add-scram', `${m}=[name=${name},password=${password}]`]),
  );
}

/** server.properties for one combined broker+controller (static quorum) on 127.0.0.1. */
export function serverProperties(r: { port: number; controllerPort: number; dataDir: string; sasl?: KafkaSaslMode }): string {
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${r.controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${r.port},CONTROLLER://127.0.0.1:${r.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${r.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': r.dataDir,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // One node: the internal topics cannot have more replicas than brokers, or groups never find a coordinator.
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    'log.retention.hours': 24,
    'log.segment.bytes': 64 * 1024 * 1024,
    'num.network.threads': 3,
    'num.io.threads': 4,
    ...(r.sasl ? saslProperties(r.port, r.sasl) : {}),
  };
  if (r.sasl) props['listeners'] = `${props['listeners']},CONTROLLER://127.0.0.1:${r.controllerPort}`;
  return (
    '# Generated by tools/stack (services/kafka.ts); rewritten on every start.\n' +
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') +
    '\n'
  );
}

/** log4j 2 configuration: the broker logs to <logs>/server.log (rolled at 50 MB, 3 kept). */
export function log4j2Properties(logsDir: string): string {
  const file = path.join(logsDir, 'server.log');
  return `# Generated by tools/stack (services/kafka.ts).
status = warn
name = stack-kafka
# Keep logging through Kafka's own shutdown hook (otherwise the last lines of a clean stop are lost).
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = ${file}
appender.file.filePattern = ${file}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;
}

/**
 * A real Kafka metadata request to the PLAINTEXT listener: ready when the broker answers and lists
 * itself (i.e. it is registered with the controller and unfenced).
 */
export async function metadataReady(bootstrap: string, timeoutMs = 3_000, sasl?: KafkaSaslMode): Promise<boolean> {
  const admin = new Admin({
    clientId: 'stack-readiness',
    bootstrapBrokers: [bootstrap],
    connectTimeout: timeoutMs,
    timeout: timeoutMs,
    retries: 0,
    ...(sasl ? { sasl: { mechanism: 'SCRAM-SHA-512' as const, ...sasl.admin } } : {}),
  });
  try {
    const md = await admin.metadata({ topics: [], forceUpdate: true });
    return md.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}


export interface StartResult {
  bootstrap: string;
  pid?: number;
  /** False when it was already running (nothing was started). */
  started: boolean;
  /** Milliseconds from spawning the JVM to the first successful metadata request. */
  readyMs?: number;
}

/**
 * One JVM (`kafka.Kafka`), ready when a metadata request lists the broker. The first start fetches the classpath
 * with Maven and formats the KRaft storage; every start rewrites the configuration.
 */
function definition(r: Resolved): ServiceSpec {
  const configDir = path.join(r.dir, 'config');
  const dataDir = path.join(r.dir, 'data');
  const logsDir = path.join(r.dir, 'logs');
  const serverProps = path.join(configDir, 'server.properties');
  const log4j = path.join(configDir, 'log4j2.properties');
  const logOpts = [`-Dlog4j2.configurationFile=${log4j}`, `-Dkafka.logs.dir=${logsDir}`];
  let java = 'java';
  let cp = '';

  /** First start of a folder: a cluster id (kept in cluster.id) and `StorageTool format`. */
  async function format(): Promise<void> {
    if (existsSync(path.join(dataDir, 'meta.properties'))) return;
    r.progress('formatting the KRaft storage');
    const idFile = path.join(r.dir, 'cluster.id');
    let clusterId = existsSync(idFile) ? (await readFile(idFile, 'utf8')).trim() : '';
    if (!clusterId) {
      const id = await run(java, [...logOpts, '-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { timeoutMs: 60_000 });
      clusterId = id.output.trim().split('\n').pop()?.trim() ?? '';
      if (id.code !== 0 || !/^[A-Za-z0-9_-]{22}$/.test(clusterId)) {
        throw new StackError(SERVICE, `StorageTool random-uuid failed: ${id.output.trim()}`, { hint: `delete ${r.dir} and retry` });
      }
      await writeFile(idFile, clusterId);
    }
    const fmt = await run(
      java,
      [...logOpts, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', serverProps, '--ignore-formatted', ...(r.sasl ? scramFormatArgs(r.sasl) : [])],
      { timeoutMs: 120_000 },
    );
    if (fmt.code !== 0) {
      throw new StackError(SERVICE, `formatting the storage failed:\n${fmt.output.trim()}`, { hint: `delete ${dataDir} (the topics in it are lost) and retry` });
    }
  }

  return {
    service: SERVICE,
    title: 'Kafka',
    dir: r.dir,
    address: r.bootstrap,
    processes: [
      {
        name: SERVICE,
        ports: [
          { port: r.port, env: 'KAFKA_PORT' },
          { port: r.controllerPort, env: 'KAFKA_CONTROLLER_PORT' },
        ],
        pidFile: r.pidFile,
        isOurs: (cmd) => cmd.includes('kafka.Kafka') && cmd.includes(r.dir),
        outFile: path.join(logsDir, 'kafka.out'),
        logFiles: [path.join(logsDir, 'server.log')],
        command: () => ({
          command: java,
          args: [...(process.env['KAFKA_HEAP_OPTS'] ?? '-Xms256m -Xmx1g').split(/\s+/).filter(Boolean), '-XX:+UseG1GC', '-Djava.awt.headless=true', ...logOpts, '-cp', cp, 'kafka.Kafka', serverProps],
        }),
      },
    ],
    ready: (ms) => metadataReady(r.bootstrap, ms, r.sasl),
    async prepare() {
      java = (await findJava(SERVICE, 17, { homes: [process.env['JAVA_HOME']] })).java;
      const lib = await resolveClasspath({
        name: SERVICE,
        dir: r.dir,
        artifacts: kafkaArtifacts(r.version),
        onProgress: r.progress,
        versionHint: `set KAFKA_VERSION; ${DEFAULT_KAFKA_VERSION} is the version this stack was tested with`,
      });
      cp = `${lib}/*`;
      await Promise.all([configDir, dataDir, logsDir].map((d) => mkdir(d, { recursive: true })));
      await writeFile(serverProps, serverProperties({ port: r.port, controllerPort: r.controllerPort, dataDir, ...(r.sasl ? { sasl: r.sasl } : {}) }));
      await writeFile(log4j, log4j2Properties(logsDir));
      await format();
    },
    readyTimeoutMs: r.readyTimeoutMs,
    stopTimeoutMs: r.stopTimeoutMs,
    hint: `read ${logsDir}; if the data is from another Kafka version, delete ${dataDir}`,
    cleanPaths: [dataDir, logsDir, path.join(r.dir, 'cluster.id')],
    progress: r.progress,
  };
}

export async function kafkaStatus(opts: KafkaOptions = {}): Promise<KafkaStatus> {
  const r = resolve(opts);
  const s = await serviceStatus(definition(r));
  const pid = s.pids[SERVICE];
  if (pid !== undefined) return { running: s.running, bootstrap: r.bootstrap, pid };
  return s.foreign ? { running: true, bootstrap: r.bootstrap, foreign: true } : { running: false, bootstrap: r.bootstrap };
}

/**
 * Starts the broker unless it already runs (idempotent, safe from several processes at once: a lock
 * folder serialises them). Fetches the classpath on first use, formats the storage on first use,
 * spawns the JVM detached, and waits for a metadata answer.
 */
export async function startKafka(opts: KafkaOptions = {}): Promise<StartResult> {
  const r = resolve(opts);
  const s = await startService(definition(r));
  const pid = s.pids[SERVICE];
  return { bootstrap: r.bootstrap, ...(pid !== undefined ? { pid } : {}), started: s.started, ...(s.readyMs !== undefined ? { readyMs: s.readyMs } : {}) };
}

/** Starts Kafka if it is not running and returns where to reach it. Safe to call from several jest globalSetups. */
export async function ensureKafka(opts: KafkaOptions = {}): Promise<{ bootstrap: string }> {
  const { bootstrap } = await startKafka(opts);
  return { bootstrap };
}

/** Stops the broker this folder started: SIGTERM (controlled shutdown), SIGKILL after the timeout. */
export async function stopKafka(opts: KafkaOptions = {}): Promise<{ stopped: boolean; how?: 'terminated' | 'killed'; pid?: number }> {
  const s = await stopService(definition(resolve(opts)));
  const pid = s.pids[SERVICE];
  return s.stopped.length ? { stopped: true, ...(s.how ? { how: s.how } : {}), ...(pid !== undefined ? { pid } : {}) } : { stopped: false };
}

/** Stops the broker and deletes its data and logs (the downloaded classpath stays). */
export async function cleanKafka(opts: KafkaOptions = {}): Promise<void> {
  await cleanService(definition(resolve(opts)));
}

export const kafkaService = serviceEntry(SERVICE, 'Kafka', {
  up: (onProgress) => startKafka({ onProgress }),
  down: (onProgress) => stopKafka({ onProgress }),
  clean: (onProgress) => cleanKafka({ onProgress }),
  status: async () => {
    const s = await kafkaStatus();
    return { running: s.running, address: s.bootstrap, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(s.foreign ? { foreign: true } : {}) };
  },
});
