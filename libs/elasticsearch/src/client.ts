/**
 * How every app connects to Elasticsearch: the same variables, the same checks, the same client options, and the
 * lossless serializer on every client (a bigint in a document or an answer is never refused or rounded).
 */
import { readFileSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';
import { z } from 'zod';
import { LongSafeSerializer } from './serializer';

/**
 * The connection's variables, for an app's config schema (`ConfigSchema.extend({ ...esEnv })`); check them with
 * `checkEsAuth` in a superRefine. Empty values count as unset (parseConfig), as a compose file writes them.
 */
export const esEnv = {
  ES_URL: z.url().default('http://127.0.0.1:9200').describe('Elasticsearch URL (http:// or https://)'),
  ES_API_KEY: z.string().min(1).optional().describe('API key (base64 id:key); or ES_USERNAME/ES_PASSWORD, not both'),
  ES_USERNAME: z.string().min(1).optional().describe('Basic auth user; with ES_PASSWORD'),
  ES_PASSWORD: z.string().min(1).optional().describe('Basic auth password; with ES_USERNAME'),
  ES_CA_FILE: z.string().min(1).optional().describe("PEM file of the CA that signed Elasticsearch's HTTP certificate (https ES_URL); always verified"),
};

export type EsEnv = z.output<z.ZodObject<typeof esEnv>>;

/** The client's constructor options (the package's ESM types do not name them). */
export type ClientOptions = ConstructorParameters<typeof Client>[0];

/** One way to authenticate: a user and a password together, or an API key, or neither. */
export function checkEsAuth(c: Pick<EsEnv, 'ES_API_KEY' | 'ES_USERNAME' | 'ES_PASSWORD'>, ctx: z.RefinementCtx): void {
  if ((c.ES_USERNAME === undefined) !== (c.ES_PASSWORD === undefined))
    ctx.addIssue({ code: 'custom', path: [c.ES_USERNAME === undefined ? 'ES_USERNAME' : 'ES_PASSWORD'], message: 'set ES_USERNAME and ES_PASSWORD together' });
  if (c.ES_API_KEY !== undefined && c.ES_USERNAME !== undefined) ctx.addIssue({ code: 'custom', path: ['ES_API_KEY'], message: 'set ES_API_KEY or ES_USERNAME/ES_PASSWORD, not both' });
}

/** Where Elasticsearch is and how to prove who we are; only `url` is required. */
export interface EsConnection {
  url: string;
  apiKey?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  /** PEM file of the CA of an https endpoint; the certificate is always verified. */
  caFile?: string | undefined;
}

export function esConnectionFromEnv(c: Pick<EsEnv, 'ES_URL' | 'ES_API_KEY' | 'ES_USERNAME' | 'ES_PASSWORD' | 'ES_CA_FILE'>): EsConnection {
  return { url: c.ES_URL, apiKey: c.ES_API_KEY, username: c.ES_USERNAME, password: c.ES_PASSWORD, caFile: c.ES_CA_FILE };
}

/** What a caller may tune; the node, the credentials, the TLS trust and the serializer come from the connection. */
export type EsClientTuning = Omit<ClientOptions, 'node' | 'nodes' | 'auth' | 'tls' | 'Serializer' | 'cloud'>;

/** The client's options: the lossless serializer, the API key or basic auth, the CA (read now) of an https endpoint. */
export function esClientOptions(conn: EsConnection, tuning: EsClientTuning = {}): ClientOptions {
  const auth =
    conn.apiKey !== undefined
      ? { auth: { apiKey: conn.apiKey } }
      : conn.username !== undefined && conn.password !== undefined
        ? { auth: { username: conn.username, password: conn.password } }
        : {};
  return {
    ...tuning,
    node: conn.url,
    Serializer: LongSafeSerializer,
    ...auth,
    ...(conn.caFile !== undefined ? { tls: { ca: readFileSync(conn.caFile), rejectUnauthorized: true } } : {}),
  };
}

/** A client for the connection; `tuning` e.g. `{ requestTimeout: 30_000 }` (the client's own default is none). */
export function createEsClient(conn: EsConnection, tuning: EsClientTuning = {}): Client {
  return new Client(esClientOptions(conn, tuning));
}
