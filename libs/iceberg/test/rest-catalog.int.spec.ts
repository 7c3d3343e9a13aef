/**
 * The REST catalog client against Iceberg's reference REST server (tools/stack `iceberg-rest`: Iceberg Java's
 * RESTCatalogServer on a JdbcCatalog in PostgreSQL). Every test uses its own namespace. What is shown: a table is
 * created with its first snapshot in one request, commits on a stale base conflict (409 -> CommitConflictError)
 * and the retry lands on the winner, several committers make one linear chain, maintenance commits through the
 * catalog, and the server's metadata (written by Iceberg Java) reads back exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
// The REST server for the tests comes from the stack tool (a test-only dependency of this library).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ensureIcebergRest } from '@pipeline/stack';
import { tempDir } from '@pipeline/testing';
import {
  CommitConflictError,
  commitSnapshot,
  currentSnapshot,
  expireSnapshots,
  history,
  icebergSchema,
  liveFiles,
  localPath,
  newTableMetadata,
  RestCatalog,
  rollbackTo,
  SNAPSHOT_COLUMNS,
  type Catalog,
  type DataFile,
  type TableIdent,
} from '../src/index';

let uri: string;
const warehouse = tempDir('iceberg-rest');
/** Every table a test makes in the shared catalog: dropped after the file, before its warehouse folder goes. */
const made: TableIdent[] = [];
const freshIdent = (): TableIdent => {
  const ident = { namespace: `it_${randomBytes(5).toString('hex')}`, name: 'likes' };
  made.push(ident);
  return ident;
};
const catalog = () => new RestCatalog({ uri, warehouse });

let n = 0;
function dataFile(location: string, rows: number): DataFile {
  mkdirSync(path.join(location, 'data'), { recursive: true });
  const p = path.join(location, 'data', `f${n++}-${process.pid}.parquet`);
  writeFileSync(p, 'x');
  return { content: 0, file_path: p, file_format: 'PARQUET', partition: {}, record_count: rows, file_size_in_bytes: 1, column_sizes: null, value_counts: null, null_value_counts: null, nan_value_counts: null, lower_bounds: null, upper_bounds: null, key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: null };
}

/** Appends one file on top of whatever is current, retrying on conflicts; returns the attempts it took. */
async function append(c: Catalog, ident: TableIdent, rows: number, snapshotId?: bigint): Promise<number> {
  const location = c.defaultLocation(ident);
  const init = () => newTableMetadata({ location, schema: icebergSchema(SNAPSHOT_COLUMNS), sortFieldIds: [1, 2, 3], properties: { 'write.format.default': 'parquet' } });
  const file = dataFile(location, rows);
  for (let attempt = 1; ; attempt++) {
    const base = await c.loadTable(ident);
    const cur = base ? currentSnapshot(base.metadata) : undefined;
    try {
      await commitSnapshot(c, ident, base, init, { added: [file], kept: cur ? await liveFiles(cur) : [], removed: [], ...(snapshotId ? { snapshotId } : {}) });
      return attempt;
    } catch (err) {
      if (!(err instanceof CommitConflictError) || attempt > 50) throw err;
    }
  }
}

