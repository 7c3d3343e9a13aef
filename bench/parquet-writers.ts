/**
 * Parquet writers for the snapshotter, measured in one run on the same rows:
 *   hyparquet-writer, parquet-wasm (from an apache-arrow table), @dsnp/parquetjs, parquetjs-lite,
 *   and pyarrow (the baseline, timed inside Python on the same rows).
 * For each: rows/s, file size, and what pyarrow reads back (Iceberg field ids, logical types).
 * apache-arrow (JS) writes Arrow IPC only, not Parquet: it appears as parquet-wasm's input format.
 *
 *   npx tsx bench/parquet-writers.ts [rows]      (needs `npm run stack -- up pyiceberg` for pyarrow)
 */
import { execFileSync } from 'node:child_process';
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
import { writeSnapshotParquet, SNAPSHOT_COLUMNS, type SnapshotRow } from '../apps/snapshotter/src/parquet-file';

const ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = 3;
const dir = mkdtempSync(path.join(tmpdir(), 'parquet-bench-'));
const python = path.resolve(import.meta.dirname, '../.stack/venv/bin/python');

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

type Writer = (rows: SnapshotRow[], file: string) => Promise<void>;

const writers: Record<string, Writer> = {
  // The app's own writer: hyparquet-writer with Iceberg field ids in the schema.
  'hyparquet-writer (app, snappy)': async (rows, file) => {
    const { bytes } = writeSnapshotParquet(rows, 'SNAPPY');
    writeFileSync(file, bytes);
  },
  'hyparquet-writer (app, uncompressed)': async (rows, file) => {
    const { bytes } = writeSnapshotParquet(rows, 'UNCOMPRESSED');
    writeFileSync(file, bytes);
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
  'parquet-wasm (from apache-arrow)': async (rows, file) => {
    const fields = SNAPSHOT_COLUMNS.map(
      (c) =>
        new arrow.Field(
          c.name,
          c.type === 'string' ? new arrow.Utf8() : c.type === 'boolean' ? new arrow.Bool() : new arrow.Int64(),
          !c.required,
          new Map([['PARQUET:field_id', String(c.id)]]),
        ),
    );
    const schema = new arrow.Schema(fields);
    const cols: Record<string, arrow.Vector> = {};
    for (const f of fields) {
      const vals = rows.map((r) => {
        const v = r[f.name as keyof SnapshotRow];
        return f.type instanceof arrow.Int64 && typeof v === 'number' ? BigInt(v) * (f.name === 'updated_at_ms' ? 1000n : 1n) : v;
      });
      cols[f.name] = arrow.vectorFromArray(vals as never, f.type);
    }
    const table = new arrow.Table(schema, new arrow.Table(cols).batches.map((b) => new arrow.RecordBatch(schema, b.data)));
    const ipc = arrow.tableToIPC(table, 'stream');
    const wtable = wasm.Table.fromIPCStream(ipc);
    const props = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.SNAPPY).build();
    writeFileSync(file, wasm.writeParquet(wtable, props));
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

const PYARROW = `
import json, sys, time, pyarrow as pa, pyarrow.parquet as pq
rows = json.load(open(sys.argv[1]))
runs = int(sys.argv[3])
out = {}
for codec in ('snappy', 'none'):
    best = None
    for _ in range(runs):
        t0 = time.perf_counter()
        cols = {k: [r[k] for r in rows] for k in rows[0].keys()}
        t = pa.table(cols)
        pq.write_table(t, sys.argv[2] + '.' + codec, compression=codec)
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    out[codec] = best
print(json.dumps(out))
`;

async function main(): Promise<void> {
  const rows = makeRows(ROWS);
  console.log(`parquet writers: ${ROWS} rows x ${SNAPSHOT_COLUMNS.length} columns, best of ${RUNS} runs, node ${process.version}`);
  const results: { name: string; rowsPerSec: number; bytes: number; file: string }[] = [];
  for (const [name, write] of Object.entries(writers)) {
    const file = path.join(dir, `${name.replace(/[^a-z0-9]+/gi, '_')}.parquet`);
    let best = Infinity;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      await write(rows, file);
      best = Math.min(best, performance.now() - t0);
    }
    results.push({ name, rowsPerSec: ROWS / (best / 1000), bytes: readFileSync(file).length, file });
  }
  let baseline: number | undefined;
  let baselineNone: number | undefined;
  let inspected: Record<string, { rows?: number; field_ids?: boolean; types?: Record<string, string>; stats?: boolean; error?: string }> = {};
  if (existsSync(python)) {
    const json = path.join(dir, 'rows.json');
    writeFileSync(json, JSON.stringify(rows));
    const out = path.join(dir, 'pyarrow.parquet');
    const r = JSON.parse(execFileSync(python, ['-c', PYARROW, json, out, String(RUNS)]).toString()) as { snappy: number; none: number };
    baseline = ROWS / r.snappy;
    baselineNone = ROWS / r.none;
    results.push({ name: 'pyarrow, snappy (baseline)', rowsPerSec: baseline, bytes: readFileSync(`${out}.snappy`).length, file: `${out}.snappy` });
    results.push({ name: 'pyarrow, uncompressed (baseline)', rowsPerSec: baselineNone, bytes: readFileSync(`${out}.none`).length, file: `${out}.none` });
    inspected = JSON.parse(execFileSync(python, ['-c', INSPECT, ...results.map((x) => x.file)], { maxBuffer: 1 << 24 }).toString());
  } else {
    console.log(`(no ${python}: run 'npm run stack -- up pyiceberg' for the pyarrow baseline and read-back checks)`);
  }
  console.log('\n| writer | rows/s | vs pyarrow (same codec) | file bytes | pyarrow reads | field ids | version/updated types |');
  console.log('|---|---:|---:|---:|---|---|---|');
  for (const r of results) {
    const i = inspected[r.file];
    // Compared with pyarrow at the same codec: uncompressed writers against uncompressed pyarrow.
    const base = /uncompressed/.test(r.name) ? baselineNone : baseline;
    const ratio = base ? (r.rowsPerSec / base).toFixed(2) + 'x' : 'n/a';
    const reads = !i ? 'n/a' : i.error ? `no: ${i.error}` : `yes (${i.rows} rows)`;
    console.log(
      `| ${r.name} | ${Math.round(r.rowsPerSec).toLocaleString('en')} | ${ratio} | ${r.bytes.toLocaleString('en')} | ${reads} | ${i?.field_ids ? 'yes' : 'no'} | ${i?.types ? `${i.types['version']}, ${i.types['updated_at_ms']}` : ''} |`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

await main();
