import { isInteger, parse as parseLosslessJson } from 'lossless-json';
import { ulidFactory } from '../ids';
import xxhash from 'xxhash-wasm';
import { z } from 'zod';
import type { Catalog } from '../catalog/catalog';
import { checkName } from '../catalog/names';
import { parseBody, storage } from '../catalog/schema-bodies';
import { ApiError, badRequest, notFound } from '../errors';
import { stringifyLossless } from '../http/json-body';
import type { EdgeStore } from '../storage/edge-store';
import type { QueueDef, QueueMessage, QueueStore, Seq } from '../storage/queue-store';
import { LIMITS } from './limits';

/**
 * queue/v1 (Actionbase's api-references/queue.mdx and design/queue.mdx): partitioned, append-only
 * queues. A message goes to partition `floorMod(xxhash32(key), partitions)` (seed 0 over the key's
 * UTF-8 bytes, as Actionbase's PartitionHasher), gets a ULID id, and is read back per partition in
 * `seq` order; a commit deletes a partition's prefix up to an offset.
 *
 * Queue operations write no WAL and no CDC record: Actionbase's queue tables emit no CDC ("the queue
 * itself is the log"), and a WAL record of an enqueue would bring a committed (deleted) message back on
 * a replay, since commits are not in the WAL. The messages are durable in the store itself.
 */

/** Actionbase's default partition count (30 = 2·3·5: many balanced consumer splits). */
export const DEFAULT_PARTITIONS = 30;
/** Actionbase's default poll page. */
export const DEFAULT_POLL_LIMIT = 100;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A 64-bit integer as Actionbase's Jackson binds a Long: a JSON integer or a plain decimal string. */
function toSeq(v: unknown, field: string): Seq {
  let b: bigint | undefined;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) b = BigInt(v);
  if (b === undefined) throw badRequest(field, `expected a 64-bit integer, got ${v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v}`);
  if (b < INT64_MIN || b > INT64_MAX) throw badRequest(field, `${b} is outside the 64-bit range`);
  return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** An optional query parameter: absent, or given once. */
function param(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(name, 'given more than once; give it once');
  return v;
}

