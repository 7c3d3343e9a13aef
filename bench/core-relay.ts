/**
 * How fast the CDC relay empties an outbox onto Kafka: the rate that decides how long a backlog takes to
 * drain (a core behind by B records catches up at relay rate − commit rate). The outbox is filled once
 * by the engine (its relay not started: records pile up as behind a stopped broker), then each round a
 * copy of that store is relayed to a fresh topic by the core's own relay and Kafka sink, until the last
 * record is acknowledged. Two relays: `shared` (2,000 rows per batch through the Kafka sink the WAL uses,
 * how the relay was) and `own` (the core's: a producer of its own per session, batches of 4 MiB, the end
 * of the topic read back at start). Anchor in the same run, order rotated across rounds: Kafka's
 * ProducerPerformance (kafka-tools, acks=all) with records of the CDC records' average size.
 *
 *   npx tsx bench/core-relay.ts [--records 200000] [--rounds 3] [--partitions 6] [--json out.json]
 *
 * The last line printed is the JSON result (also written to --json).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createKafka } from '@pipeline/kafka';
import { producerPerformance } from '@pipeline/stack';
import { uniqueName } from '@pipeline/testing';
import { Catalog, CdcRelay, KafkaCdcOutlet, KafkaRecordSink, LegacyTableBody, legacySchema, MutationEngine, SinkCdcOutlet, SqliteEdgeStore, type CdcOutlet, type RecordSink } from '@pipeline/actionbase';
import { benchKafka, emit, fmtSpread, loadLine, machine, makeWorkload, sleep, spread, TopicCounter } from './core-common';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '6' },
    json: { type: 'string' },
  },
});
const records = Number(values.records);
const rounds = Number(values.rounds);
const partitions = Number(values.partitions);
const silent = pino({ level: 'silent' });

/** A store whose outbox holds the CDC records of `records` mutations; returns its file and the outbox size. */
async function filledStore(): Promise<{ file: string; outbox: number; valueBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const file = join(dir, 'core.db');
  const store = new SqliteEdgeStore(file);
  const catalog = await Catalog.open(store, 'bench');
  await catalog.createDatabase('shop', { comment: '' }, 'bench');
  const b = LegacyTableBody.parse({
    table: 'likes',
    schema: { source: { type: 'STRING' }, target: { type: 'LONG' }, properties: [{ name: 'created_at', type: 'LONG', nullable: false }] },
    direction: 'BOTH',
    indexes: [{ index: 'recent', fields: [{ field: 'created_at', order: 'DESC' }] }],
  });
  await catalog.createTable('shop', b.table, { ...legacySchema(b), mode: b.mode, comment: b.comment, storage: b.storage, readOnly: b.readOnly, event: false }, 'bench');
  const noop: RecordSink = { kind: 'log', publishWal: async () => undefined, publishCdc: async () => undefined, close: async () => undefined };
  // Never started: the outbox keeps every record.
  const parked = new CdcRelay(store, new SinkCdcOutlet(noop), silent, { batchRows: 2000, batchBytes: 1 << 30, maxBackoffMs: 5000, maxRecordBytes: 1 << 20, parkDir: join(dir, 'parked') });
  const engine = new MutationEngine(store, noop, parked, { tenant: 'bench', systemMode: null, recordLimits: { walRecordBytes: 1 << 20, cdcRecordBytes: 1 << 20 } });
  const table = await catalog.resolve('shop', 'likes');
  const w = makeWorkload(42, records, 500);
  for (const body of w.bodies) await engine.mutate(table, JSON.parse(body), { requestMode: null, force: false, actor: 'bench', requestId: 'r' });
  const outbox = await store.outboxSize();
  const sample = await store.readOutbox(0, 1000);
  const valueBytes = Math.round(sample.reduce((a, r) => a + Buffer.byteLength(r.value), 0) / sample.length);
  await store.close();
  return { file, outbox, valueBytes };
}

type Side = 'shared' | 'own';

