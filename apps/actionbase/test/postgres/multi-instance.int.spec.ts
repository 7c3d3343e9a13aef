/**
 * Three core processes on one PostgreSQL database and one pair of WAL/CDC topics; 20 clients spread
 * mutations of the same keys over all three. The stored state must equal an independent oracle (the
 * highest version of each key decides), counts and index scans must be exact, exactly one instance
 * relays the outbox, and each key's CDC records must arrive in version order. Then the relay leader
 * and another instance are killed with SIGKILL under load: no acknowledged write is lost, a follower
 * takes the relay over, and the CDC is complete.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ensureKafka } from '@pipeline/stack';
import { api, CoreProcess, createLikes, createTestDatabase, dataRecords, freePort, tempStorage, uniqueName, waitFor } from '@pipeline/testing';

const TABLE = '/graph/v3/databases/shop/tables/likes';
const SOURCES = ['u1', 'u2'];
const TARGETS = [1, 2, 3, 4, 5, 6, 7, 8];

interface Event {
  type: 'INSERT' | 'DELETE';
  source: string;
  target: number;
  version: number;
}

/** The oracle: per key, the event of the highest version decides whether the edge is there. */
function oracle(events: Event[]): Map<string, Event> {
  const last = new Map<string, Event>();
  for (const e of events) {
    const k = `${e.source}:${e.target}`;
    if ((last.get(k)?.version ?? -1) < e.version) last.set(k, e);
  }
  return last;
}

