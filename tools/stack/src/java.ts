import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { StackError } from './errors';
import { run } from './process';

export interface Java {
  /** The java binary. */
  java: string;
  /** Its JDK folder, when known (Elasticsearch's launcher wants ES_JAVA_HOME). */
  home?: string;
  major: number;
}

const JVM_DIR = '/usr/lib/jvm';

/** JDK folders under /usr/lib/jvm whose name carries a version >= min, newest first (Debian's and Temurin's layout). */
function installedHomes(min: number): string[] {
  if (!existsSync(JVM_DIR)) return [];
  const version = (d: string) => Number(/(\d+)/.exec(d)?.[1] ?? 0);
  return readdirSync(JVM_DIR)
    .filter((d) => !d.startsWith('.') && version(d) >= min)
    .sort((a, b) => version(b) - version(a))
    .map((d) => path.join(JVM_DIR, d));
}

async function majorOf(java: string): Promise<number | undefined> {
  const v = await run(java, ['-version'], { timeoutMs: 30_000 });
  if (v.error || v.code !== 0) return undefined;
  return Number(/version "(\d+)/.exec(v.output)?.[1] ?? 0);
}

/**
 * A Java of at least `min`: the first of `homes` (the service's variables, e.g. TRINO_JAVA_HOME, JAVA_HOME) that
 * is new enough, else `java` on PATH (unless `pathJava` is false), else the newest JDK under /usr/lib/jvm. The
 * services of the stack need different Javas (Kafka 17, Elasticsearch 21, Trino 24): each finds the one it can
 * run on this machine without anybody setting JAVA_HOME.
 */
export async function findJava(service: string, min: number, opts: { homes?: (string | undefined)[]; pathJava?: boolean; hint?: string } = {}): Promise<Java> {
  const tried: string[] = [];
  const homes = (opts.homes ?? []).filter((h): h is string => !!h);
  for (const home of homes) {
    const java = path.join(home, 'bin', 'java');
    const major = await majorOf(java);
    tried.push(`${java}${major === undefined ? ' (does not run)' : ` (${major})`}`);
    if (major !== undefined && major >= min) return { java, home, major };
  }
  if (opts.pathJava !== false) {
    const major = await majorOf('java');
    tried.push(`java on PATH${major === undefined ? ' (none)' : ` (${major})`}`);
    if (major !== undefined && major >= min) return { java: 'java', major };
  }
  for (const home of installedHomes(min)) {
    const java = path.join(home, 'bin', 'java');
    const major = await majorOf(java);
    tried.push(`${java}${major === undefined ? ' (does not run)' : ` (${major})`}`);
    if (major !== undefined && major >= min) return { java, home, major };
  }
  throw new StackError(service, `needs Java ${min} or newer; none found (tried: ${tried.join(', ') || 'nothing'})`, {
    hint: opts.hint ?? `install a JDK ${min}+ under ${JVM_DIR} or point JAVA_HOME at one (bash tools/scripts/install-system-deps.sh installs a JDK 17 on Debian)`,
  });
}
