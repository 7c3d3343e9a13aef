/**
 * Druid ingestion lag: from a mutation acknowledged by the core to its CDC row visible in Druid SQL, on the
 * real core, Kafka and Druid (Kafka supervisor from apps/druid-ingest). Baseline in the same run: from the
 * same acknowledgement to the CDC record delivered to a plain Kafka consumer (what any consumer could see).
 *   npx tsx bench/druid-ingest.ts [--samples 40] [--poll-ms 25] [--json <file>]
 * Prints p50/p99 of both, and their ratio. The poll interval bounds the resolution of the Druid figure.
 */
import { parseArgs } from 'node:util';
import { createKafka } from '@pipeline/kafka';
import { waitFor } from '@pipeline/testing';
import { DruidClient, ident } from '@pipeline/druid';
import { applySupervisor, buildSupervisorSpec } from '@pipeline/druid-ingest';
import { dropAll, like, mutate, newDataSource, startEnv, supervisorOptions } from '@pipeline/druid-ingest/testing';
import { emitResult, printLoad, spread } from './lib/report';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '40' }, 'poll-ms': { type: 'string', default: '25' }, json: { type: 'string' } } });
const samples = Number(values.samples);
const pollMs = Number(values['poll-ms']);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
};

async function main(): Promise<void> {
  const loadBefore = printLoad('before');
  const env = await startEnv();
  const druid: DruidClient = env.druid;
  const ds = newDataSource('bench_lag');
  const kafka = createKafka({ brokers: [env.bootstrap], clientId: 'bench-druid-ingest' });
  const seenOnKafka = new Map<string, number>();
  const consumer = await kafka.consumer({ groupId: `bench-druid-${Date.now()}`, topics: [env.cdc], fromBeginning: true, maxWaitMs: 50 });
  const running = consumer.run(async (batch) => {
    const now = Date.now();
    for (const m of batch.messages) if (m.key) seenOnKafka.set(m.key.toString(), now);
  });
  const visible = async (target: number) => {
    const rows = await druid.sql<{ n: number }>(`SELECT COUNT(*) AS n FROM ${ident(ds)} WHERE "target" = ?`, [{ type: 'VARCHAR', value: String(target) }]);
    return (rows[0]?.n ?? 0) > 0;
  };
  try {
    const t0 = Date.now();
    await applySupervisor(druid, buildSupervisorSpec(supervisorOptions(env, ds)));
    await mutate(env.core, env.table, [like('warm', 1, 1)]);
    await waitFor('the supervisor task to serve the first row', () => visible(1).catch(() => false), 300_000);
    console.log(`supervisor created -> first row visible: ${((Date.now() - t0) / 1000).toFixed(1)} s (task start, not counted below)`);

    const druidLag: number[] = [];
    const kafkaLag: number[] = [];
    for (let i = 0; i < samples; i++) {
      const target = 10_000 + i;
      await mutate(env.core, env.table, [like(`u${i}`, target, 100 + i)]);
      const acked = Date.now();
      for (;;) {
        if (await visible(target)) break;
        if (Date.now() - acked > 60_000) throw new Error(`target ${target} not visible in Druid after 60 s`);
        await new Promise((r) => setTimeout(r, pollMs));
      }
      druidLag.push(Date.now() - acked);
      const key = `u${i}:${target}`;
      const seen = await waitFor(`CDC record ${key} on Kafka`, async () => seenOnKafka.get(key), 30_000);
      kafkaLag.push(Math.max(0, seen - acked));
    }
    const row = (name: string, xs: number[]) => `${name.padEnd(34)} p50 ${String(pct(xs, 50)).padStart(5)} ms   p99 ${String(pct(xs, 99)).padStart(5)} ms   max ${String(Math.max(...xs)).padStart(5)} ms`;
    console.log(`samples: ${samples} mutations, one at a time; Druid polled every ${pollMs} ms`);
    console.log(row('ack -> CDC on a Kafka consumer', kafkaLag));
    console.log(row('ack -> visible in Druid SQL', druidLag));
    console.log(`ratio Druid / Kafka consumer: p50 x${(pct(druidLag, 50) / Math.max(1, pct(kafkaLag, 50))).toFixed(1)}, p99 x${(pct(druidLag, 99) / Math.max(1, pct(kafkaLag, 99))).toFixed(1)}`);
    // Each sample is its own round: the same mutation timed to both ends.
    emitResult({
      bench: 'druid-ingest',
      rounds: samples,
      params: { samples, pollMs },
      load: { before: loadBefore, after: printLoad('after') },
      rows: [
        { name: 'ack -> CDC on a Kafka consumer', unit: 'ms', value: spread(kafkaLag) },
        { name: 'ack -> visible in Druid SQL', unit: 'ms', value: spread(druidLag) },
      ],
      notes: [`Druid p99 ${pct(druidLag, 99)} ms against the Kafka consumer's p99 ${pct(kafkaLag, 99)} ms`],
    });
  } finally {
    await consumer.close();
    await running.catch(() => undefined);
    await dropAll(druid, ds);
    await env.core.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
