/**
 * The CDC relay on a broker that speaks only SASL/SCRAM (a private broker, own folder and ports): the session's
 * read of the end of the topic goes through the same client settings as its producer. An outbox whose rows
 * were all published and none deleted (a core killed between the two) is then found on the topic by the next
 * relay, which sends nothing again. A tail read without the credentials cannot connect, skips nothing and
 * would put every record on the topic twice.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pino from 'pino';
import type { KafkaClient } from '@pipeline/kafka';
import { cleanKafka, ensureKafka, stackDir } from '@pipeline/stack';
import { freePort, tempDir, uniqueName, waitFor } from '@pipeline/testing';
import type { EdgeStore, OutboxRow } from '../src/storage/edge-store';
import { KafkaCdcOutlet } from '../src/publish/cdc-outlet';
import { CdcRelay } from '../src/publish/cdc-relay';

const ADMIN = { username: 'admin', password: 'admin-Secret-4417' };

/** An outbox in memory whose deletes are lost, as if the core died after every publish and before its delete. */
function undeletedOutbox(n: number): EdgeStore {
  const rows: OutboxRow[] = Array.from({ length: n }, (_, i) => ({ seq: i + 1, key: `u${i % 11}:${i % 7}`, value: JSON.stringify({ version: '3', seq: i + 1, pad: 'x'.repeat(200) }) }));
  return {
    readOutbox: (after: number, limit: number) => Promise.resolve(rows.filter((r) => r.seq > after).slice(0, limit)),
    deleteOutbox: () => Promise.resolve(),
    outboxSize: () => Promise.resolve(rows.length),
  } as unknown as EdgeStore;
}

describe('the CDC relay on a SASL/SCRAM broker', () => {
  const root = join(stackDir(), `it-relay-sasl-${process.pid}`);
  let opts: Parameters<typeof ensureKafka>[0];
  let kafka: KafkaClient;

  beforeAll(async () => {
    opts = { dir: join(root, 'kafka'), port: await freePort(), controllerPort: await freePort(), sasl: { admin: ADMIN, users: {} } };
    const { bootstrap } = await ensureKafka(opts);
    const { createKafka } = await import('@pipeline/kafka');
    kafka = createKafka({ brokers: [bootstrap], clientId: 'it-relay-sasl', sasl: { mechanism: 'SCRAM-SHA-512', ...ADMIN } });
  }, 240_000);

  afterAll(async () => {
    if (opts) await cleanKafka(opts);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  async function count(topic: string): Promise<bigint> {
    const admin = await kafka.admin();
    try {
      return [...(await admin.endOffsets(topic)).values()].reduce((a, b) => a + b, 0n);
    } finally {
      await admin.close();
    }
  }

  it('reads the end of the topic back with the credentials: a restart sends nothing twice', async () => {
    const topic = uniqueName('it-relay-sasl.cdc');
    const admin = await kafka.admin();
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    await admin.close();
    const store = undeletedOutbox(600);
    const relayOpts = { batchRows: 1000, batchBytes: 64 * 1024, maxBackoffMs: 500, maxRecordBytes: 1 << 20, parkDir: join(tempDir('relay-sasl'), 'parked') };
    const first = new CdcRelay(store, new KafkaCdcOutlet(kafka, topic), pino({ level: 'silent' }), relayOpts);
    first.start();
    await waitFor('the first relay to publish the outbox', async () => first.relayed === 600, 60_000);
    await first.stop();
    expect(await count(topic)).toBe(600n);

    const second = new CdcRelay(store, new KafkaCdcOutlet(kafka, topic), pino({ level: 'silent' }), relayOpts);
    second.start();
    await waitFor('the second relay to account for every row', async () => second.skipped + second.relayed >= 600, 60_000);
    await second.stop();
    expect({ skipped: second.skipped, relayed: second.relayed }).toEqual({ skipped: 600, relayed: 0 });
    expect(await count(topic)).toBe(600n);
  }, 180_000);
});
