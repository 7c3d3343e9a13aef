/**
 * Parquet writers for the snapshotter, measured in one run on the same rows: the app's writer (hyparquet-writer,
 * native snappy, and uncompressed), the native writers that could replace it and still write Iceberg field ids
 * (DuckDB's C++ writer through @duckdb/node-api; parquet-rs as WebAssembly, parquet-wasm, field ids in the Arrow
 * fields' metadata), both from the app's statistics pass, and pyarrow (the baseline, timed inside one long-lived
 * Python process on the same rows, from Python lists to the file, as ours goes from row objects to the file). With
 * `--all`, the other JS writers the first choice rested on as well: the app's writer with JS snappy,
 * hyparquet-writer with an automatic schema, @dsnp/parquetjs, parquetjs-lite. apache-arrow (JS) writes Arrow IPC
 * only, not Parquet: it appears as parquet-wasm's input.
 * Every writer runs once per round, the order rotating (round 0 warms up and is not counted); the ratio to
 * pyarrow at the same codec, and of each other writer to the app's, are taken per round. Each file is read back
 * by pyarrow (field ids, logical types).
 *
 *   npx tsx bench/parquet-writers.ts [rows] [--all] [--json <file>]   (needs `npm run stack -- up pyiceberg` for pyarrow)
 *
 * Env: BENCH_ROUNDS (5).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as arrow from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import dsnp from '@dsnp/parquetjs';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore no types for parquetjs-lite
import lite from 'parquetjs-lite';
import { venvPython } from '@pipeline/stack';
import { emitResult, fmtSpread, pairedRatios, positionalArgs, printLoad, spread, type ResultRow } from './lib/report';
import { BIGINT, BOOLEAN, DuckDBDataChunk, DuckDBInstance, TIMESTAMPTZ, VARCHAR, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { prepareColumns, writeSnapshotParquet, SNAPSHOT_COLUMNS, type ColumnSpec, type IcebergType, type SnapshotRow } from '@pipeline/snapshotter';

const args = positionalArgs();
const ROWS = Number(args[0] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** `--all`: the other JS writers too (slow; the choice of hyparquet-writer rests on them). */
const ALL = process.argv.includes('--all');
const dir = mkdtempSync(path.join(tmpdir(), 'parquet-bench-'));
const python = venvPython();

function makeRows(n: number): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      source: `user${i % 5000}`,
      target: `item${(i * 7919) % 100000}`,
      edge_id: null,
      active: true,
      version: 1_700_000_000_000 + i,
      created_at: 1_700_000_000_000 + i,
      deleted_at: i % 10 === 0 ? 1_699_000_000_000 : null,
      seq: i + 1,
      properties: JSON.stringify({ weight: { value: i % 100, version: 1_700_000_000_000 + i } }),
      updated_at_ms: 1_700_000_000_000 + i,
    });
  }
  return rows;
}

const DUCK_TYPES: Record<IcebergType, { sql: string; type: DuckDBType }> = {
  string: { sql: 'VARCHAR', type: VARCHAR },
  long: { sql: 'BIGINT', type: BIGINT },
  boolean: { sql: 'BOOLEAN', type: BOOLEAN },
  timestamptz: { sql: 'TIMESTAMPTZ', type: TIMESTAMPTZ },
};

let duck: Promise<DuckDBInstance> | undefined;
let duckTables = 0;

/**
 * The same file written by DuckDB (its C++ Parquet writer through @duckdb/node-api): after the app's statistics
 * pass (Iceberg's manifests need the bounds whatever writes the file), the rows go into a table of an in-memory
 * DuckDB a vector (2048 rows) at a time, then `COPY … (FIELD_IDS {…})` writes the file. One in-memory instance per
 * process, `threads` DuckDB threads (1 here, as the snapshotter would run it on a shared machine).
 */