function intParam(raw: string | undefined, name: string, dflt: number | undefined, min: number, max: number): number {
  if (raw === undefined) {
    if (dflt === undefined) throw badRequest(name, 'required');
    return dflt;
  }
  const n = /^-?\d{1,10}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(name, `expected an integer in ${min}..${max}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return n;
}

const QueueCreate = z.strictObject({
  queue: z.string({ error: 'queue is required' }),
  storage,
  partitions: z
    .number({ error: 'expected an integer' })
    .int('expected an integer')
    .min(1, 'minimum 1')
    .max(LIMITS.queuePartitions, `at most ${LIMITS.queuePartitions}`)
    .default(DEFAULT_PARTITIONS),
});

const EnqueueBody = z.strictObject({
  messages: z
    .array(
      z.strictObject({
        // Jackson binds a JSON number to a String field as its text; so do we.
        key: z.union([z.string(), z.number(), z.bigint()], { error: 'key is required: a string' }).transform(String),
        seq: z.unknown(),
        value: z.unknown().optional(),
      }),
      { error: 'messages is required: an array of {key, seq, value}' },
    )
    .max(LIMITS.enqueueMessages, `at most ${LIMITS.enqueueMessages} messages per request`),
});

export interface QueueDescriptor {
  namespace: string;
  queue: string;
  partitions: number;
  storage: string;
}

export class QueueService {
  private readonly newId = ulidFactory();
  private hasher: Promise<(key: string) => number> | undefined;

  private readonly store: QueueStore;

  constructor(
    private readonly edges: Pick<EdgeStore, 'queues' | 'allocateTableId'>,
    private readonly catalog: Pick<Catalog, 'getDatabase' | 'listTables' | 'listAliases' | 'purgeDropped' | 'change'>,
  ) {
    this.store = edges.queues();
  }

  /** `floorMod(xxhash32(key), partitions)`, signed as Java's int, as Actionbase routes a key. */
  async partitionOf(key: string, partitions: number): Promise<number> {
    this.hasher ??= xxhash().then((h) => {
      const utf8 = new TextEncoder();
      return (k: string) => h.h32Raw(utf8.encode(k), 0) | 0;
    });
    const h = (await this.hasher)(key);
    return ((h % partitions) + partitions) % partitions;
  }

  private async queueOf(namespace: string, queue: string): Promise<QueueDef> {
    checkName(namespace, 'database', 'namespace');
    checkName(queue, 'table', 'queue');
    const q = await this.store.getQueue(namespace, queue);
    if (!q) throw notFound(`queue ${namespace}.${queue}`);
    return q;
  }

  /** A queue that can be read and written: refused (400) while disabled, as an inactive table is. */
  private async activeQueue(namespace: string, queue: string): Promise<QueueDef> {
    const q = await this.queueOf(namespace, queue);
    if (!q.active) throw badRequest('queue', `queue ${namespace}.${queue} is disabled; enable it (PUT .../enable) to use it`);
    return q;
  }

  async create(namespace: string, body: unknown, actor: string): Promise<QueueDescriptor> {
    const req = parseBody(QueueCreate, body);
    checkName(namespace, 'database', 'namespace');
    const name = checkName(req.queue, 'table', 'queue');
    // The namespace is a v3 database, and a queue is a table of it in Actionbase: one name space, so the
    // checks and the insert run as a catalog change (no instance creates a table of this name meanwhile).
    return this.catalog.change(() => this.createNow(namespace, name, req, actor));
  }

  private async createNow(namespace: string, name: string, req: z.infer<typeof QueueCreate>, actor: string): Promise<QueueDescriptor> {
    const db = this.catalog.getDatabase(namespace);
    if (!db.active) throw badRequest('namespace', `database ${namespace} is inactive; reactivate it first`);
    if (this.catalog.listTables(namespace).some((t) => t.name === name) || this.catalog.listAliases(namespace).some((a) => a.name === name))
      throw new ApiError(409, 'CONFLICT', `${namespace}.${name} already exists as a table or alias`);
    const now = Date.now();
    const def: QueueDef = {
      namespace,
      name,
      qid: await this.edges.allocateTableId(),
      partitions: req.partitions,
      storage: req.storage,
      active: true,
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
      updatedBy: actor,
    };
    if (!(await this.store.createQueue(def))) throw new ApiError(409, 'CONFLICT', `queue ${namespace}.${name} already exists`);
    return descriptor(def);
  }

  async get(namespace: string, queue: string): Promise<QueueDescriptor> {
    return descriptor(await this.queueOf(namespace, queue));
  }

  async partitions(namespace: string, queue: string): Promise<{ namespace: string; queue: string; partitions: number }> {
    const q = await this.queueOf(namespace, queue);
    return { namespace, queue, partitions: q.partitions };
  }

  async setActive(namespace: string, queue: string, active: boolean, actor: string): Promise<QueueDescriptor> {
    const q = await this.queueOf(namespace, queue);
    const next = { ...q, active, updatedAt: Date.now(), updatedBy: actor };
    await this.store.updateQueue(next);
    return descriptor(next);
  }

  /** Deletes a disabled queue (409 while enabled); its messages are purged in the background. */
  async delete(namespace: string, queue: string): Promise<void> {
    const q = await this.queueOf(namespace, queue);
    if (q.active) throw new ApiError(409, 'CONFLICT', `queue ${namespace}.${queue} must be disabled before deletion (PUT .../disable)`);
    await this.store.deleteQueue(q);
    this.catalog.purgeDropped();
  }

  async enqueue(namespace: string, queue: string, body: unknown) {
    const req = parseBody(EnqueueBody, body);
    // Every message is checked before anything is written: a bad one refuses the whole request.
    const items = req.messages.map((m, i) => ({ key: m.key, seq: toSeq(m.seq, `messages[${i}].seq`), value: stringifyLossless(m.value ?? null) }));
    const q = await this.activeQueue(namespace, queue);
    const messages: QueueMessage[] = [];
    for (const m of items) messages.push({ partition: await this.partitionOf(m.key, q.partitions), id: this.newId(), seq: m.seq, value: m.value });
    await this.store.enqueue(q.qid, messages);
    return { accepted: messages.length, results: messages.map((m) => ({ partition: m.partition, id: m.id, status: 'CREATED' })) };
  }

  async poll(namespace: string, queue: string, partitionRaw: string, query: Record<string, unknown>) {
    const limit = intParam(param(query, 'limit'), 'limit', DEFAULT_POLL_LIMIT, 1, LIMITS.pollLimit);
    const offsetRaw = param(query, 'offset');
    const untilRaw = param(query, 'until');
    const offset = offsetRaw === undefined ? null : toSeq(offsetRaw, 'offset');
    const until = untilRaw === undefined ? null : toSeq(untilRaw, 'until');
    const q = await this.activeQueue(namespace, queue);
    const partition = intParam(partitionRaw, 'partition', undefined, 0, q.partitions - 1);
    const rows = await this.store.poll(q.qid, partition, offset, until, limit + 1);
    let page = rows.slice(0, limit);
    const hasNext = rows.length > limit;
    if (hasNext) page = await this.wholeRuns(q, partition, page, rows[limit]!);
    const messages = page.map((m) => ({ partition, id: m.id, seq: m.seq, value: decodeValue(m.value) }));
    const last = page[page.length - 1];
    return { messages, offset: last ? last.seq : offset, hasNext };
  }

  /**
   * The next poll resumes at `seq > offset`, so a page must not end inside a run of messages sharing
   * one seq: the rest of the run would be skipped (and deleted by a commit of that offset). The page
   * gives back its trailing partial run; a page that is one run only is completed instead, up to the
   * examined-rows bound.
   */
  private async wholeRuns(q: QueueDef, partition: number, page: QueueMessage[], next: QueueMessage): Promise<QueueMessage[]> {
    const lastSeq = page[page.length - 1]!.seq;
    if (BigInt(next.seq) !== BigInt(lastSeq)) return page;
    const firstOfRun = page.findIndex((m) => BigInt(m.seq) === BigInt(lastSeq));
    if (firstOfRun > 0) return page.slice(0, firstOfRun);
    const before = BigInt(lastSeq) - 1n;
    return this.store.poll(q.qid, partition, before < INT64_MIN ? null : toSeq(before, 'offset'), lastSeq, LIMITS.scanExamined);
  }

  async commit(namespace: string, queue: string, partitionRaw: string, query: Record<string, unknown>) {
    const offsetRaw = param(query, 'offset');
    if (offsetRaw === undefined) throw badRequest('offset', 'required: every message with seq <= offset is deleted');
    const offset = toSeq(offsetRaw, 'offset');
    const q = await this.activeQueue(namespace, queue);
    const partition = intParam(partitionRaw, 'partition', undefined, 0, q.partitions - 1);
    const committed = await this.store.commit(q.qid, partition, offset, LIMITS.commitMessages);
    if (committed === null)
      throw badRequest('offset', `more than ${LIMITS.commitMessages} messages have seq <= ${offset}; at most ${LIMITS.commitMessages} per commit: commit each polled page's offset`);
    return { namespace, queue, partition, committed };
  }
}

function descriptor(q: QueueDef): QueueDescriptor {
  return { namespace: q.namespace, queue: q.name, partitions: q.partitions, storage: q.storage };
}

/** The stored JSON text back as a value; integers beyond ±(2^53-1) come back exactly, as bigint. */
function decodeValue(text: string): unknown {
  return parseLosslessJson(text, undefined, (n: string) => {
    if (isInteger(n)) {
      const v = Number(n);
      return Number.isSafeInteger(v) ? v : BigInt(n);
    }
    return Number(n);
  });
}
