/**
 * @pipeline/elasticsearch: the Elasticsearch client as every app creates it (one set of variables and checks,
 * one options builder, the lossless serializer). The documents, mappings and queries stay with each app.
 */
export { LongSafeSerializer } from './serializer';
export { explainEsError } from './explain';
export {
  checkEsAuth,
  createEsClient,
  esClientOptions,
  esConnectionFromEnv,
  esEnv,
  type ClientOptions,
  type EsClientTuning,
  type EsConnection,
  type EsEnv,
} from './client';
