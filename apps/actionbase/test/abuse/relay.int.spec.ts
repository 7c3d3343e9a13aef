/**
 * One CDC record the broker refuses must not hold back the others. The CDC topic's limit is lowered
 * after the core read it, so the core accepts a record that the broker then refuses: the relay sets it
 * aside (file, metric, log line) and later records keep flowing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, dataRecords, freePort, tempStorage, uniqueName, waitFor } from '@pipeline/testing';
import { base, createTable, insert, TABLE } from './harness';

describe('abuse: a CDC record the broker refuses', () => {
  let bootstrap: string;
  let core: CoreProcess;
  let wal: string;
  let cdc: string;
  let storage: string;

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    wal = uniqueName('abuse-relay.wal');
    cdc = uniqueName('abuse-relay.cdc');
    const admin = new Admin({ clientId: 'abuse-relay', bootstrapBrokers: [bootstrap] });
    try {
      await admin.createTopics({ topics: [wal, cdc], partitions: 1, replicas: 1, configs: [{ name: 'max.message.bytes', value: '4000000' }] });
    } finally {
      await admin.close();
    }
    storage = tempStorage();
    core = new CoreProcess({ PORT: String(await freePort()), KAFKA_BROKERS: bootstrap, WAL_TOPIC: wal, CDC_TOPIC: cdc, STORAGE_PATH: storage, LOG_LEVEL: 'info' });
    await core.start();
    await createTable(core.url, TABLE);
  });
  afterAll(async () => core?.stop('SIGKILL'));

  it('is set aside with a metric and a log line, and the records after it are relayed', async () => {
    // the core read 4 MB; the broker now takes 1 MiB
    await setCdcLimit('1048588');
    // WAL record ~700 kB (fits), CDC record ~1.4 MB (event and state after): accepted by the core
    const big = await api(core.url, 'POST', `${base()}/edges`, { mutations: [insert('a', 'big', 1, { note: 'x'.repeat(700_000) })] });
    expect(big.status).toBe(200);
    const after = await api(core.url, 'POST', `${base()}/edges`, { mutations: [insert('a', 'small', 2, { n: 2 })] });
    expect(after.status).toBe(200);

    const records = await waitFor('the CDC record written after the refused one', async () => {
      const recs = await dataRecords(bootstrap, cdc);
      return recs.some((r) => r.value.after?.target === 'small') && recs;
    }, 60_000);
    expect(records.filter((r) => r.value.context?.table === TABLE).map((r) => r.value.after.target)).toEqual(['small']);

    const parkDir = `${storage}.cdc-parked`;
    expect(existsSync(parkDir)).toBe(true);
    const parked = readdirSync(parkDir).filter((f) => f.endsWith('.json'));
    expect(parked).toHaveLength(1);
    const kept = JSON.parse(readFileSync(`${parkDir}/${parked[0]}`, 'utf8'));
    expect(kept).toMatchObject({ key: 'a:big', reason: expect.stringMatching(/refused by the broker/) });
    expect(JSON.parse(kept.value).after.properties.note.value).toHaveLength(700_000);

    const ready = await api(core.url, 'GET', '/graph/health/details');
    expect(ready.body).toMatchObject({ cdcParked: 1, cdcBacklog: 0 });
    const metrics = await (await fetch(`${core.url}/metrics`)).text();
    expect(metrics).toMatch(/^actionbase_cdc_parked_total 1$/m);
    expect(core.output).toMatch(/CDC record set aside/);

    // the state itself was committed: the edge is readable
    const got = await api(core.url, 'GET', `${base()}/edges/get?source=a&target=big`);
    expect(got.body.edges).toHaveLength(1);
  });

  it('a committed record over the limit the core knows is set aside without trying; a new one is refused before the WAL', async () => {
    // a core that knows 4 MB commits a big record and dies before relaying it
    await setCdcLimit('4000000');
    await core.stop();
    await core.start({ FAULT_CRASH_AFTER_COMMIT: 'true' });
    const died = await api(core.url, 'POST', `${base()}/edges`, { mutations: [insert('c', 'big3', 5, { note: 'y'.repeat(700_000) })] }).then(
      () => false,
      () => true,
    );
    expect(died).toBe(true);
    await core.exited();
    // the next core reads 1 MiB: the relay sets the record aside at once and goes on
    await setCdcLimit('1048588');
    await core.start();
    const small = await api(core.url, 'POST', `${base()}/edges`, { mutations: [insert('b', 'small', 3, { n: 3 })] });
    expect(small.status).toBe(200);
    await waitFor('the CDC record of the write after the restart', async () => (await dataRecords(bootstrap, cdc)).some((r) => r.value.after?.source === 'b'), 60_000);
    const parked = readdirSync(`${storage}.cdc-parked`).filter((f) => f.endsWith('.json'));
    expect(parked).toHaveLength(2);
    expect(core.output).toMatch(/over the CDC topic's limit of/);
    expect((await dataRecords(bootstrap, cdc)).some((r) => r.value.after?.target === 'big3')).toBe(false);
    // and a new big record is refused before the WAL
    const walBefore = (await dataRecords(bootstrap, wal)).length;
    const big = await api(core.url, 'POST', `${base()}/edges`, { mutations: [insert('a', 'big2', 4, { note: 'x'.repeat(700_000) })] });
    expect(big.status).toBe(400);
    expect(big.body.message).toMatch(/CDC topic takes/);
    expect((await dataRecords(bootstrap, wal)).length).toBe(walBefore);
  });

  async function setCdcLimit(value: string): Promise<void> {
    const plt = new Admin({ clientId: 'abuse-relay-alter', bootstrapBrokers: [bootstrap] });
    try {
      await plt.incrementalAlterConfigs({
        resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: cdc, configs: [{ name: 'max.message.bytes', configOperation: 0, value }] }],
      });
    } finally {
      await plt.close();
    }
  }
});
