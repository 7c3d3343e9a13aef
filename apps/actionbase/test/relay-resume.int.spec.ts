/**
 * The CDC relay on a real broker, resuming where an earlier relay stopped without sending anything twice:
 * a store whose outbox rows were all published but never deleted (a crash between the publish and the
 * delete, the image of the store taken before the first relay ran) gets more commits, and a new relay on
 * it sends only those.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { Admin, KafkaClient } from '@pipeline/kafka';
import { ensureKafka } from '@pipeline/stack';
import { dataRecords, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import { Catalog } from '../src/catalog/catalog';
import { LegacyTableBody, legacySchema } from '../src/catalog/schema-bodies';
import { MutationEngine } from '../src/engine/mutation-engine';
import { KafkaCdcOutlet, SinkCdcOutlet } from '../src/publish/cdc-outlet';
import { CdcRelay } from '../src/publish/cdc-relay';
import type { RecordSink } from '../src/publish/record-sink';
import { SqliteEdgeStore } from '../src/storage/sqlite-store';

const silent = pino({ level: 'silent' });
const noop: RecordSink = { kind: 'log', publishWal: async () => undefined, publishCdc: async () => undefined, close: async () => undefined };
const relayOpts = (dir: string) => ({ batchRows: 20_000, batchBytes: 256 * 1024, maxBackoffMs: 1000, maxRecordBytes: 1 << 20, parkDir: join(dir, 'parked') });

/** Commits `n` mutations (keys spread over every partition) into the store at `file`; its relay never runs. */
async function commit(file: string, n: number, from: number): Promise<void> {
  const store = new SqliteEdgeStore(file);
  try {
    const catalog = await Catalog.open(store, 'it');
    if (from === 0) {
      await catalog.createDatabase('shop', { comment: '' }, 'it');
      const b = LegacyTableBody.parse({
        table: 'likes',
        schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
        direction: 'BOTH',
        indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
      });
      await catalog.createTable('shop', b.table, { ...legacySchema(b), mode: b.mode, comment: b.comment, storage: b.storage, readOnly: b.readOnly, event: false }, 'it');
    }
    const idle = new CdcRelay(store, new SinkCdcOutlet(noop), silent, relayOpts(tempDir('relay-idle')));
    const engine = new MutationEngine(store, noop, idle, { tenant: 'it', systemMode: null, recordLimits: { walRecordBytes: 1 << 20, cdcRecordBytes: 1 << 20 } });
    const table = await catalog.resolve('shop', 'likes');
    for (let i = from; i < from + n; i += 100) {
      const mutations = Array.from({ length: Math.min(100, from + n - i) }, (_, j) => {
        const k = i + j;
        return { type: 'INSERT', edge: { version: 1000 + k, source: `u${k % 97}`, target: k, properties: { created_at: k } } };
      });
      await engine.mutate(table, { mutations }, { requestMode: null, force: false, actor: 'it', requestId: 'r' });
    }
  } finally {
    await store.close();
  }
}

describe('CDC relay resuming from the topic (real Kafka)', () => {
  let bootstrap: string;
  let kafka: KafkaClient;
  let admin: Admin;
  const topic = uniqueName('it-relay-resume.cdc');

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    const { createKafka } = await import('@pipeline/kafka'); // loaded lazily, as the core does
    kafka = createKafka({ brokers: [bootstrap], clientId: 'it-relay-resume' });
    admin = await kafka.admin();
    await admin.ensureTopics([{ name: topic, partitions: 6 }]);
  });
  afterAll(async () => {
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close();
  });

  /** Relays the store at `file` to the topic until its outbox is empty; returns the relay's counts. */
  async function relay(file: string): Promise<{ relayed: number; skipped: number }> {
    const store = new SqliteEdgeStore(file);
    const r = new CdcRelay(store, new KafkaCdcOutlet(kafka, topic), silent, relayOpts(tempDir('relay-it')));
    try {
      r.start();
      await waitFor('the outbox emptied', async () => (await store.outboxSize()) === 0, 60_000);
      return { relayed: r.relayed, skipped: r.skipped };
    } finally {
      await r.stop();
      await store.close();
    }
  }

  it('sends only what is not on the topic yet, each record once, in seq order per partition', async () => {
    const dir = tempDir('relay-resume');
    const first = join(dir, 'first.db');
    await commit(first, 3000, 0);
    const image = join(dir, 'image.db'); // the store as a crash before any delete left it
    copyFileSync(first, image);

    expect(await relay(first)).toEqual({ relayed: 3000, skipped: 0 });
    await commit(image, 700, 3000);
    const imageAgain = join(dir, 'image-again.db');
    copyFileSync(image, imageAgain);
    expect(await relay(image)).toEqual({ relayed: 700, skipped: 3000 });
    // The same crash once more, after that relay's sends: nothing is left to send.
    expect(await relay(imageAgain)).toEqual({ relayed: 0, skipped: 3700 });

    const records = await waitFor('3,700 CDC records', async () => {
      const recs = await dataRecords(bootstrap, topic);
      return recs.length >= 3700 && recs;
    });
    expect(records).toHaveLength(3700);
    const seqs = records.map((r) => r.value.seq as number);
    expect(new Set(seqs).size).toBe(3700);
    for (let p = 0; p < 6; p++) {
      const mine = records.filter((r) => r.partition === p).map((r) => r.value.seq as number);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine).toEqual([...mine].sort((a, b) => a - b));
    }
  });
});
