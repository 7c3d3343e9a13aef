/**
 * The Druid HTTP APIs the pipeline uses, through the platform's fetch: the Overlord's supervisor and task APIs
 * (served by the coordinator when it acts as Overlord, or by a router) and the broker's SQL API.
 */
import { PipelineError } from '@pipeline/errors';
import { parseJson, stringifyJson } from '@pipeline/events';

export class DruidApiError extends PipelineError {
  override readonly name = 'DruidApiError';
  override readonly code = 'DRUID_API' as const;
  constructor(
    message: string,
    /** HTTP status of Druid's answer; undefined when there was none (refused, reset, timed out). */
    readonly status: number | undefined,
    retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super('DRUID_API', message, { retryable, cause: options?.cause });
  }
}

/** Offsets per partition as Druid reports them (partition ids as JSON object keys). */
export type DruidOffsets = Record<string, number>;

export interface SupervisorTask {
  id: string;
  /** ACTIVE: reading; PUBLISHING: done reading, handing its segments off. */
  type: 'ACTIVE' | 'PUBLISHING';
  startingOffsets: DruidOffsets;
  /**
   * The next offset the task will read per partition, as the supervisor last fetched it from the task
   * (every `offsetFetchPeriod`): every record below it is in the task's queryable rows.
   */
  currentOffsets: DruidOffsets;
}

export interface SupervisorStatus {
  id: string;
  /** The topic the supervisor reads (undefined before Druid reports it). */
  stream?: string;
  state: string;
  detailedState: string;
  healthy: boolean;
  suspended: boolean;
  aggregateLag?: number | null;
  recentErrors: unknown[];
  /** Ids of the tasks reading for the supervisor now (a spec update replaces them). */
  activeTaskIds: string[];
  /** Reading and publishing tasks with their offsets. */
  tasks: SupervisorTask[];
  /** The topic's end offsets as the supervisor last fetched them. */
  latestOffsets: DruidOffsets;
}

export type TaskState = 'RUNNING' | 'SUCCESS' | 'FAILED' | 'WAITING' | 'PENDING';

export interface SqlParameter {
  type: 'VARCHAR' | 'BIGINT' | 'TIMESTAMP';
  value: string | number | bigint;
}

const offsetsOf = (v: unknown): DruidOffsets => {
  const out: DruidOffsets = {};
  if (v && typeof v === 'object') for (const [p, o] of Object.entries(v as Record<string, unknown>)) if (typeof o === 'number') out[p] = o;
  return out;
};

function tasksOf(list: unknown, type: SupervisorTask['type']): SupervisorTask[] {
  if (!Array.isArray(list)) return [];
  return (list as Record<string, unknown>[]).flatMap((t) =>
    typeof t['id'] === 'string' ? [{ id: t['id'], type, startingOffsets: offsetsOf(t['startingOffsets']), currentOffsets: offsetsOf(t['currentOffsets']) }] : [],
  );
}

export class DruidClient {
  private readonly overlordUrl: string;
  private readonly brokerUrl: string;
  private readonly timeoutMs: number;

