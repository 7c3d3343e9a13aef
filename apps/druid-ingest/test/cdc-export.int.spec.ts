/**
 * The backfill's CDC export on the real broker (Kafka only): records of a processedAt range go to the file,
 * everything else is counted as skipped, and no consumer group is left behind.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { ensureKafka } from '@pipeline/stack';
import { encodeCdc, type CdcRecord } from '@pipeline/events';
import { createKafka, type Admin, type Producer } from '@pipeline/kafka';
import { uniqueTopic } from '@pipeline/kafka/testing';
import { tempDir } from '@pipeline/testing';
import { exportCdcRange } from '../src/cdc.export';

let bootstrap: string;
let admin: Admin;
let producer: Producer;

beforeAll(async () => {
  ({ bootstrap } = await ensureKafka());
  admin = await createKafka({ brokers: [bootstrap], clientId: 'cdc-export-it' }).admin();
  producer = await createKafka({ brokers: [bootstrap], clientId: 'cdc-export-it' }).producer();
}, 180_000);

afterAll(async () => {
  await producer?.close();
  await admin?.close();
});

const cdc = (target: number, processedAt: number): CdcRecord => ({
  version: '3',
  type: 'e',
  processedAt,
  lockAt: processedAt,
  seq: processedAt * 2048 + target,
  status: 'CREATED',
  accumulator: 1,
  message: null,
  context: { tenant: 'demo', database: 'shop', table: 'likes', alias: null, request: { actor: 'it', requestId: `r-${target}` } },
  events: [{ id: `01KB0ZQ3M4N8RW6T2Y5V9XH${String(target).padStart(3, '0')}`, requestId: `r-${target}`, type: 'INSERT', version: processedAt, source: 'u-1', target, properties: {} }],
  before: null,
  after: { source: 'u-1', target, active: true, version: processedAt, createdAt: processedAt, deletedAt: null, properties: {} },
});

describe('exportCdcRange', () => {
  it('writes the records whose processedAt lies in [from, to) and counts the rest as skipped', async () => {
    const topic = uniqueTopic('druid-export');
    await admin.ensureTopics([{ name: topic, partitions: 3 }]);
    const now = Date.now();
    const inside = Array.from({ length: 30 }, (_, i) => cdc(i, now - 60_000 + i));
    const outside = [cdc(100, now - 3_600_000), cdc(101, now + 3_600_000)];
    await producer.send(topic, [...outside, ...inside].map((r) => ({ key: `u-1:${r.type === 'e' ? r.after!.target : ''}`, value: encodeCdc(r) })));
    await producer.send(topic, [{ key: 'bad', value: 'not json' }]);
    const file = path.join(tempDir('cdc-export'), 'out.json');

    const result = await exportCdcRange(createKafka({ brokers: [bootstrap], clientId: 'cdc-export-it' }), { topic, fromMs: now - 600_000, toMs: now, file });

    expect(result).toMatchObject({ written: 30, skipped: { outOfRange: 2, undecodable: 1, system: 0, vertex: 0 } });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CdcRecord);
    expect(lines.map((r) => r.processedAt).sort((a, b) => a - b)).toEqual(inside.map((r) => r.processedAt));
  }, 60_000);
});
