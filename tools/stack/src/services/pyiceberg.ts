import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { run } from '../process';
import { stackDir } from '../paths';

/**
 * pyiceberg (with pyarrow) in a venv under .stack/venv: the independent Iceberg and Parquet reader the
 * snapshotter's tests run. Not a server: "up" means the venv exists and imports pyiceberg.
 */
const SERVICE = 'pyiceberg';
/** The requirement pip installs; pin with $PYICEBERG_REQUIREMENT. */
const REQUIREMENT = process.env['PYICEBERG_REQUIREMENT'] ?? 'pyiceberg[pyarrow]';

export function venvDir(): string {
  return path.join(stackDir(), 'venv');
}

/** The venv's python; run the snapshotter's reader scripts with it. */
export function venvPython(): string {
  return path.join(venvDir(), 'bin', 'python');
}

async function probe(): Promise<string | undefined> {
  if (!existsSync(venvPython())) return undefined;
  const r = await run(venvPython(), ['-c', 'import pyiceberg, pyarrow; print(pyiceberg.__version__, pyarrow.__version__)'], { timeoutMs: 60_000 });
  return r.code === 0 ? r.output.trim() : undefined;
}

export async function ensurePyiceberg(opts: { onProgress?: (msg: string) => void } = {}): Promise<{ python: string; versions: string }> {
  const progress = opts.onProgress ?? (() => undefined);
  return withLock(path.join(stackDir(), 'venv.lock'), async () => {
    const have = await probe();
    if (have) return { python: venvPython(), versions: have };
    if (!existsSync(venvPython())) {
      progress(`creating ${venvDir()}`);
      const r = await run('python3', ['-m', 'venv', venvDir()], { timeoutMs: 120_000 });
      if (r.code !== 0)
        throw new StackError(SERVICE, `python3 -m venv failed: ${r.output.slice(-2000)}`, { hint: 'install python3-venv (apt-get install python3-venv)' });
    }
    progress(`pip install ${REQUIREMENT}`);
    const pip = await run(venvPython(), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', REQUIREMENT], { timeoutMs: 900_000 });
    if (pip.code !== 0)
      throw new StackError(SERVICE, `pip install ${REQUIREMENT} failed: ${pip.output.slice(-2000)}`, { hint: 'check that PyPI is reachable, then run the stack up again' });
    const now = await probe();
    if (!now) throw new StackError(SERVICE, 'the venv does not import pyiceberg and pyarrow after pip install');
    progress(`ready: pyiceberg/pyarrow ${now}`);
    return { python: venvPython(), versions: now };
  }, 900_000);
}

export async function pyicebergStatus(): Promise<{ running: boolean; python: string; versions?: string }> {
  const versions = await probe();
  return { running: versions !== undefined, python: venvPython(), ...(versions ? { versions } : {}) };
}

export async function cleanPyiceberg(opts: { onProgress?: (msg: string) => void } = {}): Promise<void> {
  opts.onProgress?.(`removing ${venvDir()}`);
  await rm(venvDir(), { recursive: true, force: true });
}