  constructor(opts: { overlordUrl: string; brokerUrl: string; timeoutMs?: number }) {
    this.overlordUrl = opts.overlordUrl.replace(/\/+$/, '');
    this.brokerUrl = opts.brokerUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /**
   * One request; Druid's answer parsed as JSON (text when it is not JSON). A non-2xx answer throws with
   * Druid's own message; `allow` lists statuses returned as `undefined` instead (e.g. 404 = none).
   */
  private async call(what: string, base: 'overlord' | 'broker', method: string, path: string, body?: unknown, allow: number[] = []): Promise<unknown> {
    const url = `${base === 'overlord' ? this.overlordUrl : this.brokerUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: stringifyJson(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : ((err as { cause?: Error }).cause?.message ?? String(err));
      throw new DruidApiError(`${what}: ${url}: ${why} (is Druid running? check DRUID_URL / DRUID_BROKER_URL)`, undefined, true, { cause: err });
    }
    const text = await res.text();
    if (allow.includes(res.status)) return undefined;
    if (!res.ok) throw new DruidApiError(`${what}: HTTP ${res.status}: ${text.slice(0, 2000)}`, res.status, res.status >= 500);
    if (!text) return undefined;
    try {
      // Druid's longs are 64-bit: an answer (a SQL row, a LONG id, a sum) beyond 2^53 is read exactly, as a bigint.
      return parseJson(text);
    } catch {
      return text;
    }
  }

  /** The spec of a running (or suspended) supervisor, undefined when there is none. */
  async getSupervisor(id: string): Promise<Record<string, unknown> | undefined> {
    return (await this.call(`reading supervisor ${id}`, 'overlord', 'GET', `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}`, undefined, [404])) as
      | Record<string, unknown>
      | undefined;
  }

  /** Creates the supervisor, or replaces its spec (Druid then hands off running tasks and starts new ones). */
  async postSupervisor(spec: unknown): Promise<string> {
    return ((await this.call('submitting the supervisor spec', 'overlord', 'POST', '/druid/indexer/v1/supervisor', spec)) as { id: string }).id;
  }

  async supervisorStatus(id: string): Promise<SupervisorStatus> {
    const body = (await this.call(`reading the status of supervisor ${id}`, 'overlord', 'GET', `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/status`)) as {
      payload?: Record<string, unknown>;
    };
    const p = body?.payload ?? {};
    const tasks = [...tasksOf(p['activeTasks'], 'ACTIVE'), ...tasksOf(p['publishingTasks'], 'PUBLISHING')];
    return {
      id,
      ...(typeof p['stream'] === 'string' ? { stream: p['stream'] } : {}),
      state: String(p['state'] ?? 'UNKNOWN'),
      detailedState: String(p['detailedState'] ?? 'UNKNOWN'),
      healthy: p['healthy'] === true,
      suspended: p['suspended'] === true,
      aggregateLag: (p['aggregateLag'] as number | null | undefined) ?? null,
      recentErrors: Array.isArray(p['recentErrors']) ? (p['recentErrors'] as unknown[]) : [],
      activeTaskIds: tasks.filter((t) => t.type === 'ACTIVE').map((t) => t.id),
      tasks,
      latestOffsets: offsetsOf(p['latestOffsets']),
    };
  }

  async supervisorAction(id: string, action: 'suspend' | 'resume' | 'reset' | 'terminate'): Promise<void> {
    await this.call(`${action} supervisor ${id}`, 'overlord', 'POST', `/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/${action}`);
  }

  async submitTask(spec: unknown): Promise<string> {
    return ((await this.call('submitting the task', 'overlord', 'POST', '/druid/indexer/v1/task', spec)) as { task: string }).task;
  }

  async taskStatus(taskId: string): Promise<{ state: TaskState; error?: string }> {
    const body = (await this.call(`reading the status of task ${taskId}`, 'overlord', 'GET', `/druid/indexer/v1/task/${encodeURIComponent(taskId)}/status`)) as {
      status?: { status?: string; statusCode?: string; errorMsg?: string };
    };
    const s = body?.status ?? {};
    const state = (s.statusCode ?? s.status ?? 'PENDING') as TaskState;
    return s.errorMsg ? { state, error: s.errorMsg } : { state };
  }

  /** Druid SQL with parameters, rows as objects. */
  async sql<T = Record<string, unknown>>(query: string, parameters: SqlParameter[] = []): Promise<T[]> {
    return (await this.call('Druid SQL query', 'broker', 'POST', '/druid/v2/sql', { query, parameters, resultFormat: 'object', context: { sqlTimeZone: 'Etc/UTC' } })) as T[];
  }

  /** Ids of the datasource's tasks that have not finished (pending, waiting or running). */
  async unfinishedTasks(dataSource: string): Promise<string[]> {
    const ids: string[] = [];
    for (const state of ['pending', 'waiting', 'running']) {
      const q = new URLSearchParams({ state, datasource: dataSource });
      const list = (await this.call(`listing the tasks of ${dataSource}`, 'overlord', 'GET', `/druid/indexer/v1/tasks?${q}`)) as { id: string }[];
      ids.push(...list.map((t) => t.id));
    }
    return ids;
  }

  /** Stops a task at once: a streaming task stopped this way publishes nothing (unlike a supervisor terminate). */
  async shutdownTask(taskId: string): Promise<void> {
    await this.call(`shutting down task ${taskId}`, 'overlord', 'POST', `/druid/indexer/v1/task/${encodeURIComponent(taskId)}/shutdown`, undefined, [404]);
  }

  async dropDatasource(dataSource: string): Promise<void> {
    await this.call(`marking datasource ${dataSource} unused`, 'overlord', 'DELETE', `/druid/coordinator/v1/datasources/${encodeURIComponent(dataSource)}`, undefined, [404]);
  }
}