async function writeParquetDuckDB(columns: ColumnSpec[], rows: readonly SnapshotRow[], file: string, codec: 'SNAPPY' | 'UNCOMPRESSED', threads = 1): Promise<void> {
  const { data } = prepareColumns(columns, rows);
  duck ??= DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await (await duck).connect();
  const table = `rows_${++duckTables}`;
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
  try {
    await conn.run(`CREATE TABLE ${table} (${columns.map((c) => `${q(c.name)} ${DUCK_TYPES[c.type].sql}${c.required ? ' NOT NULL' : ''}`).join(', ')})`);
    const appender = await conn.createAppender(table);
    const types = columns.map((c) => DUCK_TYPES[c.type].type);
    const step = 2048;
    for (let off = 0; off < rows.length; off += step) {
      const n = Math.min(step, rows.length - off);
      const chunk = DuckDBDataChunk.create(types, n);
      chunk.setColumns(
        columns.map((c, i) => {
          const slice = data[i]!.slice(off, off + n);
          return (c.type === 'timestamptz' ? slice.map((v) => (v === null ? null : { micros: v })) : slice) as DuckDBValue[];
        }),
      );
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
    appender.closeSync();
    const ids = columns.map((c) => `'${c.name.replace(/'/g, "''")}': ${c.id}`).join(', ');
    await conn.run(`COPY ${table} TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION ${codec === 'SNAPPY' ? 'snappy' : 'uncompressed'}, ROW_GROUP_SIZE 100000, FIELD_IDS {${ids}})`);
  } finally {
    await conn.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    conn.closeSync();
  }
}

type Writer = (rows: SnapshotRow[], file: string) => Promise<void>;

const appWriters: Record<string, Writer> = {
  // The app's own writer: hyparquet-writer with Iceberg field ids in the schema, native snappy.
  'hyparquet-writer (app, snappy)': async (rows, file) => {
    const { bytes } = writeSnapshotParquet(rows, 'SNAPPY');
    writeFileSync(file, bytes);
  },
  'hyparquet-writer (app, uncompressed)': async (rows, file) => {
    const { bytes } = writeSnapshotParquet(rows, 'UNCOMPRESSED');
    writeFileSync(file, bytes);
  },
};

/**
 * The native writers that can replace hyparquet-writer and still write Iceberg field ids, reached from Node:
 * DuckDB's C++ writer (@duckdb/node-api) and parquet-rs compiled to WebAssembly (parquet-wasm), each from the
 * app's statistics pass.
 */
const alternatives: Record<string, Writer> = {
  'duckdb (app stats, snappy, 1 thread)': async (rows, file) => {
    await writeParquetDuckDB(SNAPSHOT_COLUMNS, rows, file, 'SNAPPY', 1);
  },
  // parquet-rs (WebAssembly) from an Arrow table built on the app's prepared columns: int64 and timestamp
  // columns straight from BigInt64Arrays, field ids in the Arrow fields' metadata; the same statistics pass.
  'parquet-wasm (app stats, field ids in Arrow metadata, snappy)': async (rows, file) => {
    const { data } = prepareColumns(SNAPSHOT_COLUMNS, rows);
    const fields: arrow.Field[] = [];
    const columns: arrow.Data[] = [];
    SNAPSHOT_COLUMNS.forEach((c, i) => {
      const values = data[i]!;
      const type =
        c.type === 'string' ? new arrow.Utf8() : c.type === 'boolean' ? new arrow.Bool() : c.type === 'long' ? new arrow.Int64() : new arrow.TimestampMicrosecond('UTC');
      fields.push(new arrow.Field(c.name, type, !c.required, new Map([['PARQUET:field_id', String(c.id)]])));
      if (c.type === 'long' || c.type === 'timestamptz') {
        const ints = new BigInt64Array(values.length);
        const bitmap = new Uint8Array((values.length + 7) >> 3);
        let nulls = 0;
        for (let j = 0; j < values.length; j++) {
          const v = values[j];
          if (v === null) nulls++;
          else {
            ints[j] = v as bigint;
            bitmap[j >> 3]! |= 1 << (j & 7);
          }
        }
        columns.push(arrow.makeData({ type: type as arrow.Int64, length: values.length, nullCount: nulls, nullBitmap: nulls ? bitmap : null, data: ints as never }));
      } else columns.push(arrow.vectorFromArray(values as never, type).data[0]!);
    });
    const schema = new arrow.Schema(fields);
    const batch = new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(fields), length: rows.length, nullCount: 0, children: columns }));
    const wtable = wasm.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(schema, [batch]), 'stream'));
    const props = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.SNAPPY).setMaxRowGroupSize(100_000).build();
    writeFileSync(file, wasm.writeParquet(wtable, props));
  },
};

