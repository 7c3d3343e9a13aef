/**
 * The Elasticsearch sink of one stream (WAL or CDC): one bulk request per batch, results read item by item.
 *   - 2xx: written;
 *   - 409 on a current-state document: an older CDC record than the one indexed (replay, redelivery): ignored, counted;
 *   - 429 / 5xx: retried in place with backoff (only the failed items), then the batch fails retryable and the
 *     runtime pauses the stream and writes the batch again (every write is idempotent: fixed ids and versions);
 *   - any other 4xx (mapping, parse, immense term): the record goes to the DLQ with Elasticsearch's error.
 */
import type { Client } from '@elastic/elasticsearch';
import { errors } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { CdcRecord, WalRecord } from '@pipeline/events';
import { backoffDelay, SinkError, type DecodedRecord, type FailedRecord, type Sink, type SinkResult, type StreamKind } from '@pipeline/stream';
import { cdcDocument, DAY_MS, edgeDocument, walDocument, type BulkDoc } from './documents';

export interface EsSinkOptions<K extends StreamKind = StreamKind> {
  kind: K;
  client: Client;
  prefix: string;
  retentionDays: number;
  logger: Logger;
  metrics: SinkMetrics;
  /** Attempts of the in-place retry of 429/5xx items before the whole batch is failed retryable. */
  itemAttempts?: number;
  retryBaseMs?: number;
  /** Clock, for tests of the retention cut. */
  now?: () => number;
}

export class SinkMetrics {
  readonly docs: Counter<'kind' | 'target'>;
  readonly conflicts: Counter<'kind'>;
  readonly rejected: Counter<'kind'>;
  readonly expired: Counter<'kind'>;
  readonly itemRetries: Counter<'kind'>;
  constructor(registry: Registry) {
    const registers = [registry];
    this.docs = new Counter({ name: 'es_indexer_documents_total', help: 'Documents written', labelNames: ['kind', 'target'], registers });
    this.conflicts = new Counter({
      name: 'es_indexer_version_conflicts_total',
      help: 'Current-state writes older than the indexed document (ignored)',
      labelNames: ['kind'],
      registers,
    });
    this.rejected = new Counter({ name: 'es_indexer_rejected_total', help: 'Records dead-lettered with an Elasticsearch error', labelNames: ['kind'], registers });
    this.expired = new Counter({ name: 'es_indexer_expired_total', help: 'Records older than the retention, not indexed', labelNames: ['kind'], registers });
    this.itemRetries = new Counter({ name: 'es_indexer_item_retries_total', help: 'Bulk items retried after 429/5xx', labelNames: ['kind'], registers });
  }
}

type Rec = WalRecord | CdcRecord;
interface Op {
  doc: BulkDoc;
  record: DecodedRecord<Rec>;
  target: 'mutations' | 'edges';
}

interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Transport-level failures and 429/5xx answers: Elasticsearch is down or overloaded, a retry can help. */
export function toSinkError(err: unknown): SinkError {
  if (err instanceof SinkError) return err;
  // A body the client cannot serialize (a bigint LONG, until the client gets a bigint-aware serializer) fails
  // the same way every time: not retryable, so the runtime isolates the record and dead-letters it.
  if (err instanceof errors.SerializationError) return new SinkError('ES_SERIALIZATION', `cannot serialize the bulk body: ${err.message}`, { retryable: false, cause: err });
  if (err instanceof errors.ResponseError) {
    const status = err.statusCode ?? 0;
    const retryable = status === 429 || status >= 500 || status === 0;
    return new SinkError(retryable ? 'ES_UNAVAILABLE' : 'ES_REQUEST_REJECTED', `Elasticsearch answered ${status}: ${err.message}`, { retryable, cause: err });
  }
  return new SinkError('ES_UNAVAILABLE', `Elasticsearch unreachable: ${(err as Error)?.message ?? String(err)}`, { retryable: true, cause: err });
}

export class EsSink<R extends Rec = Rec> implements Sink<R> {
  private readonly log: Logger;
  private readonly now: () => number;
  private ready = false;

  constructor(private readonly o: EsSinkOptions<StreamKind>) {
    this.log = o.logger.child({ component: `es-sink.${o.kind}` });
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    // Templates and the current-state index are created by the indexer before the consumers start.
    this.ready = true;
  }

  isReady(): boolean {
    return this.ready;
  }

