/**
 * The Druid HTTP APIs this app uses, through axios: the Overlord's supervisor and task APIs (served by the
 * coordinator when it acts as Overlord, or by a router) and the broker's SQL API.
 */
import axios, { AxiosError, type AxiosInstance } from 'axios';

export class DruidApiError extends Error {
  readonly code = 'DRUID_API';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DruidApiError';
  }
}

function wrap(what: string, err: unknown): DruidApiError {
  if (err instanceof AxiosError) {
    const status = err.response?.status;
    const body = err.response?.data;
    const detail = typeof body === 'string' ? body : body ? JSON.stringify(body) : err.message;
    return new DruidApiError(`${what}: ${status ? `HTTP ${status}: ` : ''}${detail.slice(0, 2000)}`, status, status === undefined || status >= 500, { cause: err });
  }
  return new DruidApiError(`${what}: ${String(err)}`, undefined, false, { cause: err });
}

export interface SupervisorStatus {
  id: string;
  state: string;
  detailedState: string;
  healthy: boolean;
  suspended: boolean;
  aggregateLag?: number | null;
  recentErrors: unknown[];
  /** Ids of the tasks reading for the supervisor now (a spec update replaces them). */
  activeTaskIds: string[];
}

export type TaskState = 'RUNNING' | 'SUCCESS' | 'FAILED' | 'WAITING' | 'PENDING';

export class DruidClient {
  private readonly overlord: AxiosInstance;
  private readonly broker: AxiosInstance;

  constructor(opts: { overlordUrl: string; brokerUrl: string; timeoutMs?: number }) {
    const timeout = opts.timeoutMs ?? 30_000;
    this.overlord = axios.create({ baseURL: opts.overlordUrl, timeout });
    this.broker = axios.create({ baseURL: opts.brokerUrl, timeout });
  }

  /** The spec of a running (or suspended) supervisor, undefined when there is none. */
  async getSupervisor(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await this.overlord.get(`/druid/indexer/v1/supervisor/${encodeURIComponent(id)}`);
      return res.data as Record<string, unknown>;
    } catch (err) {
      if (err instanceof AxiosError && err.response?.status === 404) return undefined;
      throw wrap(`reading supervisor ${id}`, err);
    }
  }

  /** Creates the supervisor, or replaces its spec (Druid then hands off running tasks and starts new ones). */
  async postSupervisor(spec: unknown): Promise<string> {
    try {
      const res = await this.overlord.post('/druid/indexer/v1/supervisor', spec);
      return (res.data as { id: string }).id;
    } catch (err) {
      throw wrap('submitting the supervisor spec', err);
    }
  }

  async supervisorStatus(id: string): Promise<SupervisorStatus> {
    try {
      const res = await this.overlord.get(`/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/status`);
      const p = (res.data as { payload?: Record<string, unknown> }).payload ?? {};
      return {
        id,
        state: String(p['state'] ?? 'UNKNOWN'),
        detailedState: String(p['detailedState'] ?? 'UNKNOWN'),
        healthy: p['healthy'] === true,
        suspended: p['suspended'] === true,
        aggregateLag: (p['aggregateLag'] as number | null | undefined) ?? null,
        recentErrors: Array.isArray(p['recentErrors']) ? (p['recentErrors'] as unknown[]) : [],
        activeTaskIds: Array.isArray(p['activeTasks']) ? (p['activeTasks'] as { id?: string }[]).flatMap((t) => (t.id ? [t.id] : [])) : [],
      };
    } catch (err) {
      throw wrap(`reading the status of supervisor ${id}`, err);
    }
  }

  async supervisorAction(id: string, action: 'suspend' | 'resume' | 'reset' | 'terminate'): Promise<void> {
    try {
      await this.overlord.post(`/druid/indexer/v1/supervisor/${encodeURIComponent(id)}/${action}`);
    } catch (err) {
      throw wrap(`${action} supervisor ${id}`, err);
    }
  }

  async submitTask(spec: unknown): Promise<string> {
    try {
      const res = await this.overlord.post('/druid/indexer/v1/task', spec);
      return (res.data as { task: string }).task;
    } catch (err) {
      throw wrap('submitting the task', err);
    }
  }

  async taskStatus(taskId: string): Promise<{ state: TaskState; error?: string }> {
    try {
      const res = await this.overlord.get(`/druid/indexer/v1/task/${encodeURIComponent(taskId)}/status`);
      const s = (res.data as { status?: { status?: string; statusCode?: string; errorMsg?: string } }).status ?? {};
      const state = (s.statusCode ?? s.status ?? 'PENDING') as TaskState;
      return s.errorMsg ? { state, error: s.errorMsg } : { state };
    } catch (err) {
      throw wrap(`reading the status of task ${taskId}`, err);
    }
  }

  /** Druid SQL with parameters, rows as objects. */
  async sql<T = Record<string, unknown>>(query: string, parameters: { type: 'VARCHAR' | 'BIGINT' | 'TIMESTAMP'; value: string | number }[] = []): Promise<T[]> {
    try {
      const res = await this.broker.post('/druid/v2/sql', { query, parameters, resultFormat: 'object', context: { sqlTimeZone: 'Etc/UTC' } });
      return res.data as T[];
    } catch (err) {
      throw wrap('Druid SQL query', err);
    }
  }

  /** Ids of the datasource's tasks that have not finished (pending, waiting or running). */
  async unfinishedTasks(dataSource: string): Promise<string[]> {
    try {
      const ids: string[] = [];
      for (const state of ['pending', 'waiting', 'running']) {
        const res = await this.overlord.get('/druid/indexer/v1/tasks', { params: { state, datasource: dataSource } });
        ids.push(...(res.data as { id: string }[]).map((t) => t.id));
      }
      return ids;
    } catch (err) {
      throw wrap(`listing the tasks of ${dataSource}`, err);
    }
  }

  /** Stops a task at once: a streaming task stopped this way publishes nothing (unlike a supervisor terminate). */
  async shutdownTask(taskId: string): Promise<void> {
    try {
      await this.overlord.post(`/druid/indexer/v1/task/${encodeURIComponent(taskId)}/shutdown`);
    } catch (err) {
      if (err instanceof AxiosError && err.response?.status === 404) return;
      throw wrap(`shutting down task ${taskId}`, err);
    }
  }

  async dropDatasource(dataSource: string): Promise<void> {
    try {
      await this.overlord.delete(`/druid/coordinator/v1/datasources/${encodeURIComponent(dataSource)}`);
    } catch (err) {
      if (err instanceof AxiosError && err.response?.status === 404) return;
      throw wrap(`marking datasource ${dataSource} unused`, err);
    }
  }
}