const otherWriters: Record<string, Writer> = {
  // The app's writer with hyparquet-writer's own JavaScript snappy, as files were written before native snappy.
  'hyparquet-writer (app, JS snappy)': async (rows, file) => {
    writeFileSync(file, writeSnapshotParquet(rows, 'SNAPPY', { jsSnappy: true }).bytes);
  },
  'hyparquet-writer (auto schema, no ids)': async (rows, file) => {
    const buf = parquetWriteBuffer({
      columnData: SNAPSHOT_COLUMNS.map((c) => ({
        name: c.name,
        data: rows.map((r) => {
          const v = r[c.name];
          return typeof v === 'number' && c.type === 'long' ? BigInt(v) : typeof v === 'number' && c.type === 'timestamptz' ? BigInt(v) * 1000n : v;
        }),
        type: c.type === 'string' ? 'STRING' : c.type === 'boolean' ? 'BOOLEAN' : 'INT64',
        nullable: !c.required,
      })),
    });
    writeFileSync(file, new Uint8Array(buf));
  },
  '@dsnp/parquetjs': async (rows, file) => {
    const schema = new dsnp.ParquetSchema(
      Object.fromEntries(
        SNAPSHOT_COLUMNS.map((c) => [c.name, { type: c.type === 'string' ? 'UTF8' : c.type === 'boolean' ? 'BOOLEAN' : 'INT64', optional: !c.required, compression: 'SNAPPY' }]),
      ) as never,
    );
    const w = await dsnp.ParquetWriter.openFile(schema, file);
    for (const r of rows) await w.appendRow(stripNulls(r));
    await w.close();
  },
  'parquetjs-lite': async (rows, file) => {
    const schema = new lite.ParquetSchema(
      Object.fromEntries(
        SNAPSHOT_COLUMNS.map((c) => [c.name, { type: c.type === 'string' ? 'UTF8' : c.type === 'boolean' ? 'BOOLEAN' : 'INT64', optional: !c.required, compression: 'SNAPPY' }]),
      ),
    );
    const w = await lite.ParquetWriter.openFile(schema, file);
    for (const r of rows) await w.appendRow(stripNulls(r));
    await w.close();
  },
};

const writers: Record<string, Writer> = ALL ? { ...appWriters, ...alternatives, ...otherWriters } : { ...appWriters, ...alternatives };

function stripNulls(r: SnapshotRow): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
}

const INSPECT = `
import json, sys, pyarrow.parquet as pq
out = {}
for f in sys.argv[1:]:
    try:
        pf = pq.ParquetFile(f)
        t = pf.read()
        ids = [ (fld.metadata or {}).get(b'PARQUET:field_id') for fld in pf.schema_arrow ]
        out[f] = {"rows": t.num_rows, "field_ids": all(i is not None for i in ids),
                  "types": {fld.name: str(fld.type) for fld in pf.schema_arrow},
                  "stats": pf.metadata.row_group(0).column(0).statistics is not None}
    except Exception as e:
        out[f] = {"error": str(e)[:200]}
print(json.dumps(out))
`;

// A persistent pyarrow process, so that each round can time it right before or after the JS writers (same
// load): it reads the rows once, then for each line `<codec> <file>` on stdin writes the file and prints seconds.
const PYARROW = `
import json, sys, time, pyarrow as pa, pyarrow.parquet as pq
rows = json.load(open(sys.argv[1]))
print("ready", flush=True)
for line in sys.stdin:
    codec, out = line.split()
    t0 = time.perf_counter()
    cols = {k: [r[k] for r in rows] for k in rows[0].keys()}
    t = pa.table(cols)
    pq.write_table(t, out, compression=codec)
    print(time.perf_counter() - t0, flush=True)
`;