async function relayRound(side: Side, source: string, outbox: number, bootstrap: string, counter: TopicCounter): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-copy-'));
  const file = join(dir, 'core.db');
  copyFileSync(source, file);
  const topic = uniqueName('bench-relay.cdc');
  const kafka = createKafka({ brokers: [bootstrap], clientId: 'bench-relay' });
  const admin = await kafka.admin();
  await admin.ensureTopics([{ name: topic, partitions }]);
  const store = new SqliteEdgeStore(file);
  const sink = new KafkaRecordSink(await kafka.producer(), { wal: uniqueName('bench-relay.unused'), cdc: topic });
  // `shared`: the relay as it was (2,000 rows a round through the WAL's sink); `own`: as core.ts wires it.
  const outlet: CdcOutlet = side === 'shared' ? new SinkCdcOutlet(sink) : new KafkaCdcOutlet(kafka, topic);
  const batch = side === 'shared' ? { batchRows: 2000, batchBytes: 1 << 30 } : { batchRows: 20_000, batchBytes: 4 * 1024 * 1024 };
  const relay = new CdcRelay(store, outlet, silent, { ...batch, maxBackoffMs: 5000, maxRecordBytes: 1 << 20, parkDir: join(dir, 'parked') });
  try {
    const t0 = performance.now();
    relay.start();
    const tKafka = await counter.until(topic, outbox);
    while (relay.backlog() > 0) await sleep(1);
    return outbox / ((tKafka - t0) / 1000);
  } finally {
    await relay.stop();
    await sink.close();
    await store.close();
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close();
  }
}

async function anchor(bootstrap: string, recordSize: number): Promise<number> {
  const topic = uniqueName('bench-relay.anchor');
  const admin = await createKafka({ brokers: [bootstrap], clientId: 'bench-anchor' }).admin();
  try {
    await admin.ensureTopics([{ name: topic, partitions }]);
    return (await producerPerformance({ bootstrap, topic, records, recordSize, props: { acks: 'all' } })).recordsPerSec;
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined);
    await admin.close();
  }
}

const broker = await benchKafka();
const { bootstrap } = broker;
const counter = await TopicCounter.open(bootstrap);
const before = machine();
const filled = await filledStore();
console.log(`outbox of ${filled.outbox} CDC records (${filled.valueBytes} B on average), ${partitions} partitions, ${rounds} rounds; ${loadLine()}`);
const perRound: { round: number; order: string[]; load1: number; shared: number; own: number; anchor: number }[] = [];
const sides = ['own', 'shared', 'anchor'] as const;
for (let r = 0; r < rounds; r++) {
  const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
  const row = { round: r + 1, order: [...order], load1: machine().load1, shared: 0, own: 0, anchor: 0 };
  for (const side of order) {
    if (side === 'anchor') row.anchor = await anchor(bootstrap, filled.valueBytes);
    else row[side] = await relayRound(side, filled.file, filled.outbox, bootstrap, counter);
  }
  perRound.push(row);
  console.log(
    `round ${r + 1} [${order.join(' → ')}] load ${row.load1}: own ${Math.round(row.own)} records/s (${(row.own / row.anchor).toFixed(2)}×), ` +
      `shared ${Math.round(row.shared)} records/s (${(row.shared / row.anchor).toFixed(2)}×), ProducerPerformance ${Math.round(row.anchor)} records/s`,
  );
}
await counter.close();
await broker.stop();
const result = {
  bench: 'core-relay',
  machine: { before, after: machine() },
  workload: { records: filled.outbox, valueBytes: filled.valueBytes, partitions, rounds },
  relayRate: spread(perRound.map((x) => x.own)),
  sharedRate: spread(perRound.map((x) => x.shared)),
  anchorRate: spread(perRound.map((x) => x.anchor)),
  relayOverAnchor: spread(
    perRound.map((x) => x.own / x.anchor),
    3,
  ),
  sharedOverAnchor: spread(
    perRound.map((x) => x.shared / x.anchor),
    3,
  ),
  rounds: perRound,
};
console.log(`relay (own) ${fmtSpread(result.relayRate, '/s')}; relay (shared) ${fmtSpread(result.sharedRate, '/s')}, over the anchor ${fmtSpread(result.sharedOverAnchor)}; ProducerPerformance ${fmtSpread(result.anchorRate, '/s')}; relay / anchor ${fmtSpread(result.relayOverAnchor)}; ${loadLine()}`);
emit(values.json, result);