describe('three core instances on one PostgreSQL', () => {
  let bootstrap: string;
  let wal: string;
  let cdc: string;
  let cores: CoreProcess[] = [];
  let nextVersion = 1;
  const acknowledged: Event[] = [];

  beforeAll(async () => {
    bootstrap = (await ensureKafka()).bootstrap;
    wal = uniqueName('multi.wal');
    cdc = uniqueName('multi.cdc');
    const url = await createTestDatabase();
    cores = await Promise.all(
      [0, 1, 2].map(
        async () =>
          new CoreProcess({
            PORT: String(await freePort()),
            STORAGE: 'postgres',
            DATABASE_URL: url,
            PG_POOL_SIZE: '6',
            KAFKA_BROKERS: bootstrap,
            WAL_TOPIC: wal,
            CDC_TOPIC: cdc,
            WAL_PARTITIONS: '3',
            CDC_PARTITIONS: '3',
            STORAGE_PATH: tempStorage(),
            LOG_LEVEL: 'warn',
            HEARTBEAT_INTERVAL_MS: '3600000',
          }),
      ),
    );
    // One after the other, to stay within the start deadline on a loaded machine (test/postgres/pg-store
    // shows instances migrating at once).
    for (const c of cores) await c.start();
    await createLikes(cores[0]!.url, 'likes');
    // The table created on one instance is served by the others once they heard of it.
    for (const c of cores) await waitFor(`the table on ${c.url}`, async () => (await api(c.url, 'GET', `${TABLE}/edges/count?start=u1&direction=OUT`)).status === 200);
  });
  afterAll(async () => {
    for (const c of cores) await c.stop('SIGKILL');
  });

  const alive = () => cores.filter((c) => c.child && c.child.exitCode === null && c.child.signalCode === null);

  /**
   * 20 clients, each sending `requests` requests of 1-4 mutations on the shared keys, round-robin over
   * the live instances. Versions are unique and handed out shuffled, so they reach the cores out of
   * order. A request that fails (its instance died) is sent again, as is, to another instance: the same
   * events again are idempotent, so every mutation ends acknowledged.
   */
  async function load(requests: number, during?: () => Promise<void>): Promise<void> {
    let turn = 0;
    const client = async (id: number) => {
      for (let i = 0; i < requests; i++) {
        const events: Event[] = Array.from({ length: 1 + ((id + i) % 4) }, () => ({
          type: Math.random() < 0.2 ? 'DELETE' : 'INSERT',
          source: SOURCES[Math.floor(Math.random() * SOURCES.length)]!,
          target: TARGETS[Math.floor(Math.random() * TARGETS.length)]!,
          version: nextVersion++ * 7 + Math.floor(Math.random() * 7), // unique, not in sending order
        }));
        const body = { mutations: events.map((e) => ({ type: e.type, edge: { version: e.version, source: e.source, target: e.target, properties: e.type === 'DELETE' ? {} : { created_at: e.version } } })) };
        for (let attempt = 0; ; attempt++) {
          const live = alive();
          const core = live[turn++ % live.length]!;
          const r = await api(core.url, 'POST', `${TABLE}/edges`, body).catch(() => undefined);
          if (r?.status === 200) break;
          if (attempt > 50) throw new Error(`request never acknowledged: ${JSON.stringify(r?.body)}`);
          await new Promise((res) => setTimeout(res, 50));
        }
        acknowledged.push(...events);
      }
    };
    await Promise.all([...Array.from({ length: 20 }, (_, id) => client(id)), during?.()]);
  }

  async function leaders(): Promise<CoreProcess[]> {
    const out: CoreProcess[] = [];
    for (const c of alive()) if ((await api(c.url, 'GET', '/graph/health/details')).body.relayLeader === true) out.push(c);
    return out;
  }

  /** The state read back from every live instance equals the oracle; counts and the index are exact. */
  async function expectOracleState(): Promise<void> {
    const expected = oracle(acknowledged);
    const activeKeys = [...expected.values()].filter((e) => e.type === 'INSERT');
    for (const c of alive()) {
      const got = await api(c.url, 'GET', `${TABLE}/edges/get?source=${SOURCES.join(',')}&target=${TARGETS.join(',')}`);
      const seen = new Map((got.body.edges as { source: string; target: number; version: number; properties: { created_at: number } }[]).map((e) => [`${e.source}:${e.target}`, e]));
      expect([...seen.keys()].sort()).toEqual(activeKeys.map((e) => `${e.source}:${e.target}`).sort());
      for (const e of activeKeys) expect(seen.get(`${e.source}:${e.target}`)).toMatchObject({ version: e.version, properties: { created_at: e.version } });
      for (const s of SOURCES) {
        const mine = activeKeys.filter((e) => e.source === s).sort((a, b) => b.version - a.version);
        expect((await api(c.url, 'GET', `${TABLE}/edges/count?start=${s}&direction=OUT`)).body.count).toBe(mine.length);
        const scan = await api(c.url, 'GET', `${TABLE}/edges/scan/recent?start=${s}&direction=OUT&limit=100`);
        expect(scan.body.edges.map((e: { target: number }) => e.target)).toEqual(mine.map((e) => e.target));
      }
      for (const t of TARGETS)
        expect((await api(c.url, 'GET', `${TABLE}/edges/count?start=${t}&direction=IN`)).body.count).toBe(activeKeys.filter((e) => e.target === t).length);
    }
  }

  /** Every key's CDC records are in seq order and version order in their partition, and the last one is the oracle's state. */
  async function expectCompleteCdc(): Promise<void> {
    const expected = oracle(acknowledged);
    await waitFor(
      'the CDC of every key to reach its final state',
      async () => {
        const records = await dataRecords(bootstrap, cdc);
        const byKey = new Map<string, { seq: number; version: number; active: boolean }[]>();
        for (const r of records) {
          const list = byKey.get(r.key!) ?? [];
          list.push({ seq: r.value.seq, version: r.value.after?.version ?? 0, active: r.value.after?.active === true });
          byKey.set(r.key!, list);
        }
        for (const [key, e] of expected) {
          const list = byKey.get(key);
          const last = list?.reduce((a, b) => (b.seq > a.seq ? b : a)); // the newest, wherever a re-sent copy put it
          if (!last || last.version !== e.version || last.active !== (e.type === 'INSERT')) return false;
        }
        // Order per key, each record once. A new relay leader reads the end of every CDC partition back before it
        // sends, and skips what the killed leader published and had not yet deleted from the outbox.
        for (const [key, list] of byKey) {
          let top = { seq: -1, version: -1 };
          for (const r of list) {
            if (r.seq === top.seq) throw new Error(`CDC of ${key}: seq ${r.seq} is on the topic twice`);
            if (r.seq < top.seq) throw new Error(`CDC of ${key} out of seq order: ${top.seq} then ${r.seq}`);
            if (r.version < top.version) throw new Error(`CDC of ${key} out of version order: ${top.version} then ${r.version}`);
            top = r;
          }
        }
        return true;
      },
      90_000,
    );
  }

  it('20 clients over 3 instances: state, counts, index and CDC match the oracle; one relay leader', async () => {
    await load(15);
    await expectOracleState();
    expect(await waitFor('exactly one relay leader', async () => (await leaders()).length === 1)).toBe(true);
    await expectCompleteCdc();
  });

  it('kill -9 of the relay leader and of another instance under load: nothing acknowledged is lost, a follower relays, CDC is complete', async () => {
    const [leader] = await leaders();
    expect(leader).toBeDefined();
    await load(15, async () => {
      await new Promise((r) => setTimeout(r, 300));
      leader!.child!.kill('SIGKILL');
      await leader!.exited();
      await new Promise((r) => setTimeout(r, 300));
      alive()[0]!.child!.kill('SIGKILL');
    });
    expect(alive()).toHaveLength(1);
    // The survivor takes the relay lease once the dead sessions are gone.
    await waitFor('the survivor to lead the relay', async () => (await leaders()).length === 1, 30_000);
    await expectOracleState();
    await expectCompleteCdc();
  });
});
