// Record builders and an in-memory stand-in for a core's read side, for this app's unit tests (not used by
// main.ts, so not in the build). The integration test uses real cores.
import { encodeWal, heartbeatWal, kafkaKey, type WalRecord } from '@pipeline/events';
import type { CoreClient, Direction, EdgeView, Endpoint, MutationItem, MutationResult } from '@pipeline/core-api';
import type { DecodedRecord } from '@pipeline/stream';

const T0 = 1_764_115_200_000;
const context = (n: number, table: string) => ({ tenant: 'demo', database: 'shop', table, alias: null, request: { actor: 'test', requestId: `req-${n}` } });
const event = (n: number) => ({
  id: `evt-${n}`,
  requestId: `req-${n}`,
  type: 'INSERT' as const,
  version: T0 + n,
  source: `u-${n % 7}`,
  target: n,
  properties: { created_at: T0 + n },
});

/** The WAL record of item n: user u-<n%7> likes item n (native v3); `queue` as the core resolved it. */
export function record(n: number, opts: { queue?: boolean; table?: string } = {}): WalRecord {
  return {
    version: '3',
    type: 'e',
    processedAt: T0 + n,
    context: context(n, opts.table ?? 'likes'),
    event: event(n),
    mode: { table: opts.queue ? 'ASYNC' : 'SYNC', request: null, system: null, force: false, queue: opts.queue ?? false },
  };
}

export const encode = (r: WalRecord): string => encodeWal(r);
export const heartbeat = (n: number): string => encodeWal(heartbeatWal('demo', 'core-1', T0 + n));

/** The Kafka key the core gives item n (`source:target`). */
export const keyOf = (n: number): string => kafkaKey(`u-${n % 7}`, n);

/** Item n as the runtime hands it to the sink. */
export function decoded(n: number, opts: { queue?: boolean; table?: string; partition?: number } = {}): DecodedRecord<WalRecord> {
  const r = record(n, opts);
  return { kind: 'wal', record: r, topic: 'test', partition: opts.partition ?? 0, offset: BigInt(n), key: keyOf(n), timestamp: T0 + n, value: Buffer.from(encode(r)), headers: {} };
}

/** A core's read side and forced sync over a map of edges: enough for the comparer's and the sink's unit tests. */
export class FakeCore {
  readonly edges = new Map<string, EdgeView>();
  readonly calls: { table: string; multi: boolean; items: MutationItem[] }[] = [];
  failReads = false;
  readonly baseUrl = 'http://fake';

  put(e: EdgeView): void {
    this.edges.set(JSON.stringify([String(e.source), String(e.target)]), e);
  }

  async get(_db: string, _table: string, source: Endpoint, targets: Endpoint[]): Promise<EdgeView[]> {
    if (this.failReads) throw new Error('connection refused');
    return targets.map((t) => this.edges.get(JSON.stringify([String(source), String(t)]))).filter((e): e is EdgeView => e !== undefined);
  }

  async multiEdges(): Promise<EdgeView[]> {
    return [];
  }

  async counts(_db: string, _table: string, direction: Direction, starts: Endpoint[]): Promise<Map<string, number>> {
    const n = (s: Endpoint) => [...this.edges.values()].filter((e) => String(direction === 'OUT' ? e.source : e.target) === String(s)).length;
    return new Map(starts.map((s) => [JSON.stringify(s), n(s)]));
  }

  async mutateForced(_db: string, table: string, multi: boolean, items: MutationItem[]): Promise<MutationResult[]> {
    this.calls.push({ table, multi, items });
    for (const i of items) if (i.type !== 'DELETE') this.put({ version: i.edge.version, source: i.edge.source!, target: i.edge.target!, properties: i.edge.properties });
    return items.map((i) => ({ source: i.edge.source, target: i.edge.target, status: 'CREATED', count: 1 }));
  }

  async schema() {
    return { databases: [{ database: 'shop' }], tables: [], aliases: [] };
  }

  async applySchema() {
    return { created: [] };
  }

  asClient(): CoreClient {
    return this as unknown as CoreClient;
  }
}
