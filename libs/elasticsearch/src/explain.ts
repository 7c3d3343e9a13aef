/**
 * A failed request said the way an operator can act on it: which setting to look at (ES_URL, ES_API_KEY,
 * ES_USERNAME/ES_PASSWORD, ES_CA_FILE) rather than the client's bare error name.
 */
import { errors } from '@elastic/elasticsearch';
import type { EsConnection } from './client';

const firstLine = (s: string) => s.split('\n')[0]!.slice(0, 300);

/** The credential variables the connection was given, for "check ..." in a message. */
function credentialsOf(conn: EsConnection): string {
  if (conn.apiKey !== undefined) return 'ES_API_KEY';
  if (conn.username !== undefined) return `ES_USERNAME (${conn.username}) / ES_PASSWORD`;
  return '';
}

export function explainEsError(err: unknown, conn: EsConnection): string {
  const where = URL.canParse(conn.url) ? new URL(conn.url).host : conn.url;
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const body = err.meta.body as { error?: { type?: string; reason?: string; caused_by?: { reason?: string }; additional_unsuccessful_credentials?: string } } | undefined;
    const e = body?.error;
    // What the node says of the credential it was given (e.g. the API key id it does not know) is kept: it tells
    // a wrong key from a wrong variable. A HEAD request's refusal has no body: the status alone then.
    const details = [e?.caused_by?.reason, e?.additional_unsuccessful_credentials].filter((x): x is string => typeof x === 'string' && x !== '');
    const said = e ? ` ${e.type ?? 'error'}: ${[e.reason ?? '', ...details].join('; ')}` : typeof err.meta.body === 'string' && err.meta.body ? ` ${firstLine(err.meta.body)}` : '';
    const creds = credentialsOf(conn);
    if (status === 401)
      return creds
        ? `Elasticsearch at ${where} refused the credentials (401${said}): check ${creds}`
        : `Elasticsearch at ${where} needs credentials (401${said}): set ES_API_KEY or ES_USERNAME/ES_PASSWORD`;
    if (status === 403) return `Elasticsearch at ${where} refused the request (403${said}): give ${creds || 'the anonymous user'} the privileges it names`;
    return `Elasticsearch at ${where} answered ${status}${said ? ` (${said.trim()})` : ''}`;
  }
  const e = err as { name?: string; message?: string };
  const message = firstLine(e.message ?? String(err));
  if (err instanceof errors.TimeoutError) return `no answer from Elasticsearch at ${where} in time (ES_URL)`;
  if (err instanceof errors.ConnectionError) {
    if (/self[- ]signed|unable to verify|unable to get (local )?issuer|certificate|CERT_/i.test(message))
      return conn.caFile === undefined
        ? `the TLS certificate of Elasticsearch at ${where} is not trusted (${message}): set ES_CA_FILE to the PEM of the CA that signed it`
        : `the TLS certificate of Elasticsearch at ${where} is not trusted by ES_CA_FILE ${conn.caFile} (${message}): check it is the CA that signed the node's certificate`;
    if (/ECONNREFUSED/.test(message)) return `connection refused by Elasticsearch at ${where} (ES_URL)`;
    if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `host of Elasticsearch at ${where} not found (ES_URL)`;
    return `no connection to Elasticsearch at ${where} (ES_URL): ${message}`;
  }
  return `Elasticsearch at ${where}: ${message}`;
}
