/**
 * The one lifecycle every server of the stack goes through: a lock folder serialises callers, pid files name
 * what this folder started, a start fetches/installs/configures (the service's `prepare`) and spawns each
 * process detached with its output in a log file, readiness is polled with progress until a deadline, a stop
 * is SIGTERM then SIGKILL, and clean deletes what the service names. A service is a small definition
 * (`ServiceSpec`): its processes (command line, ports, pid file), its readiness probe and its folders.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StackError } from './errors';
import { withLock } from './lock';
import { isAlive, ownedPid, portOpen, removePidFile, spawnDetached, tail, terminate, writePidFile } from './process';

export interface Command {
  command: string;
  args: string[];
  /** The whole environment of the process. Default: this one's. */
  env?: NodeJS.ProcessEnv;
}

export interface PortSpec {
  port: number;
  /** The variable that moves it, named when the port is taken. */
  env: string;
}

export interface ProcessSpec {
  /** Its name in messages: the service's own name, or a role (Druid's `coordinator`). */
  name: string;
  /** Ports it listens on; a start refuses ports something else holds. The first process's first port is the service's. */
  ports: PortSpec[];
  pidFile: string;
  /** Whether a live pid from the pid file is still ours, by its command line (pids are reused). */
  isOurs: (commandLine: string) => boolean;
  /** Gets its stdout and stderr; emptied at each start. */
  outFile: string;
  /** More log files whose last lines explain a failed start. */
  logFiles?: string[];
  /** Its command line, asked after `prepare`. */
  command?: () => Command | Promise<Command>;
  /** For a process a tool of its own starts and stops (pg_ctl): starts it and returns its pid. */
  launch?: () => Promise<number>;
  /** With `launch`: where its pid is (instead of the pid file). */
  pid?: () => Promise<number | undefined>;
  /** With `launch`: how it stops (instead of SIGTERM/SIGKILL to its group). */
  halt?: (pid: number, timeoutMs: number) => Promise<'terminated' | 'killed'>;
  /** Whether this process alone answers. */
  ready?: (timeoutMs: number) => Promise<boolean>;
  /** Start the next process only once this one answers (others need it at their start). */
  readyBeforeNext?: boolean;
}

export interface ServiceSpec {
  /** The CLI's name of the service (errors start with it, hints name `cli.ts ... <service>`). */
  service: string;
  /** What it is, for people: "Kafka", "the REST catalog". */
  title: string;
  /** The service folder; the lock is `<dir>/.lock`. */
  dir: string;
  /** Where to reach it, as messages show it. */
  address: string;
  /** In start order; a stop goes the other way. */
  processes: ProcessSpec[];
  /** The service is usable (a real request, not an open port). */
  ready: (timeoutMs: number) => Promise<boolean>;
  /** Fetch, install and configure before spawning `toStart`; runs under the lock, only when something starts. */
  prepare?: (toStart: ProcessSpec[]) => Promise<void>;
  /** Called under the lock when everything already runs (Prometheus reloads its configuration). */
  onRunning?: (pids: Record<string, number>) => Promise<void>;
  /**
   * When none of its processes runs but something answers on its port: use that (another checkout's) instead
   * of refusing the port. Default true.
   */
  acceptForeign?: boolean;
  readyTimeoutMs: number;
  stopTimeoutMs: number;
  /** How long a caller waits for another's start. Default readyTimeoutMs + 20 min (fetches are slow the first time). */
  lockTimeoutMs?: number;
  /** Between readiness probes. Default 250 ms. */
  pollMs?: number;
  /** What to do when a start fails, besides the log lines shown. Default: read the logs. */
  hint?: string;
  /** What clean deletes besides stopping (downloads stay). */
  cleanPaths: string[];
  progress: (msg: string) => void;
}

export interface LifecycleStatus {
  running: boolean;
  /** Our processes that are alive, by name. */
  pids: Record<string, number>;
  /** Processes that are gone or (those with their own probe) do not answer. */
  down: string[];
  /** True when what answers was not started from this folder. */
  foreign: boolean;
}

export interface LifecycleStart {
  pids: Record<string, number>;
  /** False when it already ran (or another folder's answered). */
  started: boolean;
  foreign: boolean;
  /** From the first spawn to ready. */
  readyMs?: number;
}

