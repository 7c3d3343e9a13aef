/**
 * The core's REST API as the processor uses it: mutations through `.../edges/sync?force=true` (and
 * multi-edges), index scans for keep-newest-N. Outages become retryable SinkErrors (the stream pauses and
 * writes the batch again); answers that a retry cannot change come back as values for the sink to sort out.
 */
import { SinkError } from '@pipeline/stream';
import { stringifyJson } from '@pipeline/events';

export interface Mutation {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  edge: { version: number; source?: string | number; target?: string | number; id?: string | number; properties: Record<string, unknown> };
}

export interface MutationResult {
  source?: string | number;
  target?: string | number;
  id?: string | number;
  status: string;
  count: number;
}

export interface ScannedEdge {
  version: number;
  source: string | number;
  target: string | number;
  properties: Record<string, unknown>;
}

export interface ScanPage {
  edges: ScannedEdge[];
  total: number;
  offset: string | null;
  hasNext: boolean;
}

/** The core answered 4xx: the request applied nothing and sending it again gives the same answer. */
export interface Rejection {
  status: number;
  code: string;
  message: string;
  /** The field the core named, e.g. `mutations[3].edge.version`. */
  field: string | null;
}

export type MutateOutcome = { ok: true; results: MutationResult[] } | { ok: false; rejection: Rejection };

export interface CoreClientOptions {
  baseUrl: string;
  actor: string;
  timeoutMs: number;
  apiToken?: string;
}

/**
 * 401 (token missing or wrong), 408 and 429 are about this deployment or this moment, not the records:
 * dead-lettering the whole WAL for a bad token would be worse than waiting for an operator.
 */
const RETRYABLE_4XX = new Set([401, 408, 425, 429]);
/**
 * The core copies X-Request-ID into every WAL and CDC record of the request, so the header is paid once per
 * mutation: at 4 KiB, a batch of 500 made the core's WAL produce exceed Kafka's 1 MB message limit, and the core
 * answered 503 to that request forever (seen in bench/async-processor.ts). A few ids, then a count.
 */
const MAX_REQUEST_ID_HEADER = 256;

export class CoreClient {
  constructor(private readonly o: CoreClientOptions) {}

  async mutate(database: string, table: string, multi: boolean, mutations: Mutation[], requestIds: string[]): Promise<MutateOutcome> {
    const path = `${this.tablePath(database, table)}/${multi ? 'multi-edges' : 'edges'}/sync?force=true`;
    const res = await this.call('POST', path, { mutations }, requestIdHeader(requestIds));
    if (res.status >= 200 && res.status < 300) {
      const results = (res.body as { results?: MutationResult[] } | null)?.results;
      if (!Array.isArray(results)) throw new SinkError('CORE_BAD_ANSWER', `POST ${path}: answer without results`, { retryable: true });
      return { ok: true, results };
    }
    return { ok: false, rejection: rejectionOf(res.status, res.body) };
  }

  /** One page of an index scan (OUT from `start`). A 4xx is thrown as a non-retryable SinkError. */
  async scan(database: string, table: string, index: string, start: string | number, limit: number, offset: string | null): Promise<ScanPage> {
    const q = new URLSearchParams({ start: String(start), direction: 'OUT', limit: String(limit) });
    if (offset) q.set('offset', offset);
    const path = `${this.tablePath(database, table)}/edges/scan/${encodeURIComponent(index)}?${q}`;
    const res = await this.call('GET', path);
    if (res.status !== 200) {
      const r = rejectionOf(res.status, res.body);
      throw new SinkError('SCAN_REJECTED', `GET ${path}: ${r.status} ${r.code} ${r.message}`, { retryable: false });
    }
    return res.body as ScanPage;
  }

  private tablePath(database: string, table: string): string {
    return `/graph/v3/databases/${encodeURIComponent(database)}/tables/${encodeURIComponent(table)}`;
  }

  private async call(method: string, path: string, body?: unknown, requestId?: string): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { 'x-actor-id': this.o.actor };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (requestId) headers['x-request-id'] = requestId;
    if (this.o.apiToken) headers.authorization = `Bearer ${this.o.apiToken}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.o.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : stringifyJson(body),
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      text = await res.text();
    } catch (cause) {
      // Connection refused/reset, DNS, timeout: the core is not there right now.
      throw new SinkError('CORE_UNAVAILABLE', `${method} ${path}: ${(cause as Error).message}`, { retryable: true, cause });
    }
    if (res.status >= 500 || RETRYABLE_4XX.has(res.status)) {
      throw new SinkError(res.status >= 500 ? 'CORE_UNAVAILABLE' : `CORE_HTTP_${res.status}`, `${method} ${path}: ${res.status} ${text.slice(0, 300)}`, {
        retryable: true,
      });
    }
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text.slice(0, 300) };
    }
    return { status: res.status, body: parsed };
  }
}

function rejectionOf(status: number, body: unknown): Rejection {
  const b = (body ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
  return {
    status,
    code: typeof b.code === 'string' ? b.code : `HTTP_${status}`,
    message: typeof b.message === 'string' ? b.message : `HTTP ${status}`,
    field: typeof b.field === 'string' ? b.field : null,
  };
}

/**
 * X-Request-ID of a batched request: the original request ids, distinct, comma-separated, so that the CDC of
 * the applied mutations leads back to the requests that queued them (a batch from one request carries exactly
 * its id); past MAX_REQUEST_ID_HEADER characters the rest is counted (`,+12more`). Absent when no record had
 * one (the core then makes one up). Each record's own WAL entry keeps its exact request id in any case.
 */
export function requestIdHeader(ids: string[]): string | undefined {
  const distinct = [...new Set(ids.filter((id) => id !== ''))];
  if (distinct.length === 0) return undefined;
  let out = '';
  for (let i = 0; i < distinct.length; i++) {
    const next = out ? `${out},${distinct[i]}` : distinct[i]!;
    if (next.length > MAX_REQUEST_ID_HEADER - 16) return `${out},+${distinct.length - i}more`;
    out = next;
  }
  return out;
}
