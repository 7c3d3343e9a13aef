/**
 * The project's Kafka client, on @platformatic/kafka (see docs/kafka-client.md for why that one).
 * Producer: idempotent, acks=all, Java-compatible murmur2 partitioning on the key, replaced after a failed send.
 * Errors that mean "Kafka is not reachable now" become KafkaUnavailableError (retryable).
 */
import { Admin as PltAdmin, Producer as PltProducer, ListOffsetTimestamps } from '@platformatic/kafka';
import { baseOptions, guarded, resolveConfig, type ResolvedConfig } from './config';
import { createConsumer } from './consumer';
import { KafkaUnavailableError, toKafkaError } from './errors';
import { positiveKeyHash } from './partitioner';
import { readRange } from './range';
import { RenewingProducer } from './renewing-producer';
import type { Admin, Consumer, ConsumerOptions, GroupMember, KafkaConfig, OutgoingMessage, Producer, RangeBatch, ReadRangeOptions, TopicSpec } from './types';

export interface KafkaClient {
  producer(): Promise<Producer>;
  admin(): Promise<Admin>;
  consumer(opts: ConsumerOptions): Promise<Consumer>;
  /** A bounded read without a consumer group (see ReadRangeOptions); stop early with `break`. */
  readRange(opts: ReadRangeOptions): AsyncIterable<RangeBatch>;
}

const toBuffer = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

class PlatformaticProducer implements Producer {
  readonly p: PltProducer;
  private readonly roundRobin = new Map<string, number>();

  constructor(private readonly cfg: ResolvedConfig) {
    this.p = new PltProducer({
      ...baseOptions(cfg, 'producer'),
      retries: Math.max(2, cfg.retries), // the client turns retries <= 1 into "forever" for idempotent producers
      idempotent: true,
      acks: -1,
      partitioner: (message, key) => this.partition(message.topic, key),
    });
  }

  async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    // Senders that put the same headers on every record pass one object: it is encoded once per send.
    let lastHeaders: Record<string, string> | undefined;
    let lastEncoded: Map<Buffer, Buffer> | undefined;
    const records = messages.map((m) => {
      let headers: Map<Buffer, Buffer> | undefined;
      if (m.headers) {
        if (m.headers !== lastHeaders) {
          lastHeaders = m.headers;
          lastEncoded = new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));
        }
        headers = lastEncoded;
      }
      return {
        topic,
        key: m.key === null ? undefined : Buffer.from(m.key, 'utf8'),
        value: toBuffer(m.value),
        ...(headers ? { headers } : {}),
        ...(m.partition !== undefined ? { partition: m.partition } : {}),
      };
    });
    await guarded(this.cfg, `send to ${topic}`, () => this.p.send({ messages: records }));
  }

  /** Keyed: Java's toPositive(murmur2(key)), which the client takes modulo the partition count. Unkeyed: round robin. */
  private partition(topic: string, key: Buffer | undefined): number {
    if (key) return positiveKeyHash(key);
    const n = this.roundRobin.get(topic) ?? 0;
    this.roundRobin.set(topic, (n + 1) & 0x7fffffff);
    return n;
  }

  async close(): Promise<void> {
    await this.p.close().catch(() => undefined);
  }
}

async function createProducer(cfg: ResolvedConfig): Promise<Producer> {
  const producer = new PlatformaticProducer(cfg);
  try {
    // Connect and get a producer id now, so a missing broker shows at start-up, not at the first send.
    await guarded(cfg, 'start the idempotent producer', () => producer.p.initIdempotentProducer({}));
  } catch (err) {
    await producer.close();
    throw err;
  }
  return producer;
}