export interface LifecycleStop {
  /** Names of the processes stopped. */
  stopped: string[];
  /** Their pids. */
  pids: Record<string, number>;
  /** 'killed' when any needed SIGKILL. */
  how?: 'terminated' | 'killed';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cli = (command: string, service: string) => `npx tsx tools/stack/src/cli.ts ${command} ${service}`;
const mainPort = (spec: ServiceSpec) => spec.processes[0]?.ports[0]?.port;

async function pidOf(p: ProcessSpec): Promise<number | undefined> {
  if (p.pid) {
    const pid = await p.pid();
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }
  return ownedPid(p.pidFile, p.isOurs);
}

async function ownPids(spec: ServiceSpec): Promise<Record<string, number>> {
  const pids: Record<string, number> = {};
  for (const p of spec.processes) {
    const pid = await pidOf(p);
    if (pid !== undefined) pids[p.name] = pid;
  }
  return pids;
}

export async function serviceStatus(spec: ServiceSpec): Promise<LifecycleStatus> {
  const pids = await ownPids(spec);
  const down: string[] = [];
  for (const p of spec.processes) {
    const answers = p.ready ? await p.ready(3_000) : pids[p.name] !== undefined;
    if (!answers) down.push(p.name);
  }
  if (Object.keys(pids).length > 0) return { running: await spec.ready(3_000), pids, down, foreign: false };
  const port = mainPort(spec);
  const foreign = port !== undefined && (await portOpen(port)) && (await spec.ready(3_000));
  return { running: foreign, pids, down: foreign ? [] : down, foreign };
}

type Wait = { ok: true } | { ok: false; exited?: string };

/**
 * Polls `ready` until it answers, a watched process exits (no point waiting then) or the deadline passes;
 * says every 15 s that it is still waiting, so a slow start on a loaded machine does not look hung.
 */
async function waitUntil(spec: ServiceSpec, what: string, ready: () => Promise<boolean>, watch: Record<string, number>): Promise<Wait> {
  const t0 = Date.now();
  const deadline = t0 + spec.readyTimeoutMs;
  let nextNote = t0 + 15_000;
  for (;;) {
    const exited = Object.entries(watch).find(([, pid]) => !isAlive(pid));
    if (exited) return { ok: false, exited: exited[0] };
    if (await ready()) return { ok: true };
    if (Date.now() > deadline) return { ok: false };
    if (Date.now() >= nextNote) {
      spec.progress(`still waiting for ${what} (${Math.round((Date.now() - t0) / 1000)} s of ${Math.round(spec.readyTimeoutMs / 1000)} s)`);
      nextNote += 15_000;
    }
    await sleep(spec.pollMs ?? 250);
  }
}

async function failure(spec: ServiceSpec, message: string, culprit: ProcessSpec | undefined): Promise<StackError> {
  const shown = culprit ? [culprit] : spec.processes;
  const logs: string[] = [];
  for (const p of shown) {
    for (const f of [...(p.logFiles ?? []), p.outFile]) logs.push(`--- ${f}\n${await tail(f, p.logFiles?.length ? 12 : 15)}`);
  }
  return new StackError(spec.service, `${message}; last log lines:\n${logs.join('\n')}`, {
    hint: spec.hint ?? `read the logs under ${spec.dir}; then ${cli('up', spec.service)} again`,
  });
}

/**
 * Starts what is not running (all of it, or the processes of a multi-process service that are gone) and waits
 * until the service is ready. Idempotent and safe from several processes at once. A start that fails stops
 * what it started, so the next one begins clean.
 */
export async function startService(spec: ServiceSpec): Promise<LifecycleStart> {
  await mkdir(spec.dir, { recursive: true });
  return withLock(
    path.join(spec.dir, '.lock'),
    async () => {
      const pids = await ownPids(spec);
      const missing = spec.processes.filter((p) => pids[p.name] === undefined);
      if (missing.length === 0) {
        await spec.onRunning?.(pids);
        const w = await waitUntil(spec, spec.address, () => spec.ready(2_000), pids);
        if (!w.ok) {
          throw new StackError(spec.service, `${spec.title} runs (pid ${Object.values(pids).join(', ')}) but does not answer at ${spec.address}`, {
            hint: `read the logs under ${spec.dir}; restart it with: ${cli('down', spec.service)} && ${cli('up', spec.service)}`,
          });
        }
        spec.progress(`already running (pid ${Object.values(pids).join(', ')}) at ${spec.address}`);
        return { pids, started: false, foreign: false };
      }
      const port = mainPort(spec);
      if (missing.length === spec.processes.length && spec.acceptForeign !== false && port !== undefined && (await portOpen(port))) {
        if (await spec.ready(3_000)) {
          spec.progress(`${spec.title} not started from ${spec.dir} already answers at ${spec.address}; using it`);
          return { pids: {}, started: false, foreign: true };
        }
      }
      for (const p of missing) {
        for (const { port: taken, env } of p.ports) {
          if (await portOpen(taken)) {
            throw new StackError(spec.service, `port ${taken} (${p.name}) on 127.0.0.1 is taken by a process this stack folder did not start`, {
              hint: `free the port or pick another with ${env}`,
            });
          }
        }
      }
      await spec.prepare?.(missing);

      const t0 = Date.now();
      const started: Record<string, number> = {};
      const stopStarted = async () => {
        for (const p of [...missing].reverse()) {
          const pid = started[p.name];
          if (pid === undefined) continue;
          if (isAlive(pid)) await (p.halt ? p.halt(pid, 10_000) : terminate(pid, 10_000));
          if (!p.pid) await removePidFile(p.pidFile);
        }
      };
      for (const p of spec.processes) {
        if (!missing.includes(p)) continue;
        let pid: number;
        try {
          if (p.launch) pid = await p.launch();
          else {
            const cmd = await p.command!();
            await mkdir(path.dirname(p.outFile), { recursive: true });
            await writeFile(p.outFile, '');
            pid = spawnDetached(cmd.command, cmd.args, { cwd: spec.dir, logFile: p.outFile, ...(cmd.env ? { env: cmd.env } : {}) });
            await writePidFile(p.pidFile, pid);
          }
        } catch (err) {
          await stopStarted();
          throw err;
        }
        started[p.name] = pid;
        spec.progress(`started ${p.name === spec.service ? spec.title : p.name} (pid ${pid})${p.ports[0] ? ` on port ${p.ports[0].port}` : ''}`);
        if (p.readyBeforeNext && p.ready) {
          const w = await waitUntil(spec, `${p.name} on port ${p.ports[0]?.port ?? '?'}`, () => p.ready!(2_000), { [p.name]: pid });
          if (!w.ok) {
            await stopStarted();
            throw await failure(spec, w.exited ? `${p.name} exited during start-up` : `${p.name} did not answer within ${spec.readyTimeoutMs / 1000} s`, p);
          }
        }
      }
      spec.progress(`waiting until ${spec.title} answers at ${spec.address}`);
      const all = { ...pids, ...started };
      const w = await waitUntil(spec, spec.address, () => spec.ready(2_000), all);
      if (!w.ok) {
        const culprit = spec.processes.find((p) => p.name === w.exited);
        await stopStarted();
        throw await failure(spec, w.exited ? `${w.exited} exited during start-up` : `${spec.title} did not answer within ${spec.readyTimeoutMs / 1000} s`, culprit);
      }
      const readyMs = Date.now() - t0;
      spec.progress(`ready at ${spec.address} in ${(readyMs / 1000).toFixed(1)} s`);
      return { pids: all, started: true, foreign: false, readyMs };
    },
    spec.lockTimeoutMs ?? spec.readyTimeoutMs + 20 * 60_000,
  );
}

/**
 * Stops this folder's processes, last started first: SIGTERM to each process group, SIGKILL after the stop
 * timeout, then waits until its ports are free (a launcher may exit before the server it started).
 */
export async function stopService(spec: ServiceSpec): Promise<LifecycleStop> {
  await mkdir(spec.dir, { recursive: true });
  return withLock(path.join(spec.dir, '.lock'), async () => {
    const stopped: string[] = [];
    const pids: Record<string, number> = {};
    let killed = false;
    for (const p of [...spec.processes].reverse()) {
      const pid = await pidOf(p);
      if (pid === undefined) continue;
      const who = `${p.name === spec.service ? '' : `${p.name} `}pid ${pid}`;
      spec.progress(p.halt ? `stopping ${who}` : `stopping ${who} (SIGTERM, SIGKILL after ${spec.stopTimeoutMs / 1000} s)`);
      const how = p.halt ? await p.halt(pid, spec.stopTimeoutMs) : await terminate(pid, spec.stopTimeoutMs);
      if (!p.pid) await removePidFile(p.pidFile);
      if (how === 'not-running') continue;
      if (how === 'killed') killed = true;
      stopped.push(p.name);
      pids[p.name] = pid;
      const deadline = Date.now() + spec.stopTimeoutMs;
      while (p.ports.length && (await Promise.all(p.ports.map((x) => portOpen(x.port, 500)))).some(Boolean) && Date.now() < deadline) await sleep(200);
    }
    if (stopped.length === 0) {
      spec.progress('not running');
      return { stopped, pids };
    }
    spec.progress(killed ? 'did not stop in time: killed' : 'stopped');
    return { stopped, pids, how: killed ? 'killed' : 'terminated' };
  });
}

/** Stops the service and deletes its data and logs (downloads and classpaths stay). */
export async function cleanService(spec: ServiceSpec): Promise<LifecycleStop> {
  const stopped = await stopService(spec);
  for (const p of spec.cleanPaths) await rm(p, { recursive: true, force: true });
  spec.progress(`removed ${spec.cleanPaths.map((p) => path.relative(spec.dir, p) || p).join(', ')} under ${spec.dir}`);
  return stopped;
}
