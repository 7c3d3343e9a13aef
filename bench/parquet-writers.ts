/**
 * Parquet writers for the snapshotter, measured in one run on the same rows: the app's writer (its own column
 * encoder with hyparquet-writer's Thrift, native snappy, and uncompressed), the writer before it (the same
 * statistics handed to hyparquet-writer's `parquetWriteBuffer` as one JS value per cell), the native writers that
 * could replace it and still write Iceberg field ids (DuckDB's C++ writer through @duckdb/node-api; parquet-rs as
 * WebAssembly, parquet-wasm, field ids in the Arrow fields' metadata), both from the previous writer's statistics
 * pass, and pyarrow (the baseline, timed inside one long-lived Python process on the same rows, from Python lists
 * to the file, as ours goes from row objects to the file). With `--all`, the other JS writers the first choice
 * rested on as well: hyparquet-writer with an automatic schema, @dsnp/parquetjs, parquetjs-lite. apache-arrow
 * (JS) writes Arrow IPC only, not Parquet: it appears as parquet-wasm's input.
 * Every writer runs once per round, the order rotating and reversed every other round (round 0 warms up and is
 * not counted); the ratio to pyarrow at the same codec, and of each other writer to the app's, are taken per
 * round, by the wall clock and by CPU time (the process's user + system time around the call: Node's GC threads and DuckDB's count; Python's
 * `process_time`), since on a loaded machine the wall clock also counts the time others hold the cores. Each
 * file is read back by pyarrow (field ids, logical types), and the app's files (both writers) must hold exactly
 * the input rows (INT64 beyond 2^53 and nulls included).
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
import { compressSync } from 'snappy';
import * as arrow from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import dsnp from '@dsnp/parquetjs';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore no types for parquetjs-lite
import lite from 'parquetjs-lite';
import { venvPython } from '@pipeline/stack';
import { emitResult, fmtSpread, pairedRatios, positionalArgs, printLoad, spread, type ResultRow, type Spread } from './lib/report';
import { BIGINT, BOOLEAN, DuckDBDataChunk, DuckDBInstance, TIMESTAMPTZ, VARCHAR, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';
import { columnStats, compareStrings, writeSnapshotParquet, SNAPSHOT_COLUMNS, type ColumnSpec, type ColumnStats, type IcebergType, type SnapshotRow } from '@pipeline/snapshotter';

const args = positionalArgs();
const ROWS = Number(args[0] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
/** `--all`: the other JS writers too (slow; the first choice of hyparquet-writer rests on them). */
const ALL = process.argv.includes('--all');
const dir = mkdtempSync(path.join(tmpdir(), 'parquet-bench-'));
const python = venvPython();

/** Every 100th version a nanosecond stamp beyond 2^53 (as the core's LONGs can be), a bigint as the app gets it. */
function makeRows(n: number): SnapshotRow[] {
  const rows: SnapshotRow[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({
      source: `user${i % 5000}`,
      target: `item${(i * 7919) % 100000}`,
      edge_id: null,
      active: true,
      version: i % 100 === 0 ? 1_732_900_000_000_000_000n + BigInt(i) : 1_700_000_000_000 + i,
      created_at: 1_700_000_000_000 + i,
      deleted_at: i % 10 === 0 ? 1_699_000_000_000 : null,
      seq: i + 1,
      properties: JSON.stringify({ weight: { value: i % 100, version: 1_700_000_000_000 + i } }),
      updated_at_ms: 1_700_000_000_000 + i,
    });
  }
  return rows;
}

/** The rows as JSON for pyarrow, bigints as exact numbers. */
function rowsJson(rows: SnapshotRow[]): string {
  const raw = (JSON as unknown as { rawJSON: (s: string) => unknown }).rawJSON;
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? raw(v.toString()) : v));
}

