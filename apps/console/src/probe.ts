/** One HTTP read of another component, bounded in time, with the reason of a failure said the way an operator reads it. */
export type Probe<T> = { ok: true; value: T; status: number } | { ok: false; reason: string; status?: number; value?: T };

export function failureReason(err: unknown, url: string, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const where = new URL(url).host;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer from ${where} within ${timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return `connection refused at ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host of ${where} not found`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `connection reset by ${where}`;
  return `${where}: ${e.cause?.message ?? e.message ?? String(err)}`.slice(0, 200);
}

/** GET url; `json` parses the body. A non-2xx answer is a failure whose reason includes what the body said. */
export async function probe<T = string>(url: string, timeoutMs: number, as: 'json' | 'text', init: RequestInit = {}): Promise<Probe<T>> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let value: unknown = text;
    if (as === 'json') {
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, status: res.status, reason: `${new URL(url).host} answered ${res.status} with a body that is not JSON` };
      }
    }
    if (!res.ok) return { ok: false, status: res.status, value: value as T, reason: `${new URL(url).pathname} answered ${res.status}` };
    return { ok: true, status: res.status, value: value as T };
  } catch (err) {
    return { ok: false, reason: failureReason(err, url, timeoutMs) };
  }
}