class PlatformaticAdmin implements Admin {
  constructor(
    private readonly cfg: ResolvedConfig,
    private readonly a: PltAdmin,
  ) {}

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (!specs.length) return;
    const existing = new Set(await this.listTopics());
    for (const spec of specs) {
      if (existing.has(spec.name)) continue;
      const configs = Object.entries({
        ...(spec.retentionMs !== undefined ? { 'retention.ms': String(spec.retentionMs) } : {}),
        ...spec.configs,
      }).map(([name, value]) => ({ name, value }));
      try {
        await guarded(this.cfg, `create topic ${spec.name}`, () =>
          this.a.createTopics({ topics: [spec.name], partitions: spec.partitions, replicas: spec.replicationFactor ?? -1, configs }),
        );
      } catch (err) {
        if (!hasApiId(err, 'TOPIC_ALREADY_EXISTS')) throw err;
      }
    }
    await this.waitForLeaders(specs.map((s) => s.name));
  }

  /** Waits until every partition of the topics has a leader (a produce right after creation then succeeds). */
  private async waitForLeaders(topics: string[]): Promise<void> {
    const deadline = Date.now() + this.cfg.deadlineMs;
    for (;;) {
      try {
        const md = await this.a.metadata({ topics, forceUpdate: true });
        const ready = topics.every((t) => {
          const tm = md.topics.get(t);
          return tm !== undefined && tm.partitions.length === tm.partitionsCount && tm.partitions.every((p) => p && p.leader >= 0);
        });
        if (ready) return;
      } catch (err) {
        if (Date.now() > deadline) throw toKafkaError(err, `wait for leaders of ${topics.join(',')}`, this.cfg.brokers);
      }
      if (Date.now() > deadline) {
        throw new KafkaUnavailableError(`wait for leaders of ${topics.join(',')}`, this.cfg.brokers, new Error('partitions without leader'));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (!names.length) return;
    const existing = new Set(await this.listTopics());
    const toDelete = names.filter((n) => existing.has(n));
    if (!toDelete.length) return;
    try {
      await guarded(this.cfg, `delete topics ${toDelete.join(',')}`, () => this.a.deleteTopics({ topics: toDelete }));
    } catch (err) {
      if (!hasApiId(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw err;
    }
  }

  listTopics(): Promise<string[]> {
    return guarded(this.cfg, 'list topics', () => this.a.listTopics());
  }

  endOffsets(topic: string): Promise<Map<number, bigint>> {
    return guarded(this.cfg, `end offsets of ${topic}`, () => this.offsetsAt(topic, ListOffsetTimestamps.LATEST));
  }

  offsetsForTime(topic: string, timeMs: number): Promise<Map<number, bigint>> {
    return guarded(this.cfg, `offsets of ${topic} at ${new Date(timeMs).toISOString()}`, async () => {
      const at = await this.offsetsAt(topic, BigInt(Math.floor(timeMs)));
      // -1: no record at or after the time yet; the end offset is where such a record would go.
      if ([...at.values()].some((o) => o < 0n)) {
        const ends = await this.offsetsAt(topic, ListOffsetTimestamps.LATEST);
        for (const [p, o] of at) if (o < 0n) at.set(p, ends.get(p) ?? 0n);
      }
      return at;
    });
  }

  private async offsetsAt(topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
    const md = await this.a.metadata({ topics: [topic], forceUpdate: true });
    const count = md.topics.get(topic)?.partitionsCount ?? 0;
    const res = await this.a.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: count }, (_, partitionIndex) => ({ partitionIndex, timestamp })) }],
    });
    const out = new Map<number, bigint>();
    for (const t of res) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
    return new Map([...out].sort(([a], [b]) => a - b));
  }

  async committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    return guarded(this.cfg, `committed offsets of ${groupId} on ${topic}`, async () => {
      const res = await this.a.listConsumerGroupOffsets({ groups: [groupId] });
      const out = new Map<number, bigint>();
      for (const g of res) {
        for (const t of g.topics) {
          if (t.name !== topic) continue;
          for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, p.committedOffset);
        }
      }
      return new Map([...out].sort(([a], [b]) => a - b));
    });
  }

  groupMembers(groupId: string): Promise<GroupMember[]> {
    return guarded(this.cfg, `members of the group ${groupId}`, async () => {
      const group = (await this.a.describeGroups({ groups: [groupId] })).get(groupId);
      return [...(group?.members.values() ?? [])].map((m) => ({ memberId: m.id, clientId: m.clientId, clientHost: m.clientHost }));
    });
  }

  async close(): Promise<void> {
    await this.a.close().catch(() => undefined);
  }
}

function hasApiId(err: unknown, apiId: string, depth = 0): boolean {
  if (depth > 6 || typeof err !== 'object' || err === null) return false;
  const e = err as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (e.apiId === apiId) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => hasApiId(x, apiId, depth + 1))) return true;
  return hasApiId(e.cause, apiId, depth + 1);
}

async function createAdmin(cfg: ResolvedConfig): Promise<Admin> {
  const a = new PltAdmin(baseOptions(cfg, 'admin'));
  try {
    await guarded(cfg, 'connect the admin client', () => a.metadata({ topics: [] }));
  } catch (err) {
    await a.close().catch(() => undefined);
    throw err;
  }
  return new PlatformaticAdmin(cfg, a);
}

export function createKafka(config: KafkaConfig): KafkaClient {
  const cfg = resolveConfig(config);
  return {
    // A new idempotent producer after a failed send (see RenewingProducer); the first one connects now.
    producer: async () => new RenewingProducer(() => createProducer(cfg), await createProducer(cfg)),
    admin: () => createAdmin(cfg),
    consumer: (opts: ConsumerOptions) => createConsumer(cfg, opts),
    readRange: (opts: ReadRangeOptions) => readRange(cfg, opts),
  };
}
