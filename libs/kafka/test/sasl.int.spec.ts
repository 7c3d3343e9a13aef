/**
 * @pipeline/kafka against a private broker (own folder and ports; the shared one stays PLAINTEXT) that speaks
 * SASL/SCRAM and authorises with ACLs: each app's principal may use only its own topics and consumer groups.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { AclOperations, AclPermissionTypes, Admin as PltAdmin, ResourcePatternTypes, ResourceTypes, type Acl } from '@platformatic/kafka';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { cleanKafka, ensureKafka, stackDir } from '@pipeline/stack';
import { createKafka, type Consumer, type KafkaConfig } from '../src/index';
import { uniqueTopic } from '../src/testing';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

const ADMIN = { username: 'admin', password: 'admin-Secret-7391' };
const USERS = { 'es-indexer': 'indexer-Secret-2845', snapshotter: 'snapshot-Secret-5102' };
const scram = (username: string, password: string) => ({ mechanism: 'SCRAM-SHA-512' as const, username, password });

/** Every message of an error and of its causes (the client nests the broker's error codes in AggregateErrors). */
function messages(err: unknown, depth = 0): string {
  if (!(err instanceof Error) || depth > 6) return String(err);
  const inner = [...((err as { errors?: unknown[] }).errors ?? []), ...(err.cause !== undefined ? [err.cause] : [])];
  return [err.message, ...inner.map((e) => messages(e, depth + 1))].join(' <- ');
}
const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', messages);

