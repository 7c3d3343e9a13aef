import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { StackError } from '../errors';
import { withLock } from '../lock';
import { run } from '../process';
import { stackDir } from '../paths';
import { serviceEntry } from './entry';

/**
 * The Python readers in a venv under .stack/venv: pyiceberg (with pyarrow) opens the snapshotter's tables from a
 * metadata file or through the JDBC catalog (pyiceberg's SqlCatalog on PostgreSQL: sqlalchemy + psycopg2), and
 * DuckDB with its iceberg and avro extensions from PyPI (loaded from the packages' files, no download at run
 * time). Not a server: "up" means the venv exists and imports all of them.
 */
const SERVICE = 'pyiceberg';
/** DuckDB and its extension packages must be the same version (the extension file is built for one DuckDB). */
export const DUCKDB_VERSION = '1.4.4';
/** What pip installs; $PYICEBERG_REQUIREMENT replaces the first (pyiceberg) entry. */
const REQUIREMENTS = [
  process.env['PYICEBERG_REQUIREMENT'] ?? 'pyiceberg[pyarrow,sql-postgres]',
  `duckdb==${DUCKDB_VERSION}`,
  `duckdb-ext-iceberg==${DUCKDB_VERSION}.*`,
  `duckdb-ext-avro==${DUCKDB_VERSION}.*`,
];
const PROBE = [
  'import pyiceberg, pyarrow, sqlalchemy, psycopg2, duckdb, duckdb_ext',
  'print(pyiceberg.__version__, pyarrow.__version__, duckdb.__version__)',
].join('; ');

export function venvDir(): string {
  return path.join(stackDir(), 'venv');
}

/** The venv's python; run the snapshotter's reader scripts with it. */
export function venvPython(): string {
  return path.join(venvDir(), 'bin', 'python');
}

async function probe(): Promise<string | undefined> {
  if (!existsSync(venvPython())) return undefined;
  const r = await run(venvPython(), ['-c', PROBE], { timeoutMs: 60_000 });
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
    progress(`pip install ${REQUIREMENTS.join(' ')}`);
    const pip = await run(venvPython(), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', ...REQUIREMENTS], { timeoutMs: 900_000 });
    if (pip.code !== 0)
      throw new StackError(SERVICE, `pip install ${REQUIREMENTS.join(' ')} failed: ${pip.output.slice(-2000)}`, { hint: 'check that PyPI is reachable, then run the stack up again' });
    const now = await probe();
    if (!now) throw new StackError(SERVICE, 'the venv does not import pyiceberg, pyarrow, sqlalchemy, psycopg2, duckdb and duckdb_ext after pip install');
    progress(`ready: pyiceberg/pyarrow/duckdb ${now}`);
    return { python: venvPython(), versions: now };
  }, 900_000);
}

export async function pyicebergStatus(): Promise<{ running: boolean; python: string; versions?: string }> {
  const versions = await probe();
  return { running: versions !== undefined, python: venvPython(), ...(versions ? { versions } : {}) };
}

/**
 * The DuckDB extension file a package installed (`duckdb_ext/extensions/v<version>/<platform>/<name>.duckdb_extension`
 * under site-packages), for `LOAD '<file>'`: DuckDB then needs no download.
 */
export async function duckdbExtension(name: 'iceberg' | 'avro'): Promise<string> {
  const code = `import duckdb_ext, glob, os; print(sorted(glob.glob(os.path.join(list(duckdb_ext.__path__)[0], 'extensions', 'v${DUCKDB_VERSION}', '*', '${name}.duckdb_extension')))[0])`;
  const r = await run(venvPython(), ['-c', code], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new StackError(SERVICE, `no DuckDB ${name} extension file in the venv: ${r.output.trim().slice(-500)}`, { hint: 'npx tsx tools/stack/src/cli.ts up pyiceberg' });
  return r.output.trim();
}

export async function cleanPyiceberg(opts: { onProgress?: (msg: string) => void } = {}): Promise<void> {
  opts.onProgress?.(`removing ${venvDir()}`);
  await rm(venvDir(), { recursive: true, force: true });
}

/** The CLI's entry: a venv, not a server, so nothing runs and `down` has nothing to stop. */
export const pyicebergService = serviceEntry(SERVICE, 'pyiceberg', {
  up: (onProgress) => ensurePyiceberg({ onProgress }),
  down: async () => undefined,
  clean: (onProgress) => cleanPyiceberg({ onProgress }),
  status: async () => {
    const s = await pyicebergStatus();
    return { running: s.running, address: s.python, ...(s.versions ? { note: `pyiceberg/pyarrow/duckdb ${s.versions}` } : {}) };
  },
});