  private ops(batch: DecodedRecord<Rec>[]): Op[] {
    const cutoff = this.now() - this.o.retentionDays * DAY_MS;
    const ops: Op[] = [];
    for (const record of batch) {
      if (record.kind === 'wal') {
        const r = record as DecodedRecord<WalRecord>;
        if (r.record.processedAt < cutoff) {
          this.o.metrics.expired.inc({ kind: 'wal' });
          continue;
        }
        ops.push({ doc: walDocument(this.o.prefix, r), record, target: 'mutations' });
      } else {
        const r = record as DecodedRecord<CdcRecord>;
        // The current state is not time-based: an old record still moves it (if it is the newest for its edge).
        const edge = edgeDocument(this.o.prefix, r);
        if (edge) ops.push({ doc: edge, record, target: 'edges' });
        if (r.record.processedAt < cutoff) this.o.metrics.expired.inc({ kind: 'cdc' });
        else ops.push({ doc: cdcDocument(this.o.prefix, r), record, target: 'mutations' });
      }
    }
    return ops;
  }

  private async bulk(ops: Op[]): Promise<BulkItemResult[]> {
    const operations: unknown[] = [];
    for (const { doc } of ops) {
      operations.push({
        index: {
          _index: doc.index,
          _id: doc.id,
          ...(doc.version !== undefined ? { version: doc.version, version_type: 'external_gte' } : {}),
        },
      });
      operations.push(doc.body);
    }
    let res;
    try {
      res = await this.o.client.bulk({ operations }, { requestTimeout: 30_000, maxRetries: 0 });
    } catch (err) {
      throw toSinkError(err);
    }
    return res.items.map((item) => {
      const r = Object.values(item)[0] as BulkItemResult | undefined;
      return r ?? { status: 500, error: { reason: 'no result for the item' } };
    });
  }

  async write(batch: DecodedRecord<R>[]): Promise<SinkResult<R>> {
    let pending = this.ops(batch);
    const failed = new Map<DecodedRecord<Rec>, FailedRecord<R>>();
    const attempts = this.o.itemAttempts ?? 4;
    for (let attempt = 1; pending.length > 0; attempt++) {
      const results = await this.bulk(pending);
      const retry: Op[] = [];
      let lastReason = '';
      pending.forEach((op, i) => {
        const r = results[i] ?? { status: 500 };
        if (r.status >= 200 && r.status < 300) {
          this.o.metrics.docs.inc({ kind: this.o.kind, target: op.target });
        } else if (r.status === 409 && op.target === 'edges') {
          this.o.metrics.conflicts.inc({ kind: this.o.kind });
        } else if (r.status === 429 || r.status >= 500) {
          retry.push(op);
          lastReason = `${r.status} ${r.error?.type ?? ''}: ${r.error?.reason ?? ''}`;
        } else if (!failed.has(op.record)) {
          const reason = [r.error?.type, r.error?.reason, r.error?.caused_by ? `(caused by ${r.error.caused_by.type}: ${r.error.caused_by.reason})` : '']
            .filter(Boolean)
            .join(': ')
            // Elasticsearch quotes a preview of the bad value; a DLQ header need not carry 40 KB of it.
            .slice(0, 2_000);
          this.o.metrics.rejected.inc({ kind: this.o.kind });
          this.log.warn({ topic: op.record.topic, partition: op.record.partition, offset: String(op.record.offset), status: r.status, reason }, 'document rejected: dead-lettered');
          failed.set(op.record, {
            record: op.record as DecodedRecord<R>,
            error: new SinkError('DOCUMENT_REJECTED', `Elasticsearch rejected ${op.target} document ${op.doc.id} in ${op.doc.index} (${r.status}): ${reason}`, {
              retryable: false,
            }),
          });
        }
      });
      pending = retry;
      if (pending.length === 0) break;
      if (attempt >= attempts) {
        throw new SinkError('ES_UNAVAILABLE', `${pending.length} bulk items still failing after ${attempt} attempts (last: ${lastReason})`, { retryable: true });
      }
      this.o.metrics.itemRetries.inc({ kind: this.o.kind }, pending.length);
      await sleep(backoffDelay(attempt, { baseMs: this.o.retryBaseMs ?? 200, maxMs: 5_000 }));
    }
    return failed.size ? { failed: [...failed.values()] } : {};
  }

  async close(): Promise<void> {
    this.ready = false;
  }
}