describe('SASL/SCRAM with ACLs on a private broker', () => {
  let bootstrap: string;
  let opts: Parameters<typeof ensureKafka>[0];
  const walTopic = uniqueTopic('sasl-wal');
  const snapTopic = uniqueTopic('sasl-snap');
  const as = (username: string, password: string, extra: Partial<KafkaConfig> = {}) =>
    createKafka({ brokers: [bootstrap], clientId: `sasl-${username}`, requestTimeoutMs: 3_000, retries: 5, retryDelayMs: 500, sasl: scram(username, password), ...extra });
  const open: Consumer[] = [];

  beforeAll(async () => {
    const root = path.join(stackDir(), `it-kafka-sasl-${process.pid}`);
    opts = { dir: path.join(root, 'kafka'), port: await freePort(), controllerPort: await freePort(), sasl: { admin: ADMIN, users: USERS } };
    ({ bootstrap } = await ensureKafka(opts));
    const admin = await as(ADMIN.username, ADMIN.password).admin();
    await admin.ensureTopics([
      { name: walTopic, partitions: 1 },
      { name: snapTopic, partitions: 1 },
      { name: 'es-indexer.dlq', partitions: 1 },
    ]);
    await admin.close();
    // Each app: read its input topic, use the groups named after it, write its own DLQ.
    const plt = new PltAdmin({ clientId: 'sasl-acls', bootstrapBrokers: [bootstrap], sasl: scram(ADMIN.username, ADMIN.password) });
    const allow = (
      user: string,
      resourceType: Acl['resourceType'],
      resourceName: string,
      operation: Acl['operation'],
      pattern: Acl['resourcePatternType'] = ResourcePatternTypes.LITERAL,
    ): Acl => ({
      resourceType,
      resourceName,
      resourcePatternType: pattern,
      principal: `User:${user}`,
      host: '*',
      operation,
      permissionType: AclPermissionTypes.ALLOW,
    });
    try {
      await plt.createAcls({
        creations: [
          allow('es-indexer', ResourceTypes.TOPIC, walTopic, AclOperations.READ),
          allow('es-indexer', ResourceTypes.TOPIC, walTopic, AclOperations.DESCRIBE),
          allow('es-indexer', ResourceTypes.GROUP, 'es-indexer.', AclOperations.READ, ResourcePatternTypes.PREFIXED),
          allow('es-indexer', ResourceTypes.TOPIC, 'es-indexer.dlq', AclOperations.WRITE),
          allow('es-indexer', ResourceTypes.TOPIC, 'es-indexer.dlq', AclOperations.DESCRIBE),
          allow('snapshotter', ResourceTypes.TOPIC, snapTopic, AclOperations.READ),
          allow('snapshotter', ResourceTypes.TOPIC, snapTopic, AclOperations.DESCRIBE),
          allow('snapshotter', ResourceTypes.GROUP, 'snapshotter.', AclOperations.READ, ResourcePatternTypes.PREFIXED),
        ],
      });
    } finally {
      await plt.close();
    }
    const producer = await as(ADMIN.username, ADMIN.password).producer();
    await producer.send(walTopic, [{ key: 'k', value: 'wal-1' }, { key: 'k', value: 'wal-2' }]);
    await producer.send(snapTopic, [{ key: 'k', value: 'snap-1' }]);
    await producer.close();
  }, 240_000);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  afterAll(async () => {
    if (opts) await cleanKafka(opts);
  }, 60_000);

  /** The values a consumer reads within the time, or the error that stopped it. */
  async function consume(username: string, password: string, groupId: string, topic: string, want: number): Promise<string[]> {
    const c = await as(username, password).consumer({ groupId, topics: [topic] });
    open.push(c);
    const got: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`no records and no error within 30 s (got ${got.length})`)), 30_000);
        c.run(async (batch) => {
          got.push(...batch.messages.map((m) => m.value?.toString() ?? ''));
          if (got.length >= want) resolve();
        }).catch(reject);
      });
    } finally {
      clearTimeout(timer);
    }
    return got;
  }

  it('lets a principal read its own topic with its own group, with the settings from the environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256', KAFKA_SASL_USERNAME: 'es-indexer', KAFKA_SASL_PASSWORD: USERS['es-indexer'] });
    try {
      // No sasl in the config: libs/kafka takes it from KAFKA_SASL_*.
      // Retries: on a fresh broker the group coordinator is still loading the offsets topic.
      const c = await createKafka({ brokers: [bootstrap], clientId: 'sasl-env', requestTimeoutMs: 3_000, retries: 10, retryDelayMs: 500 }).consumer({ groupId: 'es-indexer.wal', topics: [walTopic] });
      open.push(c);
      const got: string[] = [];
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`only ${got.length} records in 30 s`)), 30_000);
        c.run(async (batch) => {
          got.push(...batch.messages.map((m) => m.value?.toString() ?? ''));
          if (got.length >= 2) resolve();
        }).catch(reject);
      }).finally(() => clearTimeout(timer));
      expect(got).toEqual(['wal-1', 'wal-2']);
    } finally {
      process.env = saved;
    }
  });

  it("refuses another app's topic, another app's group, and writes outside its DLQ", async () => {
    expect(await refusal(consume('es-indexer', USERS['es-indexer'], 'es-indexer.snap', snapTopic, 1))).toMatch(/Topic authorization failed/);
    expect(await refusal(consume('es-indexer', USERS['es-indexer'], 'snapshotter.cdc', walTopic, 1))).toMatch(/Group authorization failed/);
    const producer = await as('es-indexer', USERS['es-indexer']).producer();
    try {
      await producer.send('es-indexer.dlq', [{ key: 'k', value: 'dead letter' }]);
      expect(await refusal(producer.send(walTopic, [{ key: 'k', value: 'forged' }]))).toMatch(/Topic authorization failed/);
    } finally {
      await producer.close();
    }
    // And the other app reads its own topic.
    expect(await consume('snapshotter', USERS.snapshotter, 'snapshotter.cdc', snapTopic, 1)).toEqual(['snap-1']);
  });

  it('refuses a wrong password and a client without credentials', async () => {
    const wrong = await refusal(as('es-indexer', 'not-the-password').admin().then((a) => a.listTopics().finally(() => a.close())));
    expect(wrong).toMatch(/authentication failed/i);
    const anonymous = await refusal(
      createKafka({ brokers: [bootstrap], clientId: 'sasl-none', requestTimeoutMs: 2_000, retries: 0 })
        .admin()
        .then((a) => a.listTopics().finally(() => a.close())),
    );
    expect(anonymous).not.toBe('accepted');
  });
});
