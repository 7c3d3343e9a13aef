import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeAvro, readManifest, readManifestList, writeManifest, writeManifestList, type ManifestEntry, type ManifestFile } from './manifest';
import { MANIFEST_ENTRY_SCHEMA, MANIFEST_FILE_SCHEMA } from './manifest-schemas';
import { dataFile } from './spec-fixtures';

const id64 = fc.bigInt({ min: 1n, max: 2n ** 63n - 1n });

describe('manifests (avsc BlockEncoder/BlockDecoder)', () => {
  it('keep the schema JSON verbatim with every field id, and the header metadata', async () => {
    const buf = await writeManifest([], { schemaJson: '{"type":"struct"}', schemaId: 0, specId: 0 });
    const { metadata, records } = await decodeAvro(buf);
    expect(JSON.parse(metadata['avro.schema']!)).toEqual(MANIFEST_ENTRY_SCHEMA);
    expect(metadata['avro.schema']).toContain('"field-id":134');
    expect(metadata).toMatchObject({ 'format-version': '2', content: 'data', schema: '{"type":"struct"}', 'partition-spec': '[]' });
    expect(records).toEqual([]);
  });

  it('round-trip entries with 64-bit snapshot ids and inherited (null) sequence numbers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.option(id64, { nil: null }), fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: null }), fc.integer({ min: 0, max: 1e9 })), { maxLength: 20 }),
        async (specs) => {
          const entries: ManifestEntry[] = specs.map(([status, id, seq, rows], i) => ({
            status,
            snapshot_id: id,
            sequence_number: seq,
            file_sequence_number: seq,
            data_file: dataFile(`/t/data/${i}.parquet`, rows),
          }));
          const back = await readManifest(await writeManifest(entries, { schemaJson: '{}', schemaId: 0, specId: 0 }));
          expect(back).toEqual(entries);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('round-trip manifest lists, snapshot ids in the header exact', async () => {
    const big = 2n ** 63n - 5n;
    const mf: ManifestFile = {
      manifest_path: '/t/metadata/m0.avro',
      manifest_length: 123,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 3,
      min_sequence_number: 1,
      added_snapshot_id: big,
      added_files_count: 1,
      existing_files_count: 2,
      deleted_files_count: 0,
      added_rows_count: 5,
      existing_rows_count: 7,
      deleted_rows_count: 0,
      partitions: [],
      key_metadata: null,
    };
    const buf = await writeManifestList([mf, mf], { snapshotId: big, parentId: 7n, sequenceNumber: 3 });
    expect(await readManifestList(buf)).toEqual([mf, mf]);
    const { metadata } = await decodeAvro(buf);
    expect(JSON.parse(metadata['avro.schema']!)).toEqual(MANIFEST_FILE_SCHEMA);
    expect(metadata).toMatchObject({ 'snapshot-id': big.toString(), 'parent-snapshot-id': '7', 'sequence-number': '3' });
  });
});
