/**
 * A synthetic workload on a real core: normal users liking and unliking items at a human pace, with bots mixed in
 * (bursts of one actor, insert/delete flapping on one edge, fan-out of one source, and a like farm making one
 * item spike). Every request carries its X-Actor-ID, which the core writes into the CDC context. The function
 * returns the ground truth: which users are bots and what each is expected to trip.
 */
import type { AlertRule } from '@pipeline/events';
import { seededRandom } from '../src/spec-helpers';

export interface WorkloadRules {
  burstLimit: number;
  burstWindowMs: number;
  flapToggles: number;
  flapWindowMs: number;
  fanOutTargets: number;
  fanOutWindowMs: number;
  spikeBucketMs: number;
  spikeMinGrowth: number;
}

/** The rules file the workload is built around (small windows, so the whole run takes seconds). */
export function rulesFile(r: WorkloadRules, table = 'shop.likes') {
  return {
    tables: {
      [table]: {
        burst: [{ name: 'actor-burst', by: 'actor', limit: r.burstLimit, windowMs: r.burstWindowMs }],
        flapping: [{ name: 'edge-flapping', toggles: r.flapToggles, windowMs: r.flapWindowMs }],
        fanOut: [{ name: 'source-fan-out', targets: r.fanOutTargets, windowMs: r.fanOutWindowMs }],
        targetSpike: [{ name: 'target-spike', bucketMs: r.spikeBucketMs, alpha: 0.3, zScore: 4, minGrowth: r.spikeMinGrowth, minStddev: 1 }],
      },
    },
  };
}

export const TEST_RULES: WorkloadRules = {
  burstLimit: 30,
  burstWindowMs: 5_000,
  flapToggles: 6,
  flapWindowMs: 10_000,
  fanOutTargets: 25,
  fanOutWindowMs: 5_000,
  spikeBucketMs: 2_000,
  spikeMinGrowth: 15,
};

export interface Truth {
  /** Each bot (actor, source or target id) with the rule it was built to trip. */
  bots: Map<string, AlertRule>;
  normalUsers: string[];
  requests: number;
  mutations: number;
}

export interface WorkloadOptions {
  coreUrl: string;
  table: string;
  rules: WorkloadRules;
  normalUsers?: number;
  /** How long normal traffic goes on; bots act in its middle, and it keeps going long enough to close their windows. */
  durationMs?: number;
  seed?: number;
}

export const SPIKE_TARGET = 999_999;

export async function runWorkload(o: WorkloadOptions): Promise<Truth> {
  const nUsers = o.normalUsers ?? 40;
  const durationMs = o.durationMs ?? 12_000;
  const rnd = seededRandom(o.seed ?? 17);
  let clock = Date.now() * 1000;
  const version = () => ++clock; // microseconds: strictly increasing per edge whatever the request rate
  const truth: Truth = { bots: new Map(), normalUsers: [], requests: 0, mutations: 0 };

  async function send(actor: string, mutations: unknown[]): Promise<void> {
    const res = await fetch(`${o.coreUrl}/graph/v3/databases/shop/tables/${o.table}/edges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-actor-id': actor, 'x-request-id': `${actor}-${truth.requests}` },
      body: JSON.stringify({ mutations }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`mutation by ${actor}: ${res.status} ${text}`);
    truth.requests++;
    truth.mutations += mutations.length;
  }
  const like = (source: string, target: number) => {
    const v = version();
    return { type: 'INSERT', edge: { version: v, source, target, properties: { created_at: v } } };
  };
  const unlike = (source: string, target: number) => ({ type: 'DELETE', edge: { version: version(), source, target, properties: {} } });

  const users = Array.from({ length: nUsers }, (_, i) => `user-${i}`);
  truth.normalUsers = users;
  const liked = new Map<string, number[]>(users.map((u) => [u, []]));

  /** One round of humans: a few users each like (or now and then unlike) one item. */
  async function humans(): Promise<void> {
    const active = users.filter(() => rnd() < 0.2);
    await Promise.all(
      active.map((u) => {
        const mine = liked.get(u)!;
        if (mine.length > 0 && rnd() < 0.15) return send(u, [unlike(u, mine.splice(Math.floor(rnd() * mine.length), 1)[0]!)]);
        // Now and then a human likes the item that will spike, so it has a (small) baseline before the farm.
        const target = rnd() < 0.05 && !mine.includes(SPIKE_TARGET) ? SPIKE_TARGET : 1 + Math.floor(rnd() * 300);
        mine.push(target);
        return send(u, [like(u, target)]);
      }),
    );
  }

  const r = o.rules;
  const bots: (() => Promise<void>)[] = [
    // Credential stuffing: one actor acting for many accounts, twice the burst limit in one request.
    ...[0, 1, 2].map((k) => async () => {
      const actor = `bot-burst-${k}`;
      truth.bots.set(actor, 'burst');
      await send(actor, Array.from({ length: 2 * r.burstLimit }, (_, j) => like(`acct-${k}-${j}`, 1 + ((j * 7) % 300))));
    }),
    // Flapping: like, unlike, like ... one edge, twice the toggle limit, each as its own request.
    ...[0, 1, 2].map((k) => async () => {
      const source = `bot-flap-${k}`;
      truth.bots.set(source, 'flapping');
      for (let i = 0; i < 2 * r.flapToggles; i++) await send(source, [i % 2 === 0 ? like(source, 777) : unlike(source, 777)]);
    }),
    // Fan-out: one account liking twice the fan-out limit of distinct items at once (but under the burst limit).
    ...[0, 1, 2].map((k) => async () => {
      const source = `bot-fan-${k}`;
      truth.bots.set(source, 'fan-out');
      const n = Math.min(2 * r.fanOutTargets, r.burstLimit - 1);
      await send(source, Array.from({ length: n }, (_, j) => like(source, 1000 + k * 100 + j)));
    }),
    // A like farm: many accounts, one like each, all on one item within one bucket.
    async () => {
      truth.bots.set(String(SPIKE_TARGET), 'target-spike');
      await Promise.all(Array.from({ length: 2 * r.spikeMinGrowth }, (_, j) => send(`farm-${j}`, [like(`farm-${j}`, SPIKE_TARGET)])));
    },
  ];

  const start = Date.now();
  const botsAt = durationMs * 0.4;
  let botsDone: Promise<void> | undefined;
  while (Date.now() - start < durationMs) {
    const round = humans();
    if (!botsDone && Date.now() - start >= botsAt) botsDone = Promise.all(bots.map((b) => b())).then(() => undefined);
    await Promise.all([round, new Promise((res) => setTimeout(res, 150))]);
  }
  await botsDone;
  return truth;
}