// ---- The writer before the app's column encoder, kept here to measure the app's writer against it in the same
// run: the statistics pass (each value as the writers take it: long as bigint, timestamptz as bigint µs; the
// bounds through the app's own columnStats; the DuckDB and parquet-wasm alternatives start from it too), then hyparquet-writer's parquetWriteBuffer with native
// snappy, strings without a dictionary as byte views into one buffer.

function prepareColumns<R>(columns: ColumnSpec[], rows: readonly R[]): { data: unknown[][]; stats: Map<number, ColumnStats> } {
  const stats = new Map<number, ColumnStats>();
  const out = columns.map((c) => {
    const data: unknown[] = new Array(rows.length);
    let nulls = 0;
    let lo: unknown;
    let hi: unknown;
    for (let i = 0; i < rows.length; i++) {
      let v = (rows[i] as Record<string, unknown>)[c.name];
      if (v === null || v === undefined) {
        if (c.required) throw new Error(`column ${c.name} is required but row ${i} has no value`);
        nulls++;
        data[i] = null;
        continue;
      }
      if (c.type === 'long') v = BigInt(v as number);
      else if (c.type === 'timestamptz') v = BigInt(v as number) * 1000n;
      data[i] = v;
      if (c.type === 'string') {
        if (lo === undefined || compareStrings(v as string, lo as string) < 0) lo = v;
        if (hi === undefined || compareStrings(v as string, hi as string) > 0) hi = v;
      } else if (c.type === 'boolean') {
        if (lo === undefined || (!v && lo)) lo = v;
        if (hi === undefined || (v && !hi)) hi = v;
      } else {
        if (lo === undefined || (v as bigint) < (lo as bigint)) lo = v;
        if (hi === undefined || (v as bigint) > (hi as bigint)) hi = v;
      }
    }
    stats.set(c.id, columnStats(c.type, rows.length, nulls, lo, hi));
    return data;
  });
  return { data: out, stats };
}

function mostlyDistinct(values: unknown[]): boolean {
  const n = Math.min(values.length, 1000);
  if (n === 0) return false;
  const seen = new Set<unknown>();
  for (let i = 0; i < n; i++) seen.add(values[Math.floor((i * (values.length - 1)) / Math.max(1, n - 1))]);
  return seen.size / n > 0.5;
}

function utf8Views(values: unknown[]): unknown[] {
  const strings = values.map((v) => (v === null ? '' : (v as string)));
  const joined = strings.join('');
  const bytes = Buffer.from(joined, 'utf8');
  const ascii = bytes.length === joined.length;
  const out: unknown[] = new Array(values.length);
  let off = 0;
  for (let i = 0; i < values.length; i++) {
    const len = ascii ? strings[i]!.length : Buffer.byteLength(strings[i]!, 'utf8');
    out[i] = values[i] === null ? null : new Uint8Array(bytes.buffer, bytes.byteOffset + off, len);
    off += len;
  }
  return out;
}

type HyparquetSchema = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>;