function pyarrowServer(rowsFile: string): { write: (codec: 'snappy' | 'none', file: string) => Promise<number>; close: () => void } {
  const child = spawn(python, ['-c', PYARROW, rowsFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  const next = () => new Promise<string>((r) => (lines.length ? r(lines.shift()!) : waiters.push(r)));
  const ready = next();
  return {
    async write(codec, file) {
      await ready;
      child.stdin.write(`${codec} ${file}\n`);
      return Number(await next());
    },
    close: () => child.stdin.end(),
  };
}

async function main(): Promise<void> {
  const rows = makeRows(ROWS);
  const loadBefore = printLoad('before');
  console.log(`parquet writers: ${ROWS} rows x ${SNAPSHOT_COLUMNS.length} columns, ${ROUNDS} rounds after a warm-up round, node ${process.version}`);
  const havePython = existsSync(python);
  if (havePython) writeFileSync(path.join(dir, 'rows.json'), JSON.stringify(rows));
  const server = havePython ? pyarrowServer(path.join(dir, 'rows.json')) : undefined;
  if (!havePython) console.log(`(no ${python}: run 'npm run stack -- up pyiceberg' for the pyarrow baseline and read-back checks)`);
  const all: Record<string, Writer> = { ...writers };
  if (server) {
    all['pyarrow, snappy (baseline)'] = async (_rows, file) => void (await server.write('snappy', file));
    all['pyarrow, uncompressed (baseline)'] = async (_rows, file) => void (await server.write('none', file));
  }
  const names = Object.keys(all);
  const fileOf = (name: string) => path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.parquet`);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Every writer once per round, the order rotating; pyarrow's own clock (inside Python) excludes the pipe.
  for (let r = 0; r <= ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      const file = fileOf(name);
      let seconds: number;
      if (server && name.startsWith('pyarrow')) seconds = await server.write(name.includes('snappy') ? 'snappy' : 'none', file);
      else {
        const t0 = performance.now();
        await all[name]!(rows, file);
        seconds = (performance.now() - t0) / 1000;
      }
      if (r > 0) rates[name]!.push(ROWS / seconds);
    }
  }
  server?.close();
  const loadAfter = printLoad('after');
  let inspected: Record<string, { rows?: number; field_ids?: boolean; types?: Record<string, string>; stats?: boolean; error?: string }> = {};
  if (havePython) inspected = JSON.parse(execFileSync(python, ['-c', INSPECT, ...names.map(fileOf)], { maxBuffer: 1 << 24 }).toString());
  console.log('\n| writer | rows/s, median (min–max) | vs pyarrow, same codec, per round | file bytes | pyarrow reads | field ids | version/updated types |');
  console.log('|---|---:|---:|---:|---|---|---|');
  const resultRows: ResultRow[] = [];
  for (const name of names) {
    const i = inspected[fileOf(name)];
    // Compared with pyarrow at the same codec: uncompressed writers against uncompressed pyarrow.
    const base = /uncompressed/.test(name) ? 'pyarrow, uncompressed (baseline)' : 'pyarrow, snappy (baseline)';
    const ratio = server && !name.startsWith('pyarrow') ? spread(pairedRatios(rates[name]!, rates[base]!)) : undefined;
    const reads = !i ? 'n/a' : i.error ? `no: ${i.error}` : `yes (${i.rows} rows)`;
    if (i?.error && name.startsWith('hyparquet-writer (app')) throw new Error(`pyarrow cannot read the app's file: ${i.error}`);
    console.log(
      `| ${name} | ${fmtSpread(spread(rates[name]!))} | ${ratio ? fmtSpread(ratio, 2) : 'n/a'} | ${readFileSync(fileOf(name)).length.toLocaleString('en')} | ${reads} | ${i?.field_ids ? 'yes' : 'no'} | ${i?.types ? `${i.types['version']}, ${i.types['updated_at_ms']}` : ''} |`,
    );
    resultRows.push({ name, unit: 'rows/s', value: spread(rates[name]!), ...(ratio && { ratio, baseline: base, ...(name.startsWith('hyparquet-writer (app') && { target: 0.5 }) }) });
  }
  // Each alternative against the app's writer at the same codec, per round: what switching would gain.
  for (const name of Object.keys(alternatives)) {
    const appName = /uncompressed/.test(name) ? 'hyparquet-writer (app, uncompressed)' : 'hyparquet-writer (app, snappy)';
    const r = spread(pairedRatios(rates[name]!, rates[appName]!));
    console.log(`${name} / ${appName}, per round: ${fmtSpread(r, 2)}`);
    resultRows.push({ name: `${name}, over the app's writer`, unit: '×', value: r });
  }
  rmSync(dir, { recursive: true, force: true });
  emitResult({ bench: 'parquet-writers', rounds: ROUNDS, params: { rows: ROWS, columns: SNAPSHOT_COLUMNS.length, allWriters: ALL }, load: { before: loadBefore, after: loadAfter }, rows: resultRows });
}

await main();