describe('RestCatalog on the Iceberg REST reference server', () => {
  beforeAll(async () => {
    uri = (await ensureIcebergRest()).url;
  }, 180_000);
  afterAll(async () => {
    for (const ident of made) await catalog().dropTable(ident);
  }, 60_000);

  it('dropTable removes the table and then its emptied namespace, keeping its files; a second drop answers false', async () => {
    const c = catalog();
    const ident = freshIdent();
    await append(c, ident, 3);
    const metadataLocation = (await c.loadTable(ident))!.metadataLocation;
    expect(await c.dropTable(ident)).toBe(true);
    expect(await c.loadTable(ident)).toBeNull();
    expect((await c.listTables()).map((t) => t.namespace)).not.toContain(ident.namespace);
    expect(existsSync(localPath(metadataLocation))).toBe(true); // not purged
    expect(await c.dropTable(ident)).toBe(false);
  });

  it('creates namespace and table with the first snapshot in one commit; the server keeps our schema, sort order and ids', async () => {
    const ident = freshIdent();
    const c = catalog();
    expect(await c.loadTable(ident)).toBeNull();
    const big = (1n << 62n) + 12345n; // beyond 2^53: must survive the server's JSON both ways
    await append(c, ident, 3, big);
    const t = (await c.loadTable(ident))!;
    expect(t.metadataLocation).toMatch(/\/metadata\/00000-[0-9a-f-]+\.metadata\.json$/);
    expect(t.metadata['current-snapshot-id']).toBe(big);
    expect(t.metadata.refs['main']?.['snapshot-id']).toBe(big);
    expect(t.metadata.location).toBe(c.defaultLocation(ident));
    // Every path the table names has a scheme (Trino resolves them by scheme and refuses bare paths).
    expect(t.metadata.location).toMatch(/^file:\/\/\//);
    expect(currentSnapshot(t.metadata)!['manifest-list']).toMatch(/^file:\/\/\/.*\/metadata\/snap-.*\.avro$/);
    expect(t.metadata.schemas[0]!.fields.map((f) => [f.id, f.name])).toEqual(SNAPSHOT_COLUMNS.map((col, i) => [i + 1, col.name]));
    const order = t.metadata['sort-orders'].find((o) => o['order-id'] === t.metadata['default-sort-order-id']);
    expect(order?.fields).toHaveLength(3);
    expect(t.metadata.properties['write.format.default']).toBe('parquet');
    expect(await c.listTables()).toContainEqual(ident);
  });

  it('a commit on a stale base gets 409 as CommitConflictError, changes nothing, and the retry lands on the winner', async () => {
    const ident = freshIdent();
    const a = catalog();
    const b = catalog();
    await append(a, ident, 1);
    const stale = (await a.loadTable(ident))!;
    await append(b, ident, 2);
    const winner = (await a.loadTable(ident))!;
    const location = a.defaultLocation(ident);
    const init = () => newTableMetadata({ location, schema: icebergSchema(SNAPSHOT_COLUMNS) });
    const err = await commitSnapshot(a, ident, stale, init, { added: [dataFile(location, 5)], kept: await liveFiles(currentSnapshot(stale.metadata)!), removed: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitConflictError);
    expect((await a.loadTable(ident))!.metadataLocation).toBe(winner.metadataLocation);
    // A second create of the same table conflicts too.
    const again = await commitSnapshot(b, ident, null, init, { added: [dataFile(location, 1)], kept: [], removed: [] }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(CommitConflictError);
    expect(await append(a, ident, 5)).toBe(1);
    const cur = currentSnapshot((await a.loadTable(ident))!.metadata)!;
    expect((await liveFiles(cur)).map((f) => f.dataFile.record_count).sort()).toEqual([1, 2, 5]);
  });

  it('a commit whose answer is lost (502 after the server committed) is found on the server and kept, files and all', async () => {
    const ident = freshIdent();
    await append(catalog(), ident, 1);
    // A proxy in front of the real server that forwards everything, but answers a table commit with 502 after
    // the server has applied it: the client cannot know from the answer whether it landed.
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(`${uri}${req.url}`, { method: req.method!, headers: { 'content-type': 'application/json' }, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) }).then(async (r) => {
          const text = await r.text();
          const lost = req.method === 'POST' && /\/tables\/[^/]+$/.test(req.url ?? '');
          res.writeHead(lost ? 502 : r.status, { 'content-type': 'application/json' }).end(lost ? '{"error":{"message":"bad gateway","type":"BadGateway","code":502}}' : text);
        });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const viaProxy = new RestCatalog({ uri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, warehouse });
      const id = (1n << 60n) + 99n;
      expect(await append(viaProxy, ident, 7, id)).toBe(1);
      const t = (await catalog().loadTable(ident))!;
      expect(t.metadata['current-snapshot-id']).toBe(id);
      // The manifests of the landed commit were not removed as those of a failed one would be.
      const live = await liveFiles(currentSnapshot(t.metadata)!);
      expect(live.map((f) => f.dataFile.record_count).sort()).toEqual([1, 7]);
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });

  it('four committers appending 4 files each make one linear chain of 16 snapshots, every file live once', async () => {
    const ident = freshIdent();
    await append(catalog(), ident, 1);
    const writers = [1, 2, 3, 4].map(() => catalog());
    const attempts = await Promise.all(
      writers.map(async (c, w) => {
        let total = 0;
        for (let i = 0; i < 4; i++) total += await append(c, ident, 10 * (w + 1) + i);
        return total;
      }),
    );
    const t = (await catalog().loadTable(ident))!;
    expect(t.metadata.snapshots).toHaveLength(17);
    // Linear: each snapshot's parent is the one before it in sequence order.
    const bySeq = [...t.metadata.snapshots].sort((x, y) => x['sequence-number'] - y['sequence-number']);
    bySeq.slice(1).forEach((s, i) => expect(s['parent-snapshot-id']).toBe(bySeq[i]!['snapshot-id']));
    const live = await liveFiles(currentSnapshot(t.metadata)!);
    expect(live).toHaveLength(17);
    expect(new Set(live.map((f) => f.dataFile.file_path)).size).toBe(17);
    expect(attempts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(16);
  }, 120_000);

  it('expiry, rollback and history commit through the REST catalog', async () => {
    const ident = freshIdent();
    const c = catalog();
    for (const rows of [1, 2, 3]) await append(c, ident, rows);
    const before = (await c.loadTable(ident))!;
    const [first, second, third] = [...before.metadata.snapshots].sort((x, y) => x['sequence-number'] - y['sequence-number']);
    await rollbackTo(c, ident, second!['snapshot-id']);
    expect((await c.loadTable(ident))!.metadata['current-snapshot-id']).toBe(second!['snapshot-id']);
    const h = await history(c, ident);
    expect(h.map((e) => e.snapshotId)).toEqual(expect.arrayContaining([first!['snapshot-id'], second!['snapshot-id'], third!['snapshot-id']]));
    const r = await expireSnapshots(c, ident, { olderThanMs: 0, retainLast: 0, now: Date.now() + 1_000 });
    expect(r.expired.sort()).toEqual([first!['snapshot-id'], third!['snapshot-id']].sort());
    const after = (await c.loadTable(ident))!;
    expect(after.metadata.snapshots.map((s) => s['snapshot-id'])).toEqual([second!['snapshot-id']]);
    expect((await liveFiles(currentSnapshot(after.metadata)!)).map((f) => f.dataFile.record_count).sort()).toEqual([1, 2]);
  });
});