function hyparquetSchema(columns: ColumnSpec[]): HyparquetSchema {
  return [
    { name: 'table', num_children: columns.length },
    ...columns.map((c) => {
      const base = { name: c.name, field_id: c.id, repetition_type: c.required ? 'REQUIRED' : 'OPTIONAL' } as const;
      if (c.type === 'string') return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
      if (c.type === 'boolean') return { ...base, type: 'BOOLEAN' } as const;
      if (c.type === 'long') return { ...base, type: 'INT64' } as const;
      return { ...base, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' } } as const;
    }),
  ];
}

function writeParquetBefore(columns: ColumnSpec[], rows: readonly SnapshotRow[], codec: 'SNAPPY' | 'UNCOMPRESSED'): Uint8Array {
  const { data } = prepareColumns(columns, rows);
  const columnData = columns.map((c, i) => ({ name: c.name, data: c.type === 'string' && mostlyDistinct(data[i]!) ? utf8Views(data[i]!) : data[i]! }));
  const buf = parquetWriteBuffer({
    columnData: columnData as never,
    schema: hyparquetSchema(columns),
    codec,
    compressors: { SNAPPY: (b: Uint8Array): Uint8Array => compressSync(b) },
    rowGroupSize: 100_000,
    statistics: false,
  });
  return new Uint8Array(buf);
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
 * The same file written by DuckDB (its C++ Parquet writer through @duckdb/node-api): after the previous writer's statistics
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
  // The app's own writer: its column encoder, Iceberg field ids in the schema, native snappy.
  'app writer (snappy)': async (rows, file) => {
    writeFileSync(file, writeSnapshotParquet(rows, 'SNAPPY').bytes);
  },
  'app writer (uncompressed)': async (rows, file) => {
    writeFileSync(file, writeSnapshotParquet(rows, 'UNCOMPRESSED').bytes);
  },
  // The writer before it, in the same rounds.
  'before: hyparquet-writer parquetWriteBuffer (snappy)': async (rows, file) => {
    writeFileSync(file, writeParquetBefore(SNAPSHOT_COLUMNS, rows, 'SNAPPY'));
  },
  'before: hyparquet-writer parquetWriteBuffer (uncompressed)': async (rows, file) => {
    writeFileSync(file, writeParquetBefore(SNAPSHOT_COLUMNS, rows, 'UNCOMPRESSED'));
  },
};

/**
 * The native writers that could replace the app's and still write Iceberg field ids, reached from Node: DuckDB's
 * C++ writer (@duckdb/node-api) and parquet-rs compiled to WebAssembly (parquet-wasm), each from the previous
 * writer's statistics pass (`prepareColumns`: Iceberg's manifests need the bounds whatever writes the file).
 */
const alternatives: Record<string, Writer> = {
  'duckdb (snappy, 1 thread)': async (rows, file) => {
    await writeParquetDuckDB(SNAPSHOT_COLUMNS, rows, file, 'SNAPPY', 1);
  },
  // parquet-rs (WebAssembly) from an Arrow table built on the prepared columns: int64 and timestamp
  // columns straight from BigInt64Arrays, field ids in the Arrow fields' metadata; the same statistics pass.
  'parquet-wasm (field ids in Arrow metadata, snappy)': async (rows, file) => {
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

// pyarrow reads every file back; the app's files (both writers) must hold exactly the rows of rows.json:
// every column equal as Python values (INT64 beyond 2^53 and nulls included), timestamps as µs.
const INSPECT = `
import json, sys, pyarrow as pa, pyarrow.parquet as pq
rows = json.load(open(sys.argv[1]))
check = set(json.loads(sys.argv[2]))
out = {}
for f in sys.argv[3:]:
    try:
        pf = pq.ParquetFile(f)
        t = pf.read()
        ids = [ (fld.metadata or {}).get(b'PARQUET:field_id') for fld in pf.schema_arrow ]
        info = {"rows": t.num_rows, "field_ids": all(i is not None for i in ids),
                "types": {fld.name: str(fld.type) for fld in pf.schema_arrow}}
        if f in check:
            diff = []
            for name in rows[0].keys():
                col = t.column(name)
                if pa.types.is_timestamp(col.type):
                    got, want = col.cast(pa.int64()).to_pylist(), [None if r[name] is None else r[name] * 1000 for r in rows]
                else:
                    got, want = col.to_pylist(), [r[name] for r in rows]
                if got != want:
                    bad = next(i for i, (g, w) in enumerate(zip(got + [None] * len(want), want)) if g != w)
                    diff.append(f"{name}: row {bad} holds {got[bad] if bad < len(got) else 'nothing'!r}, not {want[bad]!r}")
            info["equal"] = not diff
            if diff: info["diff"] = diff[:3]
        out[f] = info
    except Exception as e:
        out[f] = {"error": str(e)[:200]}
print(json.dumps(out))
`;

// A persistent pyarrow process, so that each round can time it right before or after the JS writers (same
// load): it reads the rows once, then for each line `<codec> <file>` on stdin writes the file and prints its
// wall and CPU seconds.
const PYARROW = `
import json, sys, time, pyarrow as pa, pyarrow.parquet as pq
rows = json.load(open(sys.argv[1]))
print("ready", flush=True)
for line in sys.stdin:
    codec, out = line.split()
    t0, c0 = time.perf_counter(), time.process_time()
    cols = {k: [r[k] for r in rows] for k in rows[0].keys()}
    t = pa.table(cols)
    pq.write_table(t, out, compression=codec)
    print(time.perf_counter() - t0, time.process_time() - c0, flush=True)
`;

interface Timing {
  wall: number;
  cpu: number;
}

function pyarrowServer(rowsFile: string): { write: (codec: 'snappy' | 'none', file: string) => Promise<Timing>; close: () => void } {
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
      const [wall, cpu] = (await next()).split(' ').map(Number);
      return { wall: wall!, cpu: cpu! };
    },
    close: () => child.stdin.end(),
  };
}

const APP = 'app writer (snappy)';
const APP_UNCOMPRESSED = 'app writer (uncompressed)';
const isApp = (name: string) => name.startsWith('app writer') || name.startsWith('before:');

async function main(): Promise<void> {
  const rows = makeRows(ROWS);
  const loadBefore = printLoad('before');
  console.log(`parquet writers: ${ROWS} rows x ${SNAPSHOT_COLUMNS.length} columns, ${ROUNDS} rounds after a warm-up round, node ${process.version}`);
  const havePython = existsSync(python);
  const rowsFile = path.join(dir, 'rows.json');
  if (havePython) writeFileSync(rowsFile, rowsJson(rows));
  const server = havePython ? pyarrowServer(rowsFile) : undefined;
  if (!havePython) console.log(`(no ${python}: run 'npm run stack -- up pyiceberg' for the pyarrow baseline and read-back checks)`);
  const all: Record<string, Writer> = { ...writers };
  if (server) {
    all['pyarrow, snappy (baseline)'] = async (_rows, file) => void (await server.write('snappy', file));
    all['pyarrow, uncompressed (baseline)'] = async (_rows, file) => void (await server.write('none', file));
  }
  const names = Object.keys(all);
  const fileOf = (name: string) => path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.parquet`);
  // Rows per second by the wall clock, and per CPU second, per round.
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpuRates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // Every writer once per round, the order rotating, and reversed every other round: a plain rotation keeps each
  // writer behind the same one, which then always hands it its garbage (the app's uncompressed writer always ran
  // right after its snappy one). pyarrow's own clocks (inside Python) exclude the pipe.
  for (let r = 0; r <= ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const k = (i + r) % names.length;
      const name = names[r % 2 ? names.length - 1 - k : k]!;
      const file = fileOf(name);
      let t: Timing;
      if (server && name.startsWith('pyarrow')) t = await server.write(name.includes('snappy') ? 'snappy' : 'none', file);
      else {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await all[name]!(rows, file);
        const wall = (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        t = { wall, cpu: (c.user + c.system) / 1e6 };
      }
      if (r > 0) {
        rates[name]!.push(ROWS / t.wall);
        cpuRates[name]!.push(ROWS / t.cpu);
      }
    }
  }
  server?.close();
  const loadAfter = printLoad('after');
  let inspected: Record<string, { rows?: number; field_ids?: boolean; types?: Record<string, string>; equal?: boolean; diff?: string[]; error?: string }> = {};
  if (havePython) {
    const checked = JSON.stringify(names.filter(isApp).map(fileOf));
    inspected = JSON.parse(execFileSync(python, ['-c', INSPECT, rowsFile, checked, ...names.map(fileOf)], { maxBuffer: 1 << 24 }).toString());
  }
  console.log(
    '\n| writer | rows/s, median (min–max) | vs pyarrow, same codec, per round | rows per CPU-s | CPU vs pyarrow, per round | file bytes | pyarrow reads | equal to input | field ids | version/updated types |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---|---|---|---|');
  const resultRows: ResultRow[] = [];
  const fmtRatio = (s: Spread | undefined) => (s ? fmtSpread(s, 2) : 'n/a');
  for (const name of names) {
    const i = inspected[fileOf(name)];
    // Compared with pyarrow at the same codec: uncompressed writers against uncompressed pyarrow.
    const base = /uncompressed/.test(name) ? 'pyarrow, uncompressed (baseline)' : 'pyarrow, snappy (baseline)';
    const ratio = server && !name.startsWith('pyarrow') ? spread(pairedRatios(rates[name]!, rates[base]!)) : undefined;
    const cpuRatio = server && !name.startsWith('pyarrow') ? spread(pairedRatios(cpuRates[name]!, cpuRates[base]!)) : undefined;
    const reads = !i ? 'n/a' : i.error ? `no: ${i.error}` : `yes (${i.rows} rows)`;
    if (i?.error && isApp(name)) throw new Error(`pyarrow cannot read the file of ${name}: ${i.error}`);
    if (i && isApp(name) && !i.equal) throw new Error(`pyarrow reads other values from the file of ${name} than were written: ${(i.diff ?? []).join('; ')}`);
    console.log(
      `| ${name} | ${fmtSpread(spread(rates[name]!))} | ${fmtRatio(ratio)} | ${fmtSpread(spread(cpuRates[name]!))} | ${fmtRatio(cpuRatio)} | ${readFileSync(fileOf(name)).length.toLocaleString('en')} | ${reads} | ${i?.equal === undefined ? '' : i.equal ? 'yes' : 'no'} | ${i?.field_ids ? 'yes' : 'no'} | ${i?.types ? `${i.types['version']}, ${i.types['updated_at_ms']}` : ''} |`,
    );
    const target = name === APP || name === APP_UNCOMPRESSED ? { target: 0.5 } : {};
    resultRows.push({ name, unit: 'rows/s', value: spread(rates[name]!), ...(ratio && { ratio, baseline: base, ...target }) });
    resultRows.push({ name: `${name}, CPU time`, unit: 'rows/CPU-s', value: spread(cpuRates[name]!), ...(cpuRatio && { ratio: cpuRatio, baseline: base, ...target }) });
  }
  // The app's writer against the one before it, and each alternative against the app's writer, at the same
  // codec, per round: what the change gained, and what switching would.
  const pairs: [string, string][] = [
    [APP, 'before: hyparquet-writer parquetWriteBuffer (snappy)'],
    [APP_UNCOMPRESSED, 'before: hyparquet-writer parquetWriteBuffer (uncompressed)'],
    ...Object.keys(alternatives).map((name): [string, string] => [name, /uncompressed/.test(name) ? APP_UNCOMPRESSED : APP]),
  ];
  for (const [name, other] of pairs) {
    const wall = spread(pairedRatios(rates[name]!, rates[other]!));
    const cpu = spread(pairedRatios(cpuRates[name]!, cpuRates[other]!));
    console.log(`${name} / ${other}, per round: wall ${fmtSpread(wall, 2)}, CPU ${fmtSpread(cpu, 2)}`);
    resultRows.push({ name: `${name}, over ${other}`, unit: '×', value: wall });
    resultRows.push({ name: `${name}, over ${other}, CPU time`, unit: '×', value: cpu });
  }
  rmSync(dir, { recursive: true, force: true });
  emitResult({ bench: 'parquet-writers', rounds: ROUNDS, params: { rows: ROWS, columns: SNAPSHOT_COLUMNS.length, allWriters: ALL }, load: { before: loadBefore, after: loadAfter }, rows: resultRows });
}

await main();
